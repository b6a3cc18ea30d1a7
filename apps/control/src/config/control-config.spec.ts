import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationError, controlConfig, loadControlConfig } from './control-config';

const AUDIT_SECRET = 'q1bM0p6Jc8vS5o0n6vQ2l2Jx0Vb1S4fK7yN3tWc9ZrE=';
const OLDER_SECRET = 'Xw3c0Jk9Lp2Qr5St8Uv1Wx4Yz7Ab0Cd3Ef6Gh9Ij2Kl=';

describe(loadControlConfig.name, () => {
  const yamlFile = (text: string) => {
    const path = join(mkdtempSync(join(tmpdir(), 'dcm-config-')), 'dcm.yaml');
    writeFileSync(path, text);
    return path;
  };

  it('applies the documented defaults', () => {
    const sut = loadControlConfig({});
    expect(sut).toMatchObject({
      host: '127.0.0.1',
      port: 3000,
      dataDir: './data',
      databaseUrl: 'sqlite:data/dcm.sqlite',
      reportIntervalSeconds: 15,
      reportMaxAheadSeconds: 120,
      reportMaxBehindSeconds: 7 * 86_400,
      logLevel: 'info',
      placementStrategy: 'spread',
    });
    expect(sut.adminToken).toBeUndefined();
  });

  it('reads the YAML file named by DCM_CONFIG and lets environment variables win', () => {
    const path = yamlFile('port: 4000\nlogLevel: debug\ndataDir: /var/lib/dcm\n');
    const sut = loadControlConfig({ DCM_CONFIG: path, DCM_PORT: '5000' });
    expect(sut.port).toBe(5000);
    expect(sut.logLevel).toBe('debug');
    expect(sut.databaseUrl).toBe('sqlite:/var/lib/dcm/dcm.sqlite');
  });

  it('accepts a PostgreSQL URL with the audit key every replica shares', () => {
    expect(loadControlConfig({ DCM_DATABASE_URL: 'postgres://dcm@db:5432/dcm', DCM_AUDIT_KEY: AUDIT_SECRET }).databaseUrl).toBe('postgres://dcm@db:5432/dcm');
  });

  it('refuses PostgreSQL without DCM_AUDIT_KEY', () => {
    expect(() => loadControlConfig({ DCM_DATABASE_URL: 'postgres://dcm@db:5432/dcm' })).toThrow(/DCM_AUDIT_KEY \(auditKey\): is required with PostgreSQL/);
  });

  it('reads the audit key and the keyring of older ones, with ids given or derived from the secret', () => {
    const sut = loadControlConfig({ DCM_AUDIT_KEY: `2026b:${AUDIT_SECRET}`, DCM_AUDIT_KEYRING: `${OLDER_SECRET}, 2025:${'ab'.repeat(32)}` });
    expect(sut.auditKey).toEqual({ id: '2026b', secret: AUDIT_SECRET });
    expect(sut.auditKeyring).toEqual([
      { id: expect.stringMatching(/^[0-9a-f]{12}$/), secret: OLDER_SECRET },
      { id: '2025', secret: 'ab'.repeat(32) },
    ]);
    expect(loadControlConfig({ DCM_AUDIT_KEY: OLDER_SECRET }).auditKey?.id).toBe(sut.auditKeyring[0].id);
  });

  it('refuses a short audit key, a bad key id and a key id used twice, without echoing the secret', () => {
    const run = () => loadControlConfig({ DCM_AUDIT_KEY: 'a:short-secret', DCM_AUDIT_KEYRING: `bad!:${OLDER_SECRET} a:${OLDER_SECRET}` });
    expect(run).toThrow(/DCM_AUDIT_KEY \(auditKey\): must be \[<id>:\]<secret>, the secret at least 32 random bytes/);
    expect(run).toThrow(/DCM_AUDIT_KEYRING \(auditKeyring.0\): the key id/);
    expect(run).not.toThrow(/short-secret/);
    expect(() => loadControlConfig({ DCM_AUDIT_KEY: `a:${AUDIT_SECRET}`, DCM_AUDIT_KEYRING: `a:${OLDER_SECRET}` })).toThrow(
      /DCM_AUDIT_KEYRING \(auditKeyring\): names a key id twice/,
    );
  });

  it('names every bad setting in one error', () => {
    const path = yamlFile('reportIntervalSeconds: 0\nnoSuchSetting: 1\n');
    let caught: unknown;
    try {
      loadControlConfig({ DCM_CONFIG: path, DCM_PORT: 'eighty', DCM_LOG_LEVEL: 'loud', DCM_DATABASE_URL: 'mysql://x', DCM_ADMIN_TOKEN: 'short' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigurationError);
    const problems = (caught as ConfigurationError).problems.join('\n');
    for (const expected of [
      'DCM_PORT (port)',
      'DCM_LOG_LEVEL (logLevel)',
      'DCM_DATABASE_URL (databaseUrl)',
      'DCM_ADMIN_TOKEN (adminToken)',
      'DCM_REPORT_INTERVAL_S (reportIntervalSeconds)',
      'noSuchSetting',
    ]) {
      expect(problems).toContain(expected);
    }
    expect((caught as ConfigurationError).problems).toHaveLength(6);
  });

  it('reads the report time window and names both of its bad settings', () => {
    expect(loadControlConfig({ DCM_REPORT_MAX_AHEAD_S: '30', DCM_REPORT_MAX_BEHIND_S: '3600' })).toMatchObject({
      reportMaxAheadSeconds: 30,
      reportMaxBehindSeconds: 3600,
    });
    expect(() => loadControlConfig({ DCM_REPORT_MAX_AHEAD_S: '-1', DCM_REPORT_MAX_BEHIND_S: 'a week' })).toThrow(
      /DCM_REPORT_MAX_AHEAD_S \(reportMaxAheadSeconds\)[\s\S]*DCM_REPORT_MAX_BEHIND_S \(reportMaxBehindSeconds\)/,
    );
  });

  it('reads the console session key and length, and refuses a short key without echoing it', () => {
    const sut = loadControlConfig({ DCM_CONSOLE_SESSION_KEY: 'k'.repeat(32), DCM_CONSOLE_SESSION_HOURS: '12' });
    expect(sut).toMatchObject({ consoleSessionKey: 'k'.repeat(32), consoleSessionHours: 12 });
    expect(loadControlConfig({}).consoleSessionHours).toBe(8);
    const refused = () => loadControlConfig({ DCM_CONSOLE_SESSION_KEY: 'short-secret', DCM_CONSOLE_SESSION_HOURS: '25' });
    expect(refused).toThrow(/DCM_CONSOLE_SESSION_KEY \(consoleSessionKey\): must be at least 32 characters/);
    expect(refused).toThrow(/DCM_CONSOLE_SESSION_HOURS \(consoleSessionHours\)/);
    expect(refused).not.toThrow(/short-secret/);
  });

  it('reports a YAML file that cannot be read', () => {
    expect(() => loadControlConfig({ DCM_CONFIG: '/nonexistent/dcm.yaml' })).toThrow(/DCM_CONFIG \(\/nonexistent\/dcm.yaml\)/);
  });

  it('validates settings given directly', () => {
    expect(() => controlConfig({ port: 70000 })).toThrow(ConfigurationError);
  });

  it('names DCM_WEBHOOK_URL when its user:password@ is not valid percent-encoding, and never shows the password', () => {
    let caught: unknown;
    try {
      loadControlConfig({ DCM_WEBHOOK_URL: 'https://hooks:s3cret%zz@hooks.example.org/dcm', DCM_PORT: '70000' });
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(ConfigurationError);
    expect((caught as ConfigurationError).problems).toEqual([
      expect.stringMatching(/^DCM_PORT \(port\): /),
      'DCM_WEBHOOK_URL (webhookUrl): its user:password@ is not valid percent-encoding (write a % in them as %25)',
    ]);
    expect(loadControlConfig({ DCM_WEBHOOK_URL: 'https://hooks:s3cret%25zz@hooks.example.org/dcm' }).webhookAuthorization).toBe(
      `Basic ${Buffer.from('hooks:s3cret%zz').toString('base64')}`,
    );
  });

  it('reads showback prices from the YAML file: a currency and a price per unit-hour of each class', () => {
    const path = yamlFile('showbackPrices:\n  currency: GBP\n  vcpu: 0.02\n  memory: 0.005\n  custom_gpu: 1.5\n');
    expect(loadControlConfig({ DCM_CONFIG: path }).showbackPrices).toEqual({ currency: 'GBP', perUnitHour: { vcpu: 0.02, memory: 0.005, custom_gpu: 1.5 } });
    expect(loadControlConfig({}).showbackPrices).toBeUndefined();
  });

  it('names every bad showback price', () => {
    let caught: unknown;
    try {
      controlConfig({ showbackPrices: { currency: 'pounds', vcpu: -1, memory: 'cheap' } });
    } catch (error) {
      caught = error;
    }
    expect((caught as ConfigurationError).problems).toEqual([
      expect.stringMatching(/^showbackPrices\.currency: must be an ISO 4217 currency code/),
      expect.stringMatching(/^showbackPrices\.vcpu: /),
      expect.stringMatching(/^showbackPrices\.memory: must be a price per unit-hour/),
    ]);
    expect(() => controlConfig({ showbackPrices: { currency: 'GBP', cpu: 0.02 } })).toThrow(/showbackPrices\.cpu: is not a resource class/);
    expect(() => controlConfig({ showbackPrices: { currency: 'GBP' } })).toThrow(/showbackPrices: must price at least one resource class/);
    expect(() => controlConfig({ showbackPrices: { vcpu: 0.02 } })).toThrow(/showbackPrices\.currency: is required/);
  });
});

describe('trustedProxies', () => {
  it('takes a comma-separated DCM_TRUSTED_PROXIES of addresses and CIDRs, and names every bad entry', () => {
    expect(loadControlConfig({ DCM_TRUSTED_PROXIES: '10.0.0.5, 10.0.1.0/24,::1' }).trustedProxies).toEqual(['10.0.0.5', '10.0.1.0/24', '::1']);
    expect(() => loadControlConfig({ DCM_TRUSTED_PROXIES: '10.0.0.5,haproxy.local' })).toThrow(
      /DCM_TRUSTED_PROXIES \(trustedProxies\.1\): haproxy\.local is not an IP address or CIDR/,
    );
  });
});

describe('config/dcm.example.yaml', () => {
  it('is a valid configuration that states the defaults', () => {
    const sut = loadControlConfig({ DCM_CONFIG: join(__dirname, '../../../../config/dcm.example.yaml') });
    expect(sut).toEqual(loadControlConfig({}));
  });
});
