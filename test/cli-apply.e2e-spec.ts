import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { BUILT_CLI, requireBuiltCli, runCli } from './support/cli';
import { RunningControl, startControl } from './support/control';

const GiB = 2 ** 30;
const TiB = 2 ** 40;
const BLAENAVON = join(__dirname, '..', 'config', 'facilities', 'blaenavon.yaml');

interface FacilityDocument {
  tenants: { slug: string; quotas?: Record<string, number | string> }[];
  hosts: { name: string; inventories?: Record<string, Record<string, number | string>> }[];
}

describe('dcm apply -f (CLI)', () => {
  let control: RunningControl;
  let scratch: string;
  let env: Record<string, string>;
  const dcm = (...args: string[]) => runCli(args, env);
  const facility = () => parse(readFileSync(BLAENAVON, 'utf8')) as FacilityDocument;
  const writeFacility = (name: string, document: unknown) => {
    const path = join(scratch, name);
    writeFileSync(path, typeof document === 'string' ? document : stringify(document));
    return path;
  };

  beforeAll(async () => {
    requireBuiltCli();
    control = await startControl();
    scratch = mkdtempSync(join(tmpdir(), 'dcm-apply-'));
    env = { HOME: join(scratch, 'home'), XDG_CONFIG_HOME: join(scratch, 'xdg') };
    expect((await dcm('login', '--url', control.url, '--token', control.adminToken)).code).toBe(0);
  });

  afterAll(async () => {
    await control?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('refuses a file with errors, naming every problem by its path, and changes nothing', async () => {
    const broken = facility();
    broken.hosts[3].inventories!.memory.total = '1 TeraByte';
    broken.hosts[0].inventories!.vcpu.reserved = 200;
    broken.tenants[1].quotas!.gpu = 4;
    (broken.tenants[0] as Record<string, unknown>).colour = 'blue';
    const path = writeFacility('broken.yaml', broken);

    const result = await dcm('apply', '-f', path);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('4 problems, nothing was changed');
    expect(result.stderr).toContain('hosts[3].inventories.memory.total: ');
    expect(result.stderr).toContain('hosts[0].inventories.vcpu.reserved: must not exceed total');
    expect(result.stderr).toContain('tenants[1].quotas.gpu: ');
    expect(result.stderr).toContain('tenants[0].colour: is not a known field');
    expect((await control.api.get('/v1/tenants')).body).toEqual([]);
    expect((await control.api.get('/v1/hosts')).body).toEqual([]);
  });

  it('prints the plan with --dry-run and changes nothing', async () => {
    const result = await dcm('apply', '-f', BLAENAVON, '--dry-run');

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('+ create tenant torfaen: name "Torfaen County Borough Council"');
    expect(result.stdout).toContain('+ create tenant gwent-police');
    expect(result.stdout).toContain('+ create host blv-p01: site blv-hall-b; rack b-cage1; OFFICIAL-SENSITIVE; dedicated to gwent-police');
    expect(result.stdout).toContain('26 to create, 0 to update, 0 to delete (dry run: nothing was changed)');
    expect((await control.api.get('/v1/tenants')).body).toEqual([]);
    expect((await control.api.get('/v1/hosts')).body).toEqual([]);
  });

  it('applies the Blaenavon facility: every tenant, quota, host and inventory', async () => {
    const result = await dcm('apply', '-f', BLAENAVON);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('26 created, 0 updated, 0 deleted');
    expect(result.stderr).toContain('[1/26] create tenant torfaen');
    expect(result.stderr).toContain('[26/26] create host blv-p04');

    const tenants = (await control.api.get('/v1/tenants')).body as { slug: string }[];
    expect(tenants.map((tenant) => tenant.slug).sort()).toEqual(
      facility()
        .tenants.map((tenant) => tenant.slug)
        .sort(),
    );
    const police = await control.api.get('/v1/tenants/gwent-police');
    expect(police.body).toMatchObject({ name: 'Gwent Police', isolation: 'dedicated', classification: 'OFFICIAL-SENSITIVE', state: 'active' });
    const quotas = (await control.api.get('/v1/tenants/torfaen/quotas')).body.quotas;
    expect(quotas.vcpu.limit).toBe(1024);
    expect(quotas.memory.limit).toBe(4 * TiB);
    expect(quotas.storage.limit).toBe(300 * TiB);
    expect((await control.api.get('/v1/tenants/gwent-police/quotas')).body.quotas.storage.limit).toBe(100e12);

    const hosts = (await control.api.get('/v1/hosts')).body as { name: string }[];
    expect(hosts).toHaveLength(facility().hosts.length);
    const c01 = (await control.api.get('/v1/hosts/blv-c01')).body;
    // Registered by an operator: its inventory stands whatever its agent measures, and it is placeable at once.
    expect(c01).toMatchObject({ site: 'blv-hall-a', rack: 'a01', accreditation: 'OFFICIAL', dedicatedTenant: null, origin: 'operator', accepted: true });
    expect(c01.inventories.vcpu).toMatchObject({ total: 128, reserved: 4, allocationRatio: 4, capacity: 496 });
    expect(c01.inventories.memory).toMatchObject({ total: 1 * TiB, reserved: 32 * GiB, capacity: 992 * GiB });
    expect(c01.inventories.storage).toMatchObject({ total: 7.68e12, reserved: 200e9 });
    const p01 = (await control.api.get('/v1/hosts/blv-p01')).body;
    expect(p01).toMatchObject({ site: 'blv-hall-b', accreditation: 'OFFICIAL-SENSITIVE', dedicatedTenant: 'gwent-police' });
    expect((await control.api.get('/v1/hosts/blv-s01')).body.inventories.storage).toMatchObject({ total: 384e12, reserved: 20e12, minUnit: 100 * GiB });
  });

  it('is idempotent: a second apply has nothing to change and writes nothing', async () => {
    const before = [(await control.api.get('/v1/tenants/torfaen')).body.updatedAt, (await control.api.get('/v1/hosts/blv-c01')).body.updatedAt];

    const result = await dcm('apply', '-f', BLAENAVON);

    expect(result).toMatchObject({ code: 0, stdout: 'nothing to change\n' });
    const after = [(await control.api.get('/v1/tenants/torfaen')).body.updatedAt, (await control.api.get('/v1/hosts/blv-c01')).body.updatedAt];
    expect(after).toEqual(before);
  });

  it('updates only what differs: one quota and one inventory', async () => {
    const changed = facility();
    changed.tenants.find((tenant) => tenant.slug === 'monmouthshire')!.quotas!.memory = '3584GiB';
    changed.hosts.find((host) => host.name === 'blv-c02')!.inventories!.memory.reserved = '64GiB';
    const path = writeFacility('changed.yaml', changed);

    const dryRun = await dcm('apply', '-f', path, '--dry-run');
    expect(dryRun.stdout).toContain('~ update tenant monmouthshire: quota memory 3 TiB → 3.5 TiB');
    expect(dryRun.stdout).toContain('~ update host blv-c02: memory.reserved 32 GiB → 64 GiB');
    expect(dryRun.stdout).toContain('0 to create, 2 to update, 0 to delete');

    const result = await dcm('apply', '-f', path);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('0 created, 2 updated, 0 deleted');
    expect((await control.api.get('/v1/tenants/monmouthshire/quotas')).body.quotas.memory.limit).toBe(3584 * GiB);
    expect((await control.api.get('/v1/hosts/blv-c02')).body.inventories.memory.reserved).toBe(64 * GiB);
    expect((await dcm('apply', '-f', path)).stdout).toBe('nothing to change\n');

    // The audit log has the quota as it was before, not the new limit twice.
    const [quotaChange] = (await control.api.get('/v1/audit?subject=monmouthshire&action=quota.set&limit=1')).body;
    expect(quotaChange.before.memory).toBe(3 * TiB);
    expect(quotaChange.after.memory).toBe(3584 * GiB);
    await expect(control.api.get('/v1/audit/verify')).resolves.toMatchObject({ body: { intact: true, continuous: true } });
  });

  it('draws a progress bar on a terminal, and prints what it did after it', async () => {
    const changed = facility();
    changed.tenants.find((tenant) => tenant.slug === 'monmouthshire')!.quotas!.memory = '3GiB';
    changed.hosts.find((host) => host.name === 'blv-c02')!.inventories!.memory.reserved = '16GiB';
    const path = writeFacility('terminal.yaml', changed);
    // util-linux script(1) gives the CLI a pseudo-terminal, as an operator's shell would.
    const command = [process.execPath, BUILT_CLI, 'apply', '-f', path].map((part) => `'${part}'`).join(' ');
    // Asynchronously: control serves from this very process.
    const result = await new Promise<{ status: number | null; stdout: string }>((resolve, reject) => {
      const child = spawn('script', ['-qefc', command, '/dev/null'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
      let stdout = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout }));
    });

    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/█+ 2\/2 done/);
    expect(result.stdout).not.toContain('[1/2]');
    const bar = result.stdout.lastIndexOf('2/2 done');
    expect(result.stdout.indexOf('~ update tenant monmouthshire')).toBeGreaterThan(bar);
    expect(result.stdout).toContain('0 created, 2 updated, 0 deleted');
  });

  it('prunes only with --prune, and reports hosts control will not decommission', async () => {
    const allocation = await control.api.post('/v1/allocations', { tenant: 'torfaen', host: 'blv-c08', resources: { vcpu: 8, memory: '32GiB' } });
    expect(allocation.status).toBe(201);
    const smaller = facility();
    smaller.hosts = smaller.hosts.filter((host) => !['blv-c07', 'blv-c08'].includes(host.name));
    smaller.tenants = smaller.tenants.filter((tenant) => tenant.slug !== 'valleys-data-ltd');
    const path = writeFacility('smaller.yaml', smaller);

    const withoutPrune = await dcm('apply', '-f', path);
    expect(withoutPrune.code).toBe(0);
    expect(withoutPrune.stdout).toContain('0 deleted');
    expect(withoutPrune.stdout).not.toContain('decommission');

    const result = await dcm('apply', '-f', path, '--prune');

    expect(result.code).toBe(1);
    expect(result.stdout).toContain('- decommission host blv-c07');
    expect(result.stderr).toMatch(/dcm: decommission host blv-c08: .*\(Conflict\)/);
    expect(result.stdout).toContain('- offboard tenant valleys-data-ltd');
    expect(result.stdout).toContain('0 created, 0 updated, 2 deleted');
    expect(result.stderr).toContain('1 of 3 changes failed: decommission host blv-c08');
    expect((await control.api.get('/v1/tenants/valleys-data-ltd')).body.state).toBe('offboarded');
    const names = ((await control.api.get('/v1/hosts')).body as { name: string }[]).map((host) => host.name);
    expect(names).not.toContain('blv-c07');
    expect(names).toContain('blv-c08');
    // an offboarded tenant is not offboarded again; the host still allocated is tried again
    expect((await dcm('apply', '-f', path, '--prune', '--dry-run')).stdout).toBe(
      '- decommission host blv-c08: not in the file (site blv-hall-a)\n0 to create, 0 to update, 1 to delete (dry run: nothing was changed)\n',
    );
  });
});
