import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawQuery } from '@dcm/persistence';
import type { Report } from '@dcm/protocol';
import { DataSource } from 'typeorm';
import { startAgent } from './support/agent-process';
import { requireBuiltCli, runCli } from './support/cli';
import { createHost, createTenant, expectStatus, setQuotas } from './support/facility';
import { RunningControl, startControl } from './support/control';
import { expectJson } from './support/problems';
import { aReport } from './support/reports';
import { eventually } from './support/eventually';

const GIB = 2 ** 30;
const TIB = 2 ** 40;

describe('GET /v1/capacity', () => {
  let control: RunningControl;

  beforeEach(async () => {
    control = await startControl();
  });

  afterEach(async () => {
    await control?.close();
  });

  const capacity = async () => expectJson(await control.api.get('/v1/capacity'), 200);

  /**
   * hall-a: a-1 (up)          vcpu floor(32 × 4.0) = 128, memory 256 − 16 = 240 GiB
   *         a-2 (maintenance) vcpu 16 × 1.0 = 16,        memory 128 GiB
   * hall-b: b-1 (up)          vcpu floor((64 − 4) × 2.0) = 120, storage 10 TiB
   * Allocated: a-1 8 vcpu + 32 GiB, a-2 4 vcpu + 16 GiB (placed before maintenance), b-1 20 vcpu + 2 TiB.
   */
  async function buildFacility() {
    const { api } = control;
    await createTenant(api, 'torfaen');
    await setQuotas(api, 'torfaen', { vcpu: 1000, memory: '1TiB', storage: '100TiB' });
    await createHost(api, 'a-1', { vcpu: { total: 32 }, memory: { total: '256GiB', reserved: '16GiB' } }, { site: 'hall-a' });
    await createHost(api, 'a-2', { vcpu: { total: 16, allocationRatio: 1 }, memory: { total: '128GiB' } }, { site: 'hall-a' });
    await createHost(api, 'b-1', { vcpu: { total: 64, reserved: 4, allocationRatio: 2 }, storage: { total: '10TiB' } }, { site: 'hall-b' });
    const allocations = {
      a1: await expectStatus(api.post('/v1/allocations', { tenant: 'torfaen', host: 'a-1', resources: { vcpu: 8, memory: '32GiB' } }), 201),
      a2: await expectStatus(api.post('/v1/allocations', { tenant: 'torfaen', host: 'a-2', resources: { vcpu: 4, memory: '16GiB' } }), 201),
      b1: await expectStatus(api.post('/v1/allocations', { tenant: 'torfaen', host: 'b-1', resources: { vcpu: 20, storage: '2TiB' } }), 201),
    };
    await expectStatus(api.patch('/v1/hosts/a-2', { status: 'maintenance' }), 200);
    return allocations;
  }

  it('is empty for a facility without hosts', async () => {
    await expect(capacity()).resolves.toEqual({ facility: { hosts: { up: 0, stale: 0, down: 0, maintenance: 0, unaccepted: 0 }, resources: {} }, sites: [] });
  });

  it('totals capacity, allocated, used, free and placeable per class, for the facility and each site', async () => {
    await buildFacility();

    await expect(capacity()).resolves.toEqual({
      facility: {
        hosts: { up: 2, stale: 0, down: 0, maintenance: 1, unaccepted: 0 },
        resources: {
          vcpu: { unit: 'count', capacity: 264, allocated: 32, used: null, free: 232, overcommitted: false, placeable: 220 },
          memory: { unit: 'bytes', capacity: 368 * GIB, allocated: 48 * GIB, used: null, free: 320 * GIB, overcommitted: false, placeable: 208 * GIB },
          storage: { unit: 'bytes', capacity: 10 * TIB, allocated: 2 * TIB, used: null, free: 8 * TIB, overcommitted: false, placeable: 8 * TIB },
        },
      },
      sites: [
        {
          site: 'hall-a',
          hosts: { up: 1, stale: 0, down: 0, maintenance: 1, unaccepted: 0 },
          resources: {
            vcpu: { unit: 'count', capacity: 144, allocated: 12, used: null, free: 132, overcommitted: false, placeable: 120 },
            memory: { unit: 'bytes', capacity: 368 * GIB, allocated: 48 * GIB, used: null, free: 320 * GIB, overcommitted: false, placeable: 208 * GIB },
          },
        },
        {
          site: 'hall-b',
          hosts: { up: 1, stale: 0, down: 0, maintenance: 0, unaccepted: 0 },
          resources: {
            vcpu: { unit: 'count', capacity: 120, allocated: 20, used: null, free: 100, overcommitted: false, placeable: 100 },
            storage: { unit: 'bytes', capacity: 10 * TIB, allocated: 2 * TIB, used: null, free: 8 * TIB, overcommitted: false, placeable: 8 * TIB },
          },
        },
      ],
    });
  });

  it('follows releases, maintenance ending, and decommissioning', async () => {
    const allocations = await buildFacility();
    await createHost(control.api, 'c-1', { vcpu: { total: 10, allocationRatio: 1 } }, { site: 'hall-c' });

    await expectStatus(control.api.delete(`/v1/allocations/${allocations.b1.id}`), 200);
    await expectStatus(control.api.patch('/v1/hosts/a-2', { status: 'up' }), 200);
    await expectStatus(control.api.delete('/v1/hosts/c-1'), 200);

    const summary = await capacity();
    expect(summary.facility).toEqual({
      hosts: { up: 3, stale: 0, down: 0, maintenance: 0, unaccepted: 0 },
      resources: {
        vcpu: { unit: 'count', capacity: 264, allocated: 12, used: null, free: 252, overcommitted: false, placeable: 252 },
        memory: { unit: 'bytes', capacity: 368 * GIB, allocated: 48 * GIB, used: null, free: 320 * GIB, overcommitted: false, placeable: 320 * GIB },
        storage: { unit: 'bytes', capacity: 10 * TIB, allocated: 0, used: null, free: 10 * TIB, overcommitted: false, placeable: 10 * TIB },
      },
    });
    expect(summary.sites.map((site: { site: string }) => site.site)).toEqual(['hall-a', 'hall-b']);
    expect(summary.sites[1].resources.vcpu).toEqual({
      unit: 'count',
      capacity: 120,
      allocated: 0,
      used: null,
      free: 120,
      overcommitted: false,
      placeable: 120,
    });
  });

  it('never shows negative free or placeable: a site or facility that holds more than its capacity is overcommitted', async () => {
    await buildFacility();

    // a-1 holds 8 vCPUs; shrink it to floor(1 × 4.0) = 4.
    await expectStatus(control.api.put('/v1/hosts/a-1/inventories/vcpu', { total: 1 }), 200);

    const summary = await capacity();
    const hallA = summary.sites.find((site: { site: string }) => site.site === 'hall-a');
    expect(hallA.resources.vcpu).toEqual({ unit: 'count', capacity: 20, allocated: 12, used: null, free: 8, overcommitted: false, placeable: 0 });
    expect(summary.facility.resources.vcpu).toEqual({
      unit: 'count',
      capacity: 140,
      allocated: 32,
      used: null,
      free: 108,
      overcommitted: false,
      placeable: 100,
    });
    await expect(control.api.get('/v1/hosts/a-1')).resolves.toMatchObject({
      body: { overcommitted: true, inventories: { vcpu: { capacity: 4, allocated: 8, free: 0, overcommitted: true } } },
    });

    // b-1 holds 2 TiB of storage, and is the only storage host: shrink it to 1 TiB.
    await expectStatus(control.api.put('/v1/hosts/b-1/inventories/storage', { total: '1TiB' }), 200);
    const shrunk = await capacity();
    const overcommitted = { unit: 'bytes', capacity: TIB, allocated: 2 * TIB, used: null, free: 0, overcommitted: true, placeable: 0 };
    expect(shrunk.sites.find((site: { site: string }) => site.site === 'hall-b').resources.storage).toEqual(overcommitted);
    expect(shrunk.facility.resources.storage).toEqual(overcommitted);
    requireBuiltCli();
    const table = await runCli(['capacity'], { HOME: '/nonexistent', DCM_URL: control.url, DCM_TOKEN: control.adminToken });
    expect(table.stdout).toMatch(/^hall-b\s+storage\s+1 TiB\s+2 TiB\s+-\s+0 B \(overcommitted\)\s+0 B$/m);
  });

  describe('used: what the hosts measure', () => {
    const enrol = async (hostname: string, storageMounts: string[]) => {
      const join = await expectStatus(control.api.post('/v1/tokens', { kind: 'join', uses: 1, accept: true }), 201);
      const facts = {
        hostname,
        os: 'Debian GNU/Linux 12',
        kernel: '6.1.0',
        cpuModel: 'AMD EPYC 9354',
        logicalCores: 64,
        memoryTotalBytes: 512 * GIB,
        storage: storageMounts.map((mountpoint) => ({ mountpoint, sizeBytes: 20_480 * GIB })),
      };
      return expectStatus(control.api.post('/v1/agents/enrol', { joinToken: join.token, hostname, facts }, { token: null }), 201) as Promise<{
        agentId: string;
        agentToken: string;
      }>;
    };
    const report = async (agent: { agentId: string; agentToken: string }, body: Report) =>
      expectStatus(control.api.post(`/v1/agents/${agent.agentId}/reports`, body, { token: agent.agentToken }), 200);
    /** The definitions, applied by hand to what was sent. */
    const usedOf = (sent: Report, storageMounts: string[]) => ({
      vcpu: sent.cpu.usageRatio * sent.cpu.logicalCores,
      memory: sent.memory.totalBytes - sent.memory.availableBytes,
      storage: sent.filesystems
        .filter((filesystem) => storageMounts.includes(filesystem.mountpoint))
        .reduce((sum, filesystem) => sum + filesystem.usedBytes, 0),
    });

    it("sums the hosts' latest reports: vCPU busy, memory total − available, bytes used on the storage mounts only", async () => {
      const m1 = await enrol('m-1', ['/srv']);
      const m2 = await enrol('m-2', ['/srv', '/var']);
      await createHost(control.api, 'm-3', { vcpu: { total: 8 } }); // no agent: nothing measured
      for (const host of ['m-1', 'm-2']) await expectStatus(control.api.patch(`/v1/hosts/${host}`, { site: 'hall-m', accepted: true }), 200);
      const now = () => new Date().toISOString();
      const first = aReport(1, { collectedAt: now() });
      const latest = aReport(2, { collectedAt: now(), cpu: { usageRatio: 0.5, load1: 1, load5: 1, load15: 1, logicalCores: 48 } });
      latest.memory.availableBytes = 100 * GIB;
      const other = aReport(1, { collectedAt: now(), cpu: { usageRatio: 0.125, load1: 1, load5: 1, load15: 1, logicalCores: 8 } });
      await report(m1, first);
      await report(m1, latest);
      await report(m2, other);

      const summary = await capacity();
      const expected = [usedOf(latest, ['/srv']), usedOf(other, ['/srv', '/var'])];
      const hallM = summary.sites.find((site: { site: string }) => site.site === 'hall-m');
      for (const resourceClass of ['vcpu', 'memory', 'storage'] as const) {
        const sum = expected[0][resourceClass] + expected[1][resourceClass];
        expect([resourceClass, hallM.resources[resourceClass].used]).toEqual([resourceClass, sum]);
      }
      // 0.5 × 48 + 0.125 × 8 busy; 412 + 212 GiB of memory; /srv (6000 GiB) on m-1, /srv and /var on m-2, never / or /boot.
      expect(hallM.resources.vcpu.used).toBe(25);
      expect(hallM.resources.memory.used).toBe(624 * GIB);
      expect(hallM.resources.storage.used).toBe(12_050 * GIB);
      expect(summary.facility.resources.vcpu.used).toBe(25);
      expect(summary.sites.find((site: { site: string }) => site.site === 'hall-a').resources.vcpu.used).toBeNull();

      // dcm capacity shows the same figures (m-1 and m-2: 64 cores each, × 4; nothing allocated).
      requireBuiltCli();
      const table = await runCli(['capacity'], { HOME: '/nonexistent', DCM_URL: control.url, DCM_TOKEN: control.adminToken });
      expect(table).toMatchObject({ code: 0, stderr: '' });
      expect(table.stdout).toMatch(/^hall-m\s+vcpu\s+512\s+0\s+25\s+512\s+512$/m);
      expect(table.stdout).toMatch(/^hall-m\s+memory\s+1 TiB\s+0 B\s+624 GiB\s+1 TiB\s+1 TiB$/m);
      expect(table.stdout).toMatch(/^hall-m\s+storage\s+40 TiB\s+0 B\s+11\.77 TiB\s+40 TiB\s+40 TiB$/m);
    });

    it('reads the figures from the digest stored beside each report, and from the whole report where the digest is older', async () => {
      const agents = [await enrol('d-1', ['/srv']), await enrol('d-2', ['/srv', '/var']), await enrol('d-3', ['/srv'])];
      const sent = [0.25, 0.5, 0.75].map((usageRatio) => aReport(1, { collectedAt: new Date().toISOString(), cpu: { ...aReport(1).cpu, usageRatio } }));
      for (const [index, agent] of agents.entries()) await report(agent, sent[index]);
      const expected = [usedOf(sent[0], ['/srv']), usedOf(sent[1], ['/srv', '/var']), usedOf(sent[2], ['/srv'])];
      const sums = (['vcpu', 'memory', 'storage'] as const).map((resourceClass) => [
        resourceClass,
        expected.reduce((sum, figures) => sum + figures[resourceClass], 0),
      ]);
      const used = async () => {
        const { facility } = await capacity();
        return (['vcpu', 'memory', 'storage'] as const).map((resourceClass) => [resourceClass, facility.resources[resourceClass].used]);
      };
      await expect(used()).resolves.toEqual(sums);

      // One host's row as stored before digests existed, another's digest as stored before it kept logical cores and
      // each filesystem's used bytes: the same figures, from their whole reports.
      const manager = control.app.get(DataSource).manager;
      const hostId = async (name: string) => (await rawQuery<{ id: string }>(manager, 'SELECT id FROM hosts WHERE name = ?', [name]))[0].id;
      await rawQuery(manager, 'UPDATE host_measurements SET digest = NULL WHERE host_id = ?', [await hostId('d-1')]);
      const [{ digest }] = await rawQuery<{ digest: string }>(manager, 'SELECT digest FROM host_measurements WHERE host_id = ?', [await hostId('d-2')]);
      const older = JSON.parse(digest) as { logicalCores?: number; filesystems: unknown[][] };
      delete older.logicalCores;
      older.filesystems = older.filesystems.map((filesystem) => filesystem.slice(0, 3));
      await rawQuery(manager, 'UPDATE host_measurements SET digest = ? WHERE host_id = ?', [JSON.stringify(older), await hostId('d-2')]);
      await expect(used()).resolves.toEqual(sums);
    });

    it('leaves out a report older than a host counts as reporting', async () => {
      const agent = await enrol('old-1', ['/srv']);
      await report(agent, aReport(1, { collectedAt: new Date().toISOString() }));
      const before = await capacity();
      expect(before.facility.resources.memory.used).toBe(212 * GIB);
      // The report's collection time, moved back past the 10 report intervals after which a host is down.
      const past = Date.now() - 11 * 15_000 - 60_000;
      await rawQuery(control.app.get(DataSource).manager, 'UPDATE host_measurements SET collected_at = ?', [past]);
      await expect(capacity()).resolves.toMatchObject({ facility: { resources: { memory: { used: null }, vcpu: { used: null } } } });
    });
  });
});

