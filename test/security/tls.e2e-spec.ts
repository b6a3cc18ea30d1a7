import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ConfigurationError, controlConfig } from '../../apps/control/src/config/control-config';
import { startAgent } from '../support/agent-process';
import { requireBuiltCli, runCli } from '../support/cli';
import { RunningControl, startControl } from '../support/control';
import { eventually } from '../support/eventually';
import { expectStatus } from '../support/facility';
import { makeTestPki, TestPki, trustingOnly } from '../support/tls';

function configurationProblems(settings: Record<string, unknown>): string[] {
  try {
    controlConfig(settings);
  } catch (error) {
    if (error instanceof ConfigurationError) return error.problems;
    throw error;
  }
  throw new Error('the configuration was accepted');
}

describe('TLS: control serves HTTPS; agent and CLI verify it against a CA file', () => {
  let pki: TestPki;
  let control: RunningControl;
  let scratch: string;

  const joinToken = async () => (await expectStatus(trusted().post('/v1/tokens', { kind: 'join', uses: 1 }), 201)).token as string;
  const trusted = () => control.api.through(trustingOnly(pki.ca));
  /** The real agent, reporting every second to control over HTTPS, trusting the CA in caFile. */
  const startTlsAgent = async (hostname: string, caFile: string) => {
    const dataDir = mkdtempSync(join(scratch, 'agent-'));
    const agent = startAgent(dataDir, {
      controlUrl: control.url,
      joinToken: await joinToken(),
      hostname,
      intervalSeconds: 1,
      storageMounts: ['/'],
      tls: { caFile },
    });
    return { dataDir, agent };
  };

  beforeAll(async () => {
    pki = makeTestPki();
    scratch = mkdtempSync(join(tmpdir(), 'dcm-tls-'));
    control = await startControl({ tlsCertFile: pki.certFile, tlsKeyFile: pki.keyFile });
  });

  afterAll(async () => {
    await control?.close();
    rmSync(scratch, { recursive: true, force: true });
    pki?.remove();
  });

  describe('control', () => {
    it('serves the API over HTTPS to a client that trusts its CA', async () => {
      expect(control.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      await expectStatus(trusted().get('/health/live'), 200);
      await expect(expectStatus(trusted().get('/v1/tenants'), 200)).resolves.toEqual([]);
      expect((await trusted().get('/v1/tenants', { token: 'dcm_not-a-real-token' })).status).toBe(401);
    });

    it('fails verification for a client that trusts only the public CAs, or another CA', async () => {
      await expect(control.api.get('/health/live')).rejects.toMatchObject({ cause: { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' } });
      const other = readFileSync(pki.otherCaFile, 'utf8');
      await expect(control.api.through(trustingOnly(other)).get('/health/live')).rejects.toMatchObject({ cause: { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' } });
    });

    it('does not answer plain HTTP on its port', async () => {
      await expect(fetch(`${control.url.replace('https:', 'http:')}/health/live`)).rejects.toThrow();
    });

    it('refuses to start with a certificate and no key, or a key that is not the certificate’s, naming the setting', () => {
      expect(configurationProblems({ tlsCertFile: pki.certFile })).toEqual([
        expect.stringMatching(/^DCM_TLS_KEY_FILE \(tlsKeyFile\): must be set with tlsCertFile/),
      ]);
      expect(configurationProblems({ tlsKeyFile: pki.keyFile })).toEqual([
        expect.stringMatching(/^DCM_TLS_CERT_FILE \(tlsCertFile\): must be set with tlsKeyFile/),
      ]);
      expect(configurationProblems({ tlsCertFile: pki.certFile, tlsKeyFile: join(pki.dir, 'other-ca.key') })).toEqual([
        `DCM_TLS_KEY_FILE (tlsKeyFile): ${join(pki.dir, 'other-ca.key')} is not the private key of the certificate in ${pki.certFile}`,
      ]);
    });

    it('refuses to start with a file it cannot read or that is not PEM, naming the setting', () => {
      expect(configurationProblems({ tlsCertFile: join(pki.dir, 'missing.pem'), tlsKeyFile: pki.certFile })).toEqual([
        `DCM_TLS_CERT_FILE (tlsCertFile): cannot read ${join(pki.dir, 'missing.pem')} (ENOENT)`,
        expect.stringMatching(/^DCM_TLS_KEY_FILE \(tlsKeyFile\): .* is not an unencrypted PEM private key/),
      ]);
      expect(configurationProblems({ tlsCertFile: pki.keyFile, tlsKeyFile: pki.keyFile })).toEqual([
        expect.stringMatching(/^DCM_TLS_CERT_FILE \(tlsCertFile\): .* is not a PEM certificate/),
      ]);
    });
  });

  describe('agent', () => {
    it('with tls.caFile, enrols and delivers its reports over HTTPS', async () => {
      const { dataDir, agent } = await startTlsAgent('tls-host', pki.caFile);
      try {
        const host = await eventually(
          () => `a report from the agent (it said: ${agent.output().slice(-1000)})`,
          async () => {
            const answer = await trusted().get('/v1/hosts/tls-host');
            return answer.status === 200 && answer.body.measurements ? answer.body : undefined;
          },
        );
        expect(host).toMatchObject({ status: 'up', measurements: { seq: expect.any(Number) } });
      } finally {
        await expect(agent.stop()).resolves.toBe(0);
      }
      expect(existsSync(join(dataDir, 'credentials.json'))).toBe(true);
    }, 60_000);

    it('with another CA, sends nothing: says control is not trusted and keeps its reports in the spool', async () => {
      const { dataDir, agent } = await startTlsAgent('untrusting-host', pki.otherCaFile);
      let refusal: Record<string, unknown>;
      try {
        refusal = await eventually(
          () => `the TLS error in the log (the agent said: ${agent.output().slice(-1000)})`,
          () => logLines(agent.output()).find((line) => /TLS certificate is not trusted/.test(String(line.msg))),
        );
      } finally {
        await expect(agent.stop()).resolves.toBe(0);
      }
      expect(refusal).toMatchObject({ level: 50, caFile: pki.otherCaFile, detail: expect.stringContaining('UNABLE_TO_VERIFY_LEAF_SIGNATURE') });
      const stopped = logLines(agent.output()).find((line) => /unsent reports stay in the spool/.test(String(line.msg)));
      expect(stopped?.spooled).toBeGreaterThanOrEqual(1);
      expect(existsSync(join(dataDir, 'credentials.json'))).toBe(false);
      expect((await trusted().get('/v1/hosts/untrusting-host')).status).toBe(404);
    }, 60_000);
  });

  describe('dcm (CLI)', () => {
    let env: Record<string, string>;
    const dcm = (args: string[], extraEnv: Record<string, string> = {}) => runCli(args, { ...env, ...extraEnv });

    beforeAll(() => {
      requireBuiltCli();
      env = { HOME: join(scratch, 'home'), XDG_CONFIG_HOME: join(scratch, 'xdg') };
    });

    it('without the CA, exits 1 saying the certificate is not trusted, and saves no login', async () => {
      const result = await dcm(['login', '--url', control.url, '--token', control.adminToken]);

      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/certificate of dcm control at https:\/\/127\.0\.0\.1:\d+ is not trusted/);
      expect(result.stderr).toContain('--ca-file');
      expect(existsSync(join(scratch, 'xdg', 'dcm', 'config.yaml'))).toBe(false);
    });

    it('logs in with --ca-file, saves the CA path, and every command verifies against it', async () => {
      const login = await dcm(['login', '--url', control.url, '--token', control.adminToken, '--ca-file', pki.caFile]);
      expect(login).toMatchObject({ code: 0, stderr: '' });
      expect(parse(readFileSync(join(scratch, 'xdg', 'dcm', 'config.yaml'), 'utf8'))).toEqual({
        url: control.url,
        token: control.adminToken,
        caFile: pki.caFile,
      });

      const list = await dcm(['tenants', 'list', '-o', 'json']);
      expect(list).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(list.stdout)).toEqual([]);
    });

    it('lets DCM_CA_FILE override the saved CA', async () => {
      const result = await dcm(['tenants', 'list', '-o', 'json'], { DCM_CA_FILE: pki.otherCaFile });

      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `is not trusted: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE), checked against the CA in ${pki.otherCaFile}`,
      );
      expect(result.stdout).toBe('');
    });

    it('refuses a CA file it cannot read, and --ca-file with a plain http URL, as usage errors', async () => {
      const missing = await dcm(['tenants', 'list'], { DCM_CA_FILE: join(pki.dir, 'missing.pem') });
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain(`cannot read the CA file ${join(pki.dir, 'missing.pem')} (ENOENT)`);

      const plain = await dcm(['login', '--url', 'http://127.0.0.1:1', '--token', control.adminToken, '--ca-file', pki.caFile]);
      expect(plain.code).toBe(2);
      expect(plain.stderr).toContain('--ca-file is for an https:// URL');
    });
  });
});

/** The agent's JSON log lines (pino), skipping anything else it printed. */
function logLines(output: string): Record<string, unknown>[] {
  return output.split('\n').flatMap((line) => {
    try {
      const parsed = JSON.parse(line) as unknown;
      return parsed !== null && typeof parsed === 'object' ? [parsed as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}
