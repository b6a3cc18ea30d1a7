import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { requireBuiltCli, runCli } from './support/cli';
import { RunningControl, startControl } from './support/control';

const GiB = 2 ** 30;

describe('dcm (CLI)', () => {
  let control: RunningControl;
  let scratch: string;
  let env: Record<string, string>;
  let configFile: string;
  const dcm = (...args: string[]) => runCli(args, env);

  beforeAll(async () => {
    requireBuiltCli();
    control = await startControl();
    scratch = mkdtempSync(join(tmpdir(), 'dcm-cli-'));
    env = { HOME: join(scratch, 'home'), XDG_CONFIG_HOME: join(scratch, 'xdg') };
    configFile = join(scratch, 'xdg', 'dcm', 'config.yaml');
    const host = await control.api.post('/v1/hosts', {
      name: 'blv-c01',
      site: 'blaenavon-hall-a',
      inventories: { vcpu: { total: 64, reserved: 4 }, memory: { total: '512GiB', reserved: '16GiB' }, storage: { total: '20TiB' } },
    });
    expect(host.status).toBe(201);
  });

  afterAll(async () => {
    await control?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('refuses a bad token at login, saving nothing', async () => {
    const result = await dcm('login', '--url', control.url, '--token', 'dcm_not-a-real-token');

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('refused the token');
    expect(existsSync(configFile)).toBe(false);
  });

  it('logs in: checks the token and saves it where only its owner can read it', async () => {
    const result = await dcm('login', '--url', `${control.url}/`, '--token', control.adminToken);

    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(scratch, 'xdg', 'dcm')).mode & 0o777).toBe(0o700);
    expect(parse(readFileSync(configFile, 'utf8'))).toEqual({ url: control.url, token: control.adminToken });
  });

  it('saves under ~/.config without XDG_CONFIG_HOME, reading the token from stdin', async () => {
    const home = join(scratch, 'other-home');

    const result = await runCli(['login', '--url', control.url], { HOME: home }, `${control.adminToken}\n`);

    expect(result.code).toBe(0);
    expect(statSync(join(home, '.config', 'dcm', 'config.yaml')).mode & 0o777).toBe(0o600);
  });

  it('onboards a tenant and sets its quotas, keeping the limits of classes not named', async () => {
    const created = await dcm('tenants', 'create', 'torfaen', '--name', 'Torfaen County Borough Council', '--contact', 'ict@torfaen.gov.uk');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('Torfaen County Borough Council');

    expect((await dcm('quotas', 'set', 'torfaen', 'vcpu=64', 'memory=256GiB')).code).toBe(0);
    const storage = await dcm('quotas', 'set', 'torfaen', 'storage=20TiB', '-o', 'json');

    expect(storage.code).toBe(0);
    const { quotas } = JSON.parse(storage.stdout);
    expect(quotas.vcpu.limit).toBe(64);
    expect(quotas.memory.limit).toBe(256 * GiB);
    expect(quotas.storage.limit).toBe(20 * 1024 * GiB);
  });

  it('lists tenants as JSON for scripts and as a table with IEC units for people', async () => {
    const json = await dcm('tenants', 'list', '-o', 'json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ slug: 'torfaen', name: 'Torfaen County Borough Council', state: 'active' })]);

    const yaml = await dcm('tenants', 'show', 'torfaen', '-o', 'yaml');
    expect(parse(yaml.stdout)).toMatchObject({ slug: 'torfaen', contact: 'ict@torfaen.gov.uk' });

    const table = await dcm('quotas', 'show', 'torfaen');
    expect(table.stdout.split('\n')[0]).toMatch(/^RESOURCE\s+LIMIT\s+ALLOCATED\s+USED\s+AVAILABLE\s+STATE$/);
    expect(table.stdout).toMatch(/^memory\s+256 GiB\s+0 B\s+-\s+256 GiB\s+ok$/m);
  });

  it('lists hosts with their capacity', async () => {
    const result = await dcm('hosts', 'list', '-o', 'json');

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      expect.objectContaining({ name: 'blv-c01', inventories: expect.objectContaining({ vcpu: expect.objectContaining({ capacity: 240 }) }) }),
    ]);
    expect((await dcm('hosts', 'list')).stdout).toMatch(
      /^blv-c01\s+blaenavon-hall-a\s+-\s+up\s+yes\s+operator\s+OFFICIAL\s+0\/240\s+0 B\/496 GiB\s+0 B\/20 TiB/m,
    );
  });

  it('places an allocation and releases it', async () => {
    const created = await dcm('allocations', 'create', '--tenant', 'torfaen', 'vcpu=8', 'memory=32GiB', '--description', 'Revenues', '-o', 'json');
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const allocation = JSON.parse(created.stdout);
    expect(allocation).toMatchObject({ tenant: 'torfaen', host: 'blv-c01', status: 'active', resources: { vcpu: 8, memory: 32 * GiB } });

    const listed = await dcm('allocations', 'list', '--tenant', 'torfaen');
    expect(listed.stdout).toContain(allocation.id);
    expect(listed.stdout).toContain('memory=32GiB vcpu=8');

    const released = await dcm('allocations', 'release', allocation.id, '-o', 'json');
    expect(released.code).toBe(0);
    expect(JSON.parse(released.stdout)).toMatchObject({ id: allocation.id, status: 'released' });
    await expect(control.api.get('/v1/allocations?tenant=torfaen')).resolves.toMatchObject({ status: 200, body: [] });
  });

  it('exits 1 with the reason on stderr when control refuses an allocation', async () => {
    const result = await dcm('allocations', 'create', '--tenant', 'torfaen', 'vcpu=65');

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('(QuotaExceeded)');
    expect(result.stderr).toContain('vcpu');
    await expect(control.api.get('/v1/allocations?tenant=torfaen')).resolves.toMatchObject({ body: [] });
  });

  it('exits 1 with the problem detail for a missing tenant', async () => {
    const result = await dcm('tenants', 'show', 'nowhere');

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/nowhere.*\(NotFound\)/);
  });

  it('exits 2 on usage errors without calling control', async () => {
    await expect(dcm('allocations', 'create', 'vcpu=8')).resolves.toMatchObject({ code: 2 });
    await expect(dcm('allocations', 'create', '--tenant', 'torfaen', 'vcpu=lots')).resolves.toMatchObject({ code: 2 });
    await expect(dcm('tenants', 'list', '-o', 'xml')).resolves.toMatchObject({ code: 2 });
    await expect(dcm('tenants', 'frobnicate')).resolves.toMatchObject({ code: 2 });
  });

  it('shows help with examples for every command', async () => {
    for (const command of [
      [],
      ['login'],
      ['tenants', 'create'],
      ['quotas', 'set'],
      ['allocations', 'create'],
      ['capacity'],
      ['forecast'],
      ['tokens', 'create'],
    ]) {
      const result = await dcm(...command, '--help');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Examples:');
    }
  });

  it('lets DCM_URL and DCM_TOKEN win over the saved login', async () => {
    const withoutLogin = { HOME: join(scratch, 'nobody'), DCM_URL: control.url, DCM_TOKEN: control.adminToken };
    await expect(runCli(['capacity', '-o', 'json'], withoutLogin)).resolves.toMatchObject({ code: 0 });

    const badToken = await runCli(['tenants', 'list'], { ...env, DCM_TOKEN: 'dcm_revoked' });
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toContain('(Unauthenticated)');
  });

  it('issues, lists and revokes tokens', async () => {
    const issued = await dcm('tokens', 'create', '--role', 'viewer', '--name', 'Grafana', '-o', 'json');
    expect(issued.code).toBe(0);
    const { id, token } = JSON.parse(issued.stdout);

    await expect(runCli(['capacity'], { HOME: scratch, DCM_URL: control.url, DCM_TOKEN: token })).resolves.toMatchObject({ code: 0 });
    expect((await dcm('tokens', 'list')).stdout).toMatch(new RegExp(`^${id}\\s+api\\s+viewer`, 'm'));
    expect((await dcm('tokens', 'revoke', id)).code).toBe(0);
    await expect(runCli(['capacity'], { HOME: scratch, DCM_URL: control.url, DCM_TOKEN: token })).resolves.toMatchObject({ code: 1 });
  });

  it('logs out, after which commands ask for a login', async () => {
    expect((await dcm('logout')).code).toBe(0);
    expect(existsSync(configFile)).toBe(false);

    const result = await dcm('tenants', 'list');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('not logged in');
  });
});
