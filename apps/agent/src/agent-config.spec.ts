import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentConfigError, agentConfig, loadAgentConfig } from './agent-config';

/** A self-signed CA certificate (public; its key was thrown away): enough for the agent to read at start. */
const CA_PEM = `-----BEGIN CERTIFICATE-----
MIIBgzCCASmgAwIBAgIUWWcfXEvmO4wltZbh6CivC6GYOe4wCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLZGNtIHNwZWMgQ0EwIBcNMjYxMTIzMTcwMjE1WhgPMjEyNjEw
MzAxNzAyMTVaMBYxFDASBgNVBAMMC2RjbSBzcGVjIENBMFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAEDjJyhekQ2QtbUCxJadOZt/vuubmrO79q14Lwa9mabKSDyozH
JkwwW/PxT8fZx9DDVkTNdMGgqEZLBbwZJoQrCKNTMFEwHQYDVR0OBBYEFJCuer5+
mOimcDHYjz2ThpxNLC0sMB8GA1UdIwQYMBaAFJCuer5+mOimcDHYjz2ThpxNLC0s
MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIhAIYel7e6DBQtkUWh
pbP/wgF/D/elbVKDOzcjQBb3NTFvAiBAPX0Y5Js8H3rNxKOoGgPeewecpCLfA12W
54HFNxPEzQ==
-----END CERTIFICATE-----
`;

describe(agentConfig.name, () => {
  it('applies the documented defaults', () => {
    const sut = agentConfig({ controlUrl: 'http://127.0.0.1:3000' });
    expect(sut).toMatchObject({ dataDir: '/var/lib/dcm-agent', intervalSeconds: 15, storageMounts: ['/'], spool: { maxBytes: 64 * 2 ** 20 }, tenants: {} });
    expect(sut.hostname).toMatch(/^[a-z0-9][a-z0-9._-]*$/);
  });

  it('reads byte sizes with units and tenant mappings', () => {
    const sut = agentConfig({
      controlUrl: 'https://dcm.example:3000',
      spool: { maxBytes: '16MiB' },
      tenants: { torfaen: { mounts: ['/srv/tenants/torfaen'], cgroups: ['/sys/fs/cgroup/tenants.slice/torfaen.slice'] } },
    });
    expect(sut.spool.maxBytes).toBe(16 * 2 ** 20);
    expect(sut.tenants.torfaen).toEqual({ mounts: ['/srv/tenants/torfaen'], cgroups: ['/sys/fs/cgroup/tenants.slice/torfaen.slice'] });
  });

  it('refuses a spool too small to hold an outage, and resolves a relative data directory', () => {
    expect(() => agentConfig({ controlUrl: 'http://127.0.0.1:3000', spool: { maxBytes: '1KiB' } })).toThrow(/spool\.maxBytes: must be at least 64KiB/);
    expect(agentConfig({ controlUrl: 'http://127.0.0.1:3000', dataDir: 'data/agent' }).dataDir).toBe(join(process.cwd(), 'data/agent'));
  });

  it('reads tls.caFile at start, for an https controlUrl only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcm-agent-ca-'));
    writeFileSync(join(dir, 'ca.pem'), CA_PEM);
    writeFileSync(join(dir, 'not-pem.txt'), 'hello');

    expect(agentConfig({ controlUrl: 'https://dcm.example:3000' }).tls).toBeNull();
    expect(agentConfig({ controlUrl: 'https://dcm.example:3000', tls: { caFile: join(dir, 'ca.pem') } }).tls).toEqual({
      caFile: join(dir, 'ca.pem'),
      ca: CA_PEM,
    });
    expect(() => agentConfig({ controlUrl: 'https://dcm.example:3000', tls: { caFile: join(dir, 'missing.pem') } })).toThrow(
      `tls.caFile: cannot use ${join(dir, 'missing.pem')} as CA certificates (PEM): ENOENT`,
    );
    expect(() => agentConfig({ controlUrl: 'https://dcm.example:3000', tls: { caFile: join(dir, 'not-pem.txt') } })).toThrow(/tls\.caFile: .*not-pem\.txt/);
    expect(() => agentConfig({ controlUrl: 'http://dcm.example:3000', tls: { caFile: join(dir, 'ca.pem') } })).toThrow(
      /tls\.caFile: is set, but controlUrl is not https:\/\//,
    );
  });

  it('refuses plain http:// to a control off loopback unless allowInsecureHttp is true', () => {
    for (const controlUrl of ['http://127.0.0.1:3000', 'http://127.8.9.10:3000', 'http://localhost:3000', 'http://[::1]:3000', 'https://dcm.example:3000']) {
      expect(agentConfig({ controlUrl }).allowInsecureHttp).toBe(false);
    }
    for (const controlUrl of [
      'http://dcm.example:3000',
      'http://10.0.0.5:3000',
      'http://[fd00::5]:3000',
      'http://128.0.0.1:3000',
      'http://127.0.0.1.example:3000',
    ]) {
      expect(() => agentConfig({ controlUrl })).toThrow(/controlUrl: is plain http:\/\/ to a host that is not this machine .*allowInsecureHttp: true/);
      expect(agentConfig({ controlUrl, allowInsecureHttp: true }).allowInsecureHttp).toBe(true);
    }
    expect(() => agentConfig({ controlUrl: 'http://127.0.0.1:3000', allowInsecureHttp: 'yes' })).toThrow(/allowInsecureHttp/);
  });

  it('names every bad setting in one error', () => {
    let caught: unknown;
    try {
      agentConfig({
        controlUrl: 'ftp://x',
        intervalSeconds: 0,
        spool: { maxBytes: '-1MiB' },
        storageMounts: ['srv'],
        tenants: { 'Not A Slug': {} },
        colour: 'blue',
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AgentConfigError);
    const problems = (caught as AgentConfigError).problems.join('\n');
    for (const setting of ['controlUrl', 'intervalSeconds', 'spool.maxBytes', 'storageMounts.0', 'tenants', 'colour']) expect(problems).toContain(setting);
  });
});

describe(loadAgentConfig.name, () => {
  it('accepts the shipped example, which documents every setting', () => {
    const sut = loadAgentConfig(join(__dirname, '../../../config/agent.example.yaml'));
    expect(sut).toMatchObject({
      controlUrl: 'http://127.0.0.1:3000',
      intervalSeconds: 15,
      storageMounts: ['/'],
      spool: { maxBytes: 64 * 2 ** 20 },
      logLevel: 'info',
      allowInsecureHttp: false,
    });
  });
});