/** `/proc/meminfo`'s MemTotal − MemAvailable, in bytes: what `free` calls used. */
function memoryUsedNow(): number {
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;
  return kib('MemTotal') - kib('MemAvailable');
}

/** `df -B1 /`'s used bytes. */
function dfUsedNow(): number {
  const [, line] = execFileSync('df', ['-B1', '--output=used', '/'], { encoding: 'utf8' }).trim().split('\n');
  return Number(line.trim());
}

describe('GET /v1/capacity with a real agent on this machine', () => {
  let control: RunningControl;
  let agent: ReturnType<typeof startAgent> | undefined;
  let workDir: string;

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'dcm-capacity-agent-'));
    control = await startControl({ reportIntervalSeconds: 1 });
    const token = await expectStatus(control.api.post('/v1/tokens', { kind: 'join', uses: 1, accept: true }), 201);
    agent = startAgent(workDir, { controlUrl: control.url, joinToken: token.token, hostname: 'this-machine', intervalSeconds: 1, storageMounts: ['/'] });
  });

  afterAll(async () => {
    await agent?.stop();
    await control?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('says the memory and storage in use that /proc/meminfo and df say, and a vCPU busy figure within the cores', async () => {
    const resources: Record<string, { used: number | null; capacity: number }> = await eventually(
      'measured use of memory, storage and vCPU',
      async () => {
        const measured = expectJson(await control.api.get('/v1/capacity'), 200).facility.resources;
        return measured.memory?.used != null && measured.storage?.used != null && measured.vcpu?.used != null ? measured : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(resources.memory?.used).not.toBeNull();
    // Both move while other work runs on this machine: within 2 % of memory and 1 GiB of disk.
    const memoryTotal = Number(/^MemTotal:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;
    expect(Math.abs(resources.memory.used! - memoryUsedNow())).toBeLessThan(0.02 * memoryTotal);
    expect(Math.abs(resources.storage.used! - dfUsedNow())).toBeLessThan(GIB);
    const cores = execFileSync('nproc', { encoding: 'utf8' }).trim();
    expect(resources.vcpu.used).toBeGreaterThanOrEqual(0);
    expect(resources.vcpu.used).toBeLessThanOrEqual(Number(cores));
  }, 90_000);
});
