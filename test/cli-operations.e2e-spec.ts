import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawQuery } from '@dcm/persistence';
import { DataSource } from 'typeorm';
import { parse } from 'yaml';
import { Clock } from '../apps/control/src/common/clock';
import { requireBuiltCli, runCli } from './support/cli';
import { RunningControl, startControl } from './support/control';
import { createHost, createTenant, expectStatus, hostFacts, setQuotas } from './support/facility';
import { aReport } from './support/reports';
import { setControlClock } from './support/clock';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const at = (iso: string) => Date.parse(iso);

/** The operators' commands beyond the basics, run as the built binary against a real control. */
describe('dcm (CLI): hosts, reports, grants and audit', () => {
  let control: RunningControl;
  let dataSource: DataSource;
  /** Control's clock: fixed while the reports are set up and read, the real time otherwise. */
  let now: number | null = at('2026-10-01T00:00:00Z');
  let allocationId: string;
  let scratch: string;
  const dcm = (...args: string[]) => runCli(args, { HOME: '/nonexistent', DCM_URL: control.url, DCM_TOKEN: control.adminToken });
  const json = async (...args: string[]) => {
    const result = await dcm(...args, '-o', 'json');
    if (result.code !== 0) throw new Error(`dcm ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return JSON.parse(result.stdout);
  };

  beforeAll(async () => {
    requireBuiltCli();
    scratch = mkdtempSync(join(tmpdir(), 'dcm-cli-ops-'));
    control = await startControl({ showbackPrices: { currency: 'GBP', vcpu: 0.02, memory: 0.005 } });
    setControlClock(control.app, () => now ?? Date.now());
    dataSource = control.app.get(DataSource);
    const { api } = control;
    await createHost(api, 'blv-r01', { vcpu: { total: 64 }, memory: { total: '256GiB' }, storage: { total: '10TiB' } });
    await createTenant(api, 'torfaen');
    await setQuotas(api, 'torfaen', { vcpu: 64, memory: '100GiB' });
    // Active from the first of October: 744 hours of it by November.
    allocationId = (await expectStatus(api.post('/v1/allocations', { tenant: 'torfaen', resources: { vcpu: 4, memory: '16GiB' }, host: 'blv-r01' }), 201)).id;
    now = at('2026-11-03T00:00:00Z');
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await control?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  describe('hosts', () => {
    it('registers a host with its inventories, rack and labels', async () => {
      const host = await json(
        'hosts',
        'create',
        'blv-c01',
        '--site',
        'hall-a',
        '--rack',
        'a03',
        '--label',
        'model=R760',
        'vcpu=64',
        'memory=512GiB',
        'storage=20TiB',
      );

      expect(host).toMatchObject({ name: 'blv-c01', site: 'hall-a', rack: 'a03', labels: { model: 'R760' }, status: 'up', accreditation: 'OFFICIAL' });
      expect(host.inventories.memory).toMatchObject({ total: 512 * GiB, capacity: 512 * GiB });
      expect(host.inventories.vcpu).toMatchObject({ total: 64, allocationRatio: 4, capacity: 256 });
      expect((await dcm('hosts', 'show', 'blv-c01')).stdout).toMatch(/^storage\s+20 TiB\s+-\s+0 B\s+1\s+20 TiB\s+0 B\s+20 TiB\s+-\s+-\s+-$/m);
    });

    it('changes a host: maintenance, labels merged and removed, rack forgotten', async () => {
      const result = await dcm('hosts', 'update', 'blv-c01', '--status', 'maintenance', '--label', 'owner=srs', '--unlabel', 'model', '--no-rack');

      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(/^Status:\s+maintenance$/m);
      expect(result.stdout).toMatch(/^Rack:\s+-$/m);
      expect(result.stdout).toMatch(/^Labels:\s+owner=srs$/m);
      await expect(json('hosts', 'update', 'blv-c01', '--status', 'up', '--label', 'model=R770')).resolves.toMatchObject({
        status: 'up',
        rack: null,
        labels: { owner: 'srs', model: 'R770' },
      });
    });

    it('sets one figure of an inventory, keeping the others', async () => {
      const memory = await dcm('hosts', 'set-inventory', 'blv-c01', 'memory', '--reserved', '16GiB');
      expect(memory.code).toBe(0);
      expect(memory.stdout).toMatch(/^memory\s+512 GiB\s+-\s+16 GiB\s+1\s+496 GiB\s+0 B\s+496 GiB\s+-\s+-\s+-$/m);

      const vcpu = await json('hosts', 'set-inventory', 'blv-c01', 'vcpu', '--ratio', '2', '--max-unit', '16');
      expect(vcpu.inventories.vcpu).toMatchObject({ total: 64, reserved: 0, allocationRatio: 2, capacity: 128, maxUnit: 16 });
      expect(vcpu.inventories.memory).toMatchObject({ reserved: 16 * GiB });

      // The table shows the per-allocation bounds too, so that a change to them can be seen to work.
      const bounded = await dcm('hosts', 'set-inventory', 'blv-c01', 'memory', '--min-unit', '1GiB', '--step-size', '512MiB');
      expect(bounded.stdout).toMatch(/\sMIN UNIT\s+MAX UNIT\s+STEP SIZE$/m);
      expect(bounded.stdout).toMatch(/^memory\s+512 GiB\s+-\s+16 GiB\s+1\s+496 GiB\s+0 B\s+496 GiB\s+1 GiB\s+-\s+512 MiB$/m);
      expect((await dcm('hosts', 'show', 'blv-c01')).stdout).toMatch(/^vcpu\s+64\s+-\s+0\s+2\s+128\s+0\s+128\s+-\s+16\s+-$/m);

      const cleared = await json('hosts', 'set-inventory', 'blv-c01', 'vcpu', '--max-unit', 'none');
      expect(cleared.inventories.vcpu).toMatchObject({ allocationRatio: 2, maxUnit: null });
    });

    it('refuses an inventory change that says nothing, or a new class without a total, before calling control', async () => {
      await expect(dcm('hosts', 'set-inventory', 'blv-c01', 'memory')).resolves.toMatchObject({ code: 2, stderr: expect.stringContaining('nothing to set') });
      await expect(dcm('hosts', 'set-inventory', 'blv-c01', 'custom_gpu', '--reserved', '1')).resolves.toMatchObject({
        code: 2,
        stderr: expect.stringContaining('give --total'),
      });
      await expect(dcm('hosts', 'set-inventory', 'blv-c01', 'memory', '--reserved', 'lots')).resolves.toMatchObject({ code: 2 });
    });

    it("binds a tenant to a host so that its agent may report the tenant's use, and unbinds it", async () => {
      await expect(json('hosts', 'bind', 'blv-c01', 'torfaen')).resolves.toMatchObject({ name: 'blv-c01', boundTenants: ['torfaen'] });
      expect((await dcm('hosts', 'show', 'blv-c01')).stdout).toMatch(/^Bound tenants:\s+torfaen$/m);
      await expect(json('hosts', 'unbind', 'blv-c01', 'torfaen')).resolves.toMatchObject({ boundTenants: [] });
      const again = await dcm('hosts', 'unbind', 'blv-c01', 'torfaen');
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/\(NotFound\)/);
    });

    it('decommissions a host, and refuses one with active allocations with the reason', async () => {
      const refused = await dcm('hosts', 'decommission', 'blv-r01');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/blv-r01 still has 1 active allocation.*\(Conflict\)/);

      expect((await dcm('hosts', 'decommission', 'blv-c01')).code).toBe(0);
      expect((await json('hosts', 'list')).map((host: { name: string }) => host.name)).toEqual(['blv-r01']);
    });

    it('issues join tokens for a named host or accepted at once, and accepts an enrolled host into placement', async () => {
      const join = await json('tokens', 'create', '--kind', 'join', '--name', 'blv-e01');
      const agent = await expectStatus(
        control.api.post('/v1/agents/enrol', { joinToken: join.token, hostname: 'blv-e01', facts: hostFacts('blv-e01') }, { token: null }),
        201,
      );

      expect((await dcm('hosts', 'list')).stdout).toMatch(/^blv-e01\s+unassigned\s+-\s+up\s+no\s+agent\s/m);
      expect((await dcm('hosts', 'list')).stdout).toMatch(/^blv-r01\s+hall-a\s+-\s+up\s+yes\s+operator\s/m);
      const accepted = await dcm('hosts', 'accept', 'blv-e01');
      expect(accepted).toMatchObject({ code: 0, stderr: '' });
      expect(accepted.stdout).toMatch(/^Accepted:\s+yes$/m);
      await expect(json('hosts', 'show', 'blv-e01')).resolves.toMatchObject({ accepted: true, origin: 'agent' });

      // Once accepted, a rise its agent measures is shown, not applied, until the host is accepted again.
      const grown = aReport(1, {
        collectedAt: control.app.get(Clock).now().toISOString(),
        inventory: { vcpu: 128, memoryBytes: 512 * GiB, storageBytes: 20_480 * GiB },
      });
      await expectStatus(control.api.post(`/v1/agents/${agent.agentId}/reports`, grown, { token: agent.agentToken }), 200);
      expect((await dcm('hosts', 'show', 'blv-e01')).stdout).toMatch(/^Measured rise:\s+vcpu 128: not applied until "dcm hosts accept blv-e01"$/m);
      const reaccepted = await dcm('hosts', 'accept', 'blv-e01');
      expect(reaccepted.stdout).not.toMatch(/^Measured rise:/m);
      expect(reaccepted.stdout).toMatch(/^vcpu\s+128\s+128\s/m);

      await expect(json('tokens', 'create', '--kind', 'join', '--host', 'blv-e01', '--accept')).resolves.toMatchObject({
        kind: 'join',
        host: 'blv-e01',
        accept: true,
      });
      await expect(dcm('tokens', 'create', '--role', 'viewer', '--host', 'blv-e01')).resolves.toMatchObject({ code: 2 });
      expect((await dcm('hosts', 'decommission', 'blv-e01')).code).toBe(0);
    });
  });

  describe('showback', () => {
    it('shows a month as a table with IEC byte-hours and costs at the configured prices', async () => {
      const result = await dcm('showback', '--month', '2026-10');

      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toContain('Showback from 2026-10-01T00:00:00Z to 2026-11-01T00:00:00Z');
      expect(result.stdout).toMatch(/^TENANT\s+RESOURCE\s+ALLOCATED\s+USED\s+ALLOCATED COST\s+USED COST$/m);
      // 16 GiB × 744 h = 11,904 GiB-h = 11.63 TiB-h, at 0.005 per GiB-hour; 4 vCPUs × 744 h at 0.02.
      expect(result.stdout).toMatch(/^torfaen\s+memory\s+11\.63 TiB-h\s+-\s+59\.52 GBP\s+-$/m);
      expect(result.stdout).toMatch(/^torfaen\s+vcpu\s+2976\s+-\s+59\.52 GBP\s+-$/m);
      expect(result.stdout).toMatch(/^torfaen\s+total\s+-\s+-\s+119\.04 GBP\s+-$/m);
      expect(result.stdout).toContain('Prices (GBP): vcpu 0.02 per unit-hour, memory 0.005 per GiB-hour');
    });

    it('gives the API answer as JSON or YAML, and for --from/--to the same period as --month', async () => {
      const report = await json('showback', '--from', '2026-10-01', '--to', '2026-11-01');
      expect(report.tenants).toEqual([
        {
          tenant: 'torfaen',
          resources: {
            memory: { unit: 'bytes', allocatedUnitHours: 16 * 744 * GiB, usedUnitHours: null, allocatedCost: 59.52, usedCost: null },
            vcpu: { unit: 'count', allocatedUnitHours: 2976, usedUnitHours: null, allocatedCost: 59.52, usedCost: null },
          },
          totals: { allocatedCost: 119.04, usedCost: null },
        },
      ]);

      const yaml = await dcm('showback', '--month', '2026-10', '-o', 'yaml');
      expect(parse(yaml.stdout)).toEqual(report);
    });

    it('writes the CSV as control sends it', async () => {
      const result = await dcm('showback', '--month', '2026-10', '--format', 'csv');

      expect(result.code).toBe(0);
      expect(result.stdout).toBe(
        [
          'tenant,resource,unit,allocated_unit_hours,used_unit_hours,currency,allocated_cost,used_cost',
          `torfaen,memory,bytes,${16 * 744 * GiB},,GBP,59.52,`,
          'torfaen,vcpu,count,2976,,GBP,59.52,',
          'torfaen,total,,,,GBP,119.04,',
          '',
        ].join('\r\n'),
      );
    });

    it('says so when nothing was allocated, and refuses a bad period', async () => {
      await expect(dcm('showback', '--month', '2026-08')).resolves.toMatchObject({
        code: 0,
        stdout: expect.stringContaining('No tenant had allocations or measured use in this period.'),
      });
      await expect(dcm('showback', '--month', '2026-13')).resolves.toMatchObject({ code: 2 });
      await expect(dcm('showback', '--month', '2026-10', '--from', '2026-10-01')).resolves.toMatchObject({ code: 2 });
      await expect(dcm('showback', '--from', '2026-10-01')).resolves.toMatchObject({ code: 2, stderr: expect.stringContaining('give both --from and --to') });
      const backwards = await dcm('showback', '--from', '2026-11-01', '--to', '2026-10-01');
      expect(backwards.code).toBe(1);
      expect(backwards.stderr).toContain('from must be before to (ValidationFailed)');
    });
  });

  describe('idle', () => {
    beforeAll(async () => {
      now = at('2026-11-23T12:00:00Z');
      const [tenant] = await rawQuery<{ id: string }>(dataSource.manager, "SELECT id FROM tenants WHERE slug = 'torfaen'");
      const [host] = await rawQuery<{ id: string }>(dataSource.manager, "SELECT id FROM hosts WHERE name = 'blv-r01'");
      for (let minute = 0; minute < 10; minute++) {
        await rawQuery(
          dataSource.manager,
          'INSERT INTO tenant_samples (tenant_id, host_id, bucket, storage_used, memory_bytes, cpu_seconds_total) VALUES (?, ?, ?, ?, ?, ?)',
          [tenant.id, host.id, at('2026-11-20T00:00:00Z') + minute * 60_000, null, 512 * MiB, null],
        );
      }
    });

    it('lists an allocation whose measured use stayed low, with its peak', async () => {
      const result = await dcm('idle');

      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toContain(
        'Allocations older than 7d whose peak use from 2026-11-16T12:00:00Z to 2026-11-23T12:00:00Z stayed under 10% of allocated',
      );
      expect(result.stdout).toMatch(
        new RegExp(
          `^${allocationId}\\s+torfaen\\s+blv-r01\\s+hall-a\\s+2026-10-01T00:00:00Z\\s+memory=16GiB vcpu=4\\s+memory 512 MiB of 16 GiB \\(3\\.1%\\)$`,
          'm',
        ),
      );
      await expect(json('idle', '--window', '4d')).resolves.toMatchObject({
        window: '4d',
        allocations: [{ id: allocationId, measured: { memory: { allocated: 16 * GiB, peakUsed: 512 * MiB, peakRatio: 0.03125 } } }],
      });
    });

    it('follows the threshold, and refuses a bad one before calling control', async () => {
      await expect(dcm('idle', '--threshold', '0.01')).resolves.toMatchObject({ code: 0, stdout: expect.stringContaining('None: every allocation') });
      await expect(dcm('idle', '--threshold', '2')).resolves.toMatchObject({ code: 2 });
      await expect(dcm('idle', '--window', '7y')).resolves.toMatchObject({ code: 2 });
    });
  });

  describe('surge grants', () => {
    let grantId: string;
    beforeAll(() => {
      now = null;
    });

    it('grants a tenant more for a while, which its quotas show', async () => {
      const before = Date.now();
      const grant = await json('grant', 'create', 'torfaen', '--vcpu', '32', '--memory', '64GiB', '--for', '72h', '--reason', 'INC-4711: migration');

      expect(grant).toMatchObject({
        tenant: 'torfaen',
        resources: { vcpu: 32, memory: 64 * GiB },
        reason: 'INC-4711: migration',
        state: 'active',
        endedAt: null,
      });
      expect(Date.parse(grant.expiresAt) - before).toBeGreaterThanOrEqual(72 * 3_600_000);
      expect(Date.parse(grant.expiresAt) - before).toBeLessThan(72 * 3_600_000 + 60_000);
      grantId = grant.id;

      const quotas = await dcm('quotas', 'show', 'torfaen');
      expect(quotas.stdout).toMatch(/^RESOURCE\s+LIMIT\s+GRANTED\s+EFFECTIVE LIMIT\s+ALLOCATED\s+USED\s+AVAILABLE\s+STATE$/m);
      expect(quotas.stdout).toMatch(/^memory\s+100 GiB\s+64 GiB\s+164 GiB\s+16 GiB\s+/m);
      expect(quotas.stdout).toMatch(/^vcpu\s+64\s+32\s+96\s+4\s+/m);
    });

    it('lists the active grants as a table', async () => {
      const result = await dcm('grants', 'list', 'torfaen');

      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^ID\s+STATE\s+RESOURCES\s+CREATED\s+EXPIRES\s+ENDED\s+REASON$/m);
      expect(result.stdout).toMatch(new RegExp(`^${grantId}\\s+active\\s+memory=64GiB vcpu=32\\s+\\S+Z\\s+\\S+Z\\s+-\\s+INC-4711: migration$`, 'm'));
    });

    it('refuses a grant without an end or without a class before calling control, and passes on control refusals', async () => {
      await expect(dcm('grant', 'create', 'torfaen', '--vcpu', '8', '--reason', 'no end')).resolves.toMatchObject({
        code: 2,
        stderr: expect.stringContaining('--expires'),
      });
      await expect(dcm('grant', 'create', 'torfaen', '--for', '1h', '--reason', 'nothing')).resolves.toMatchObject({ code: 2 });
      await expect(
        dcm('grant', 'create', 'torfaen', '--vcpu', '8', '--for', '1h', '--expires', '2030-01-01T00:00:00Z', '--reason', 'both'),
      ).resolves.toMatchObject({
        code: 2,
      });
      const past = await dcm('grant', 'create', 'torfaen', '--vcpu', '8', '--expires', '2020-01-01T00:00:00Z', '--reason', 'too late');
      expect(past.code).toBe(1);
      expect(past.stderr).toContain('(ValidationFailed)');
    });

    it('revokes a grant; it then shows only with --all', async () => {
      await expect(json('grant', 'revoke', 'torfaen', grantId)).resolves.toMatchObject({ id: grantId, state: 'revoked', endedAt: expect.any(String) });

      await expect(dcm('grants', 'list', 'torfaen')).resolves.toMatchObject({ code: 0, stdout: 'No grants.\n' });
      await expect(json('grants', 'list', 'torfaen', '--all')).resolves.toEqual([expect.objectContaining({ id: grantId, state: 'revoked' })]);
      expect((await dcm('quotas', 'show', 'torfaen')).stdout).not.toContain('GRANTED');
    });
  });

  describe('audit', () => {
    it('lists what was done, newest first, filtered by subject and action', async () => {
      const events = await json('audit', '--subject-type', 'host', '--subject', 'blv-c01');
      expect(events.map((event: { action: string }) => event.action)).toEqual([
        'host.decommission',
        'inventory.set',
        'inventory.set',
        'inventory.set',
        'inventory.set',
        'host.update',
        'host.update',
        'host.create',
      ]);
      expect(events[0].seq).toBeGreaterThan(events[1].seq);

      const inventories = (await json('audit', '--subject', 'blv-c01', '--action', 'inventory.set')).filter(
        (event: { after: { resourceClass: string } }) => event.after.resourceClass === 'vcpu',
      );
      expect(inventories).toEqual([
        expect.objectContaining({ action: 'inventory.set', after: expect.objectContaining({ allocationRatio: 2, maxUnit: null }) }),
        expect.objectContaining({ action: 'inventory.set', after: expect.objectContaining({ allocationRatio: 2, maxUnit: 16 }) }),
      ]);

      // The grants were made at the real time, the rest while control's clock was set to 2026.
      const grants = await json('audit', 'list', '--action', 'grant.create', '--since', '1h', '--limit', '1');
      expect(grants).toEqual([expect.objectContaining({ subjectType: 'grant', actor: expect.stringMatching(/^token:/) })]);
    });

    it('shows the changes in a table', async () => {
      const result = await dcm('audit', '--subject', 'blv-c01', '--since', '2026-11-01', '--until', '2026-11-04T00:00:00Z');

      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^SEQ\s+AT\s+ACTOR\s+ACTION\s+SUBJECT\s+CHANGES$/m);
      expect(result.stdout).toMatch(/^\d+\s+\S+Z\s+token:\S+\s+host\.create\s+host\/blv-c01\s+created$/m);
      expect(result.stdout).toMatch(/host\.update\s+host\/blv-c01\s+.*status: up → maintenance/);
    });

    it('takes an anchor to a file, and verifies against it: intact at first, exit 1 once the newest events are cut off', async () => {
      const taken = await dcm('audit', 'anchor');
      expect(taken).toMatchObject({ code: 0, stderr: '' });
      const anchor = JSON.parse(taken.stdout);
      expect(anchor).toEqual({ seq: expect.any(Number), hash: expect.stringMatching(/^[0-9a-f]{64}$/), at: expect.any(String) });
      const file = join(scratch, 'audit-anchor.json');
      writeFileSync(file, taken.stdout);
      await createTenant(control.api, 'anchor-later');

      const matches = await dcm('audit', 'verify', '--anchor', file);
      expect(matches).toMatchObject({ code: 0, stderr: '' });
      expect(matches.stdout).toMatch(new RegExp(`^Anchor:\\s+${anchor.seq}: matches$`, 'm'));

      await rawQuery(dataSource.manager, 'DELETE FROM audit_events WHERE seq >= ?', [anchor.seq]);
      expect((await dcm('audit', 'verify')).code).toBe(0);
      const cut = await dcm('audit', 'verify', '--anchor', file);
      expect(cut.code).toBe(1);
      expect(cut.stdout).toMatch(new RegExp(`^Anchor:\\s+${anchor.seq}: missing$`, 'm'));
      expect(cut.stderr).toContain(`the anchored event ${anchor.seq} is gone`);

      writeFileSync(file, '{"seq": "one"}');
      const bad = await dcm('audit', 'verify', '--anchor', file);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('is not an anchor written by "dcm audit anchor"');
    });

    it('verifies the hash chain, and exits 1 naming the first broken event once a record is altered', async () => {
      const intact = await dcm('audit', 'verify');
      expect(intact).toMatchObject({ code: 0, stderr: '' });
      expect(intact.stdout).toMatch(/^Intact:\s+yes$/m);

      const [event] = await json('audit', '--subject', 'blv-c01', '--action', 'host.create');
      await rawQuery(dataSource.manager, 'UPDATE audit_events SET actor = ? WHERE seq = ?', ['token:someone-else', event.seq]);

      const broken = await dcm('audit', 'verify');
      expect(broken.code).toBe(1);
      expect(broken.stdout).toMatch(/^Intact:\s+NO$/m);
      expect(broken.stdout).toMatch(new RegExp(`^First broken:\\s+${event.seq}$`, 'm'));
      expect(broken.stderr).toContain(`event ${event.seq} breaks the hash chain`);

      const asJson = await dcm('audit', 'verify', '-o', 'json');
      expect(asJson.code).toBe(1);
      expect(JSON.parse(asJson.stdout)).toMatchObject({ intact: false, firstBroken: { seq: event.seq } });
    });
  });

  it('shows help with examples for every new command', async () => {
    for (const command of [
      ['hosts', 'create'],
      ['hosts', 'update'],
      ['hosts', 'set-inventory'],
      ['hosts', 'accept'],
      ['hosts', 'decommission'],
      ['showback'],
      ['idle'],
      ['grants'],
      ['grants', 'list'],
      ['grant', 'create'],
      ['grant', 'revoke'],
      ['audit'],
      ['audit', 'list'],
      ['audit', 'verify'],
      ['audit', 'anchor'],
    ]) {
      const result = await dcm(...command, '--help');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Examples:');
    }
  });
});
