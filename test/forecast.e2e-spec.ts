import { CapacityForecastService } from '../apps/control/src/capacity/capacity-forecast.service';
import { CapacitySamplingService } from '../apps/control/src/history/capacity-sampling.service';
import { MetricsJobs } from '../apps/control/src/metrics/metrics-jobs';
import { RunningControl, startControl } from './support/control';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { createHost, createTenant, expectStatus, setQuotas } from './support/facility';
import { aReport } from './support/reports';
import { setControlClock } from './support/clock';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const GIB = 2 ** 30;

describe.each(['sqlite', 'postgres'])('GET /v1/capacity/forecast on %s', (backend) => {
  let database: TestDatabase | undefined;
  let control: RunningControl;
  let now: number;
  const sampleAt = async (at: number) => {
    now = at;
    await control.app.get(CapacitySamplingService).sample();
  };

  beforeAll(async () => {
    database = backend === 'postgres' ? await createTestDatabase() : undefined;
    control = await startControl({ forecastWindowDays: 30, ...(database ? { databaseUrl: database.url } : {}) });
    now = Math.floor(Date.now() / HOUR) * HOUR - 20 * DAY;
    setControlClock(control.app, () => now);
    await createTenant(control.api, 'torfaen');
    await setQuotas(control.api, 'torfaen', { vcpu: 10_000, memory: '100TiB' });
    // hall-a: 2 × 64 cores × 4 = 512 vCPU; hall-b: 256 vCPU that nobody uses.
    await createHost(control.api, 'blv-a01', { vcpu: { total: 64 }, memory: { total: '1TiB' } }, { site: 'hall-a' });
    await createHost(control.api, 'blv-a02', { vcpu: { total: 64 }, memory: { total: '1TiB' } }, { site: 'hall-a' });
    await createHost(control.api, 'blv-b01', { vcpu: { total: 64 } }, { site: 'hall-b' });
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await control?.close();
    await database?.drop();
  });

  it('projects growing allocations to the day capacity runs out, and gives null where nothing grows', async () => {
    // 16 vCPU more every day on hall-a for 10 days, sampled every 6 hours; memory stays where it is.
    const start = now;
    for (let day = 0; day < 10; day++) {
      now = start + day * DAY;
      await expectStatus(control.api.post('/v1/allocations', { tenant: 'torfaen', resources: { vcpu: 16 }, host: day % 2 ? 'blv-a01' : 'blv-a02' }), 201);
      for (const hour of [0, 6, 12, 18]) await sampleAt(start + day * DAY + hour * HOUR);
    }

    const forecast = await expectStatus(control.api.get('/v1/capacity/forecast'), 200);

    expect(forecast.windowDays).toBe(30);
    const hallA = forecast.sites.find((site: { site: string }) => site.site === 'hall-a');
    expect(hallA.resources.vcpu).toMatchObject({ unit: 'count', capacity: 512, allocated: 160, used: null, points: 40 });
    // 160 of 512 allocated at the last sample, growing 16 a day: (512 − the line's value now, about 166) / 16 days.
    const days = hallA.resources.vcpu.daysUntilFull.allocated;
    expect(days).toBeGreaterThan((512 - 176) / 16 - 1);
    expect(days).toBeLessThan((512 - 160) / 16);
    expect(hallA.resources.vcpu.daysUntilFull.used).toBeNull();
    expect(hallA.resources.memory.daysUntilFull).toEqual({ allocated: null, used: null });
    const hallB = forecast.sites.find((site: { site: string }) => site.site === 'hall-b');
    expect(hallB.resources.vcpu).toMatchObject({ capacity: 256, allocated: 0, daysUntilFull: { allocated: null, used: null } });
    expect(forecast.facility.resources.vcpu).toMatchObject({ capacity: 768, allocated: 160 });
    expect(forecast.facility.resources.vcpu.daysUntilFull.allocated).toBeCloseTo((768 - 512) / 16 + days, 0);

    // The instant it is full, for machines: days are counted from `at` to it, to a tenth.
    const fullAt = Date.parse(hallA.resources.vcpu.fullAt.allocated);
    expect(Date.parse(forecast.at)).toBe(now);
    expect(Math.abs(fullAt - (now + days * DAY))).toBeLessThanOrEqual(0.05 * DAY);
    expect(hallA.resources.vcpu.fullAt.used).toBeNull();
    expect(hallA.resources.memory.fullAt).toEqual({ allocated: null, used: null });
    expect(hallB.resources.vcpu.fullAt).toEqual({ allocated: null, used: null });

    await expect(control.app.get(CapacityForecastService).gauges()).resolves.toEqual(
      expect.arrayContaining([
        { site: 'hall-a', resource: 'vcpu', basis: 'allocated', timestampSeconds: fullAt / 1000 },
        { site: 'hall-a', resource: 'vcpu', basis: 'used', timestampSeconds: null },
        { site: 'hall-b', resource: 'vcpu', basis: 'allocated', timestampSeconds: null },
      ]),
    );
    await control.app.get(MetricsJobs).refreshForecast();
    const exposition = (await expectStatus(control.api.get('/metrics'), 200)) as string;
    const forecastLines = exposition.split('\n').filter((line) => line.startsWith('dcm_capacity_forecast_full_timestamp_seconds{'));
    expect(forecastLines).toEqual([`dcm_capacity_forecast_full_timestamp_seconds{site="hall-a",resource="vcpu",basis="allocated"} ${fullAt / 1000}`]);
  });

  it('fits measured use as GET /v1/capacity defines it: memory total − available, bytes used on the storage mounts', async () => {
    const join = await expectStatus(control.api.post('/v1/tokens', { kind: 'join', uses: 1, accept: true }), 201);
    const facts = {
      hostname: 'u-1',
      os: 'Debian',
      kernel: '6.1',
      cpuModel: 'EPYC',
      logicalCores: 4,
      memoryTotalBytes: 64 * GIB,
      storage: [{ mountpoint: '/srv', sizeBytes: 100 * GIB }],
    };
    const agent = await expectStatus(control.api.post('/v1/agents/enrol', { joinToken: join.token, hostname: 'u-1', facts }, { token: null }), 201);
    await expectStatus(control.api.patch('/v1/hosts/u-1', { site: 'hall-u' }), 200);
    // Memory in use grows 1 GiB a day, /srv 2 GiB a day; / (not a storage mount) grows too, and must not count.
    const start = now;
    for (let day = 0; day < 5; day++) {
      now = start + day * DAY;
      const report = aReport(day + 1, {
        collectedAt: new Date(now).toISOString(),
        cpu: { usageRatio: 0.5, load1: 1, load5: 1, load15: 1, logicalCores: 4 },
        memory: { totalBytes: 64 * GIB, availableBytes: (60 - day) * GIB },
        filesystems: [
          { mountpoint: '/', fstype: 'ext4', sizeBytes: 100 * GIB, usedBytes: (10 + 5 * day) * GIB, availBytes: 50 * GIB },
          { mountpoint: '/srv', fstype: 'xfs', sizeBytes: 100 * GIB, usedBytes: (20 + 2 * day) * GIB, availBytes: 50 * GIB },
        ],
        inventory: { vcpu: 4, memoryBytes: 64 * GIB, storageBytes: 100 * GIB },
      });
      await expectStatus(control.api.post(`/v1/agents/${agent.agentId}/reports`, report, { token: agent.agentToken }), 200);
      await sampleAt(now);
    }

    const hallU = (await expectStatus(control.api.get('/v1/capacity/forecast'), 200)).sites.find((site: { site: string }) => site.site === 'hall-u');
    const current = (await expectStatus(control.api.get('/v1/capacity'), 200)).sites.find((site: { site: string }) => site.site === 'hall-u');
    // The latest hour holds one sample: the same figures GET /v1/capacity gives now.
    expect(hallU.resources.memory.used).toBe(8 * GIB);
    expect(hallU.resources.storage.used).toBe(28 * GIB);
    expect(hallU.resources.vcpu.used).toBe(2);
    for (const resourceClass of ['memory', 'storage', 'vcpu']) expect(current.resources[resourceClass].used).toBe(hallU.resources[resourceClass].used);
    // 64 GiB − 8 GiB at 1 GiB a day; 100 GiB − 28 GiB at 2 GiB a day; vCPU busy does not grow.
    expect(hallU.resources.memory.daysUntilFull.used).toBe(56);
    expect(hallU.resources.storage.daysUntilFull.used).toBe(36);
    expect(hallU.resources.vcpu.daysUntilFull.used).toBeNull();
    expect(Date.parse(hallU.resources.storage.fullAt.used)).toBe(now + 36 * DAY);
  });

  it('needs a viewer token', async () => {
    await expect(control.api.get('/v1/capacity/forecast', { token: null }).then((response) => response.status)).resolves.toBe(401);
  });
});
