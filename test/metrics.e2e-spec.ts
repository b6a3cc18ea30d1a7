import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { LivenessService } from '../apps/control/src/agents/liveness.service';
import { ForecastGauge, MetricsRecorder } from '../apps/control/src/telemetry/process-metrics';
import { METRIC_CATALOGUE } from '../apps/control/src/telemetry/metric-catalogue';
import { createHost, createTenant, expectStatus, setQuotas } from './support/facility';
import { RunningControl, startControl } from './support/control';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { PROMTOOL, requireBinary, RunningPrometheus, startPrometheus, writeScrapeConfig } from './support/prometheus';
import { expectProblem } from './support/problems';
import { aReport } from './support/reports';
import { setControlClock } from './support/clock';
import { eventually } from './support/eventually';

const GIB = 2 ** 30;
const TIB = 2 ** 40;
const METRICS_TOKEN = 'metrics-token-for-the-e2e-suite';
const ODD_MOUNTPOINT = '/srv/odd "quoted" \\ back\\slash';
/** The storage mounts the suite's agents declare at enrolment: only these count as the hosts' storage. */
const STORAGE_MOUNTS = [{ mountpoint: '/srv', sizeBytes: 20_480 * GIB }];

/** A host's measured use per class, computed here from the report it sent and the mounts its agent declared. */
function measuredFrom(report: ReturnType<typeof aReport>): Record<'vcpu' | 'memory' | 'storage', number> {
  const mounts = new Set(STORAGE_MOUNTS.map((mount) => mount.mountpoint));
  return {
    vcpu: report.cpu.usageRatio * report.cpu.logicalCores,
    memory: report.memory.totalBytes - report.memory.availableBytes,
    storage: report.filesystems.filter((filesystem) => mounts.has(filesystem.mountpoint)).reduce((sum, filesystem) => sum + filesystem.usedBytes, 0),
  };
}

/** The series of an exposition by their exact `name{labels}` text, and the families its HELP lines announce. */
function parseExposition(text: string): { series: Map<string, number>; families: string[] } {
  const series = new Map<string, number>();
  const families: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('# HELP ')) families.push(line.split(' ')[2]);
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    const key = line.slice(0, space);
    if (series.has(key)) throw new Error(`duplicate series ${key}`);
    series.set(key, Number(line.slice(space + 1)));
  }
  return { series, families };
}

/** Runs `promtool check metrics` on the exposition; fails clearly when promtool is not installed. */
function promtoolCheck(exposition: string): { status: number | null; output: string } {
  requireBinary(PROMTOOL);
  const result = spawnSync(PROMTOOL, ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function describeMetrics(backend: 'SQLite' | 'PostgreSQL') {
  describe(`GET /metrics on ${backend}`, () => {
    let database: TestDatabase | undefined;
    let control: RunningControl;

    const scrape = async () => {
      const response = await control.api.get('/metrics', { token: METRICS_TOKEN });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      return { text: response.body as string, ...parseExposition(response.body as string) };
    };
    const joinToken = async () => (await expectStatus(control.api.post('/v1/tokens', { kind: 'join', uses: 1, accept: true }), 201)).token as string;
    const enrol = async (hostname: string) =>
      expectStatus(
        control.api.post(
          '/v1/agents/enrol',
          {
            joinToken: await joinToken(),
            hostname,
            facts: {
              hostname,
              os: 'Debian GNU/Linux 12',
              kernel: '6.1.0',
              cpuModel: 'AMD EPYC 9354',
              logicalCores: 64,
              memoryTotalBytes: 512 * GIB,
              storage: STORAGE_MOUNTS,
            },
          },
          { token: null },
        ),
        201,
      ) as Promise<{ agentId: string; agentToken: string }>;

    beforeAll(async () => {
      database = backend === 'PostgreSQL' ? await createTestDatabase() : undefined;
      control = await startControl({ metricsToken: METRICS_TOKEN, reportIntervalSeconds: 15, ...(database ? { databaseUrl: database.url } : {}) });
    });

    afterAll(async () => {
      await control?.close();
      await database?.drop();
    });

    it('needs the metrics token when one is set, and no API token', async () => {
      expectProblem(await control.api.get('/metrics', { token: null }), 401, 'Unauthenticated');
      expectProblem(await control.api.get('/metrics', { token: 'not-the-metrics-token-at-all' }), 401, 'Unauthenticated');
      expectProblem(await control.api.get('/metrics'), 401, 'Unauthenticated'); // the admin API token is not the metrics token
      expect((await control.api.get('/metrics', { token: METRICS_TOKEN })).status).toBe(200);
    });

    it('shows quotas, allocations, measured use, hosts and their latest report with exact values', async () => {
      const { api } = control;
      await createTenant(api, 'torfaen');
      await setQuotas(api, 'torfaen', { vcpu: 64, memory: '256GiB', storage: '20TiB' });
      await createTenant(api, 'gwent-police', { classification: 'OFFICIAL-SENSITIVE' });
      await setQuotas(api, 'gwent-police', { vcpu: 16 });
      await createHost(api, 'blv-m01', { vcpu: { total: 32, reserved: 2 }, memory: { total: '256GiB', reserved: '16GiB' }, storage: { total: '10TiB' } });
      await expectStatus(api.post('/v1/allocations', { tenant: 'torfaen', host: 'blv-m01', resources: { vcpu: 8, memory: '32GiB' } }), 201);
      const agent = await enrol('blv-m02');
      await expectStatus(api.put('/v1/hosts/blv-m02/tenants/torfaen'), 200);
      const report = aReport(1, {
        collectedAt: new Date().toISOString(),
        tenants: { torfaen: { storageUsedBytes: 5 * GIB, memoryBytes: 3 * GIB, cpuUsageSecondsTotal: 12.5 }, unknown: { memoryBytes: GIB } },
      });
      report.filesystems.push({ mountpoint: ODD_MOUNTPOINT, fstype: 'xfs', sizeBytes: 2 * TIB, usedBytes: TIB, availBytes: TIB - 1 });
      const before = Date.now();
      await expectStatus(api.post(`/v1/agents/${agent.agentId}/reports`, report, { token: agent.agentToken }), 200);

      const { series, families, text } = await scrape();
      const expected: Record<string, number> = {
        'dcm_tenant_quota_limit{tenant="torfaen",resource="memory",unit="bytes"}': 256 * GIB,
        'dcm_tenant_quota_limit{tenant="torfaen",resource="storage",unit="bytes"}': 20 * TIB,
        'dcm_tenant_quota_limit{tenant="torfaen",resource="vcpu",unit="count"}': 64,
        'dcm_tenant_quota_limit{tenant="gwent-police",resource="vcpu",unit="count"}': 16,
        'dcm_tenant_allocated{tenant="torfaen",resource="vcpu",unit="count"}': 8,
        'dcm_tenant_allocated{tenant="torfaen",resource="memory",unit="bytes"}': 32 * GIB,
        'dcm_tenant_allocated{tenant="torfaen",resource="storage",unit="bytes"}': 0,
        'dcm_tenant_used{tenant="torfaen",resource="memory",unit="bytes"}': 3 * GIB,
        'dcm_tenant_used{tenant="torfaen",resource="storage",unit="bytes"}': 5 * GIB,
        'dcm_tenant_quota_state{tenant="torfaen",resource="vcpu",state="ok"}': 1,
        'dcm_tenant_quota_state{tenant="torfaen",resource="vcpu",state="warning"}': 0,
        'dcm_tenant_quota_state{tenant="torfaen",resource="vcpu",state="over"}': 0,
        'dcm_tenant_frozen{tenant="torfaen"}': 0,
        'dcm_tenant_frozen{tenant="gwent-police"}': 0,
        'dcm_host_capacity{host="blv-m01",site="hall-a",resource="vcpu",unit="count"}': 120,
        'dcm_host_capacity{host="blv-m01",site="hall-a",resource="memory",unit="bytes"}': 240 * GIB,
        'dcm_host_capacity{host="blv-m01",site="hall-a",resource="storage",unit="bytes"}': 10 * TIB,
        'dcm_host_allocated{host="blv-m01",site="hall-a",resource="vcpu",unit="count"}': 8,
        'dcm_host_allocated{host="blv-m01",site="hall-a",resource="memory",unit="bytes"}': 32 * GIB,
        'dcm_host_up{host="blv-m01",site="hall-a"}': 1,
        'dcm_host_capacity{host="blv-m02",site="unassigned",resource="vcpu",unit="count"}': 256,
        'dcm_host_up{host="blv-m02",site="unassigned"}': 1,
        'dcm_host_cpu_usage_ratio{host="blv-m02"}': 0.31,
        'dcm_host_load1{host="blv-m02"}': 4.2,
        'dcm_host_load5{host="blv-m02"}': 3.9,
        'dcm_host_load15{host="blv-m02"}': 3.1,
        'dcm_host_memory_total_bytes{host="blv-m02"}': 512 * GIB,
        'dcm_host_memory_available_bytes{host="blv-m02"}': 300 * GIB,
        'dcm_host_filesystem_size_bytes{host="blv-m02",mountpoint="/srv"}': 20_480 * GIB,
        'dcm_host_filesystem_used_bytes{host="blv-m02",mountpoint="/srv"}': 6_000 * GIB,
        'dcm_host_filesystem_used_bytes{host="blv-m02",mountpoint="/boot"}': GIB / 4,
        'dcm_host_filesystem_avail_bytes{host="blv-m02",mountpoint="/srv"}': 14_480 * GIB,
        'dcm_host_filesystem_avail_bytes{host="blv-m02",mountpoint="/boot"}': (3 * GIB) / 4,
        'dcm_host_filesystem_avail_bytes{host="blv-m02",mountpoint="/srv/odd \\"quoted\\" \\\\ back\\\\slash"}': TIB - 1,
        'dcm_host_network_receive_bytes_total{host="blv-m02",device="eno1"}': 987_654_322,
        'dcm_host_network_transmit_bytes_total{host="blv-m02",device="eno2"}': 44_445,
      };
      const used = measuredFrom(report);
      expect(used.storage).toBe(6_000 * GIB); // /srv only: neither /, /var, /boot nor the odd mount was declared storage
      Object.assign(expected, {
        'dcm_host_used{host="blv-m02",site="unassigned",resource="vcpu",unit="count"}': used.vcpu,
        'dcm_host_used{host="blv-m02",site="unassigned",resource="memory",unit="bytes"}': used.memory,
        'dcm_host_used{host="blv-m02",site="unassigned",resource="storage",unit="bytes"}': used.storage,
      });
      for (const [key, value] of Object.entries(expected)) expect([key, series.get(key)]).toEqual([key, value]);
      expect([...series.keys()].filter((key) => key.startsWith('dcm_host_used{host="blv-m01"'))).toEqual([]); // no agent, no measurement
      // Exact integers: a 20 TiB limit is written out in full, not as 2.1990232555520e+13.
      expect(text).toContain('dcm_tenant_quota_limit{tenant="torfaen",resource="storage",unit="bytes"} 21990232555520\n');

      const reportedAt = series.get('dcm_host_last_report_timestamp_seconds{host="blv-m02"}')!;
      expect(reportedAt).toBeGreaterThanOrEqual(Math.floor(before / 1000));
      expect(reportedAt).toBeLessThanOrEqual(Date.now() / 1000);
      expect(series.has('dcm_host_last_report_timestamp_seconds{host="blv-m01"}')).toBe(false); // no agent, no report
      // Control's receive time minus collectedAt: the report was collected just before it was posted.
      const skew = series.get('dcm_agent_clock_skew_seconds{host="blv-m02"}')!;
      expect(skew).toBeGreaterThanOrEqual(0);
      expect(skew).toBeLessThanOrEqual((Date.now() - before) / 1000 + 1);
      expect(series.has('dcm_agent_clock_skew_seconds{host="blv-m01"}')).toBe(false);
      // The tenant control does not know was dropped from the report, and counted.
      expect(series.get('dcm_agent_report_entries_dropped_total{reason="tenant-not-on-host"}')).toBeGreaterThanOrEqual(1);
      expect(series.has('dcm_host_cpu_usage_ratio{host="blv-m01"}')).toBe(false);
      expect(series.has('dcm_tenant_used{tenant="gwent-police",resource="memory",unit="bytes"}')).toBe(false); // never measured

      // Every family of the catalogue, each announced once, then prom-client's default process metrics.
      for (const definition of METRIC_CATALOGUE) {
        expect(families.filter((family) => family === definition.name)).toHaveLength(1);
        expect(text).toContain(`# TYPE ${definition.name} ${definition.type}\n`);
      }
      expect(families).toEqual(expect.arrayContaining(['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_total_bytes']));

      const check = promtoolCheck(text);
      expect([check.status, check.output]).toEqual([0, '']);
    });

    it('follows changes: quota state and freezes, allocations, new reports; offboarded tenants and decommissioned hosts go', async () => {
      const { api } = control;
      const dataSource = control.app.get(DataSource);
      await dataSource.query(
        backend === 'PostgreSQL'
          ? `UPDATE quotas SET state = 'over' WHERE resource_class = 'vcpu' AND tenant_id = (SELECT id FROM tenants WHERE slug = $1)`
          : `UPDATE quotas SET state = 'over' WHERE resource_class = 'vcpu' AND tenant_id = (SELECT id FROM tenants WHERE slug = ?)`,
        ['gwent-police'],
      );
      await expectStatus(api.patch('/v1/tenants/gwent-police', { state: 'frozen' }), 200);
      await expectStatus(api.post('/v1/allocations', { tenant: 'torfaen', host: 'blv-m01', resources: { vcpu: 4 } }), 201);
      await createTenant(api, 'leaving');
      await createHost(api, 'blv-m03', { vcpu: { total: 8 } });
      let { series } = await scrape();
      expect(series.get('dcm_tenant_frozen{tenant="leaving"}')).toBe(0);
      expect(series.get('dcm_host_up{host="blv-m03",site="hall-a"}')).toBe(1);

      await expectStatus(api.delete('/v1/tenants/leaving'), 200);
      await expectStatus(api.delete('/v1/hosts/blv-m03'), 200);
      const agent = await enrol('blv-m04');
      await expectStatus(api.put('/v1/hosts/blv-m04/tenants/torfaen'), 200);
      const report = aReport(7, {
        collectedAt: new Date().toISOString(),
        cpu: { usageRatio: 0.5, load1: 1, load5: 1, load15: 1, logicalCores: 48 },
        memory: { totalBytes: 256 * GIB, availableBytes: 100 * GIB },
        tenants: { torfaen: { memoryBytes: GIB } },
      });
      report.filesystems.find((filesystem) => filesystem.mountpoint === '/srv')!.usedBytes = 1_234 * GIB;
      await expectStatus(api.post(`/v1/agents/${agent.agentId}/reports`, report, { token: agent.agentToken }), 200);

      ({ series } = await scrape());
      expect(series.get('dcm_tenant_quota_state{tenant="gwent-police",resource="vcpu",state="over"}')).toBe(1);
      expect(series.get('dcm_tenant_quota_state{tenant="gwent-police",resource="vcpu",state="ok"}')).toBe(0);
      expect(series.get('dcm_tenant_frozen{tenant="gwent-police"}')).toBe(1);
      expect(series.get('dcm_tenant_allocated{tenant="torfaen",resource="vcpu",unit="count"}')).toBe(12);
      expect(series.get('dcm_host_allocated{host="blv-m01",site="hall-a",resource="vcpu",unit="count"}')).toBe(12);
      expect(series.get('dcm_tenant_used{tenant="torfaen",resource="memory",unit="bytes"}')).toBe(4 * GIB); // 3 GiB on blv-m02 + 1 GiB on blv-m04
      expect(series.get('dcm_host_network_receive_bytes_total{host="blv-m04",device="eno1"}')).toBe(987_654_328);
      expect([...series.keys()].filter((key) => key.includes('"leaving"') || key.includes('"blv-m03"'))).toEqual([]);
      // Each host's measured use is its own report's; the site's, their sum, is what GET /v1/capacity calls used.
      const m04 = measuredFrom(report);
      const m02 = measuredFrom(aReport(1));
      const capacity = await expectStatus(api.get('/v1/capacity'), 200);
      const unassigned = capacity.sites.find((site: { site: string }) => site.site === 'unassigned').resources;
      for (const resource of ['vcpu', 'memory', 'storage'] as const) {
        const unit = resource === 'vcpu' ? 'count' : 'bytes';
        const hostUsed = (host: string) => series.get(`dcm_host_used{host="${host}",site="unassigned",resource="${resource}",unit="${unit}"}`)!;
        expect([resource, hostUsed('blv-m04')]).toEqual([resource, m04[resource]]);
        expect([resource, hostUsed('blv-m02') + hostUsed('blv-m04')]).toEqual([resource, m02[resource] + m04[resource]]);
        expect([resource, hostUsed('blv-m02') + hostUsed('blv-m04')]).toEqual([resource, unassigned[resource].used]);
      }

      // Inventories changed through each path that writes them: the host API, and an allocation's release.
      await expectStatus(api.put('/v1/hosts/blv-m01/inventories/vcpu', { total: 40, reserved: 2 }), 200);
      await expectStatus(api.put('/v1/resource-classes/custom_gpu', { unit: 'count' }), 200);
      await expectStatus(api.put('/v1/hosts/blv-m01/inventories/custom_gpu', { total: 4 }), 200);
      const allocations = await expectStatus(api.get('/v1/allocations?tenant=torfaen'), 200);
      const small = allocations.find((allocation: { resources: Record<string, number> }) => allocation.resources.vcpu === 4);
      await expectStatus(api.delete(`/v1/allocations/${small.id}`), 200);
      ({ series } = await scrape());
      expect(series.get('dcm_host_capacity{host="blv-m01",site="hall-a",resource="vcpu",unit="count"}')).toBe(152);
      expect(series.get('dcm_host_allocated{host="blv-m01",site="hall-a",resource="vcpu",unit="count"}')).toBe(8);
      expect(series.get('dcm_host_capacity{host="blv-m01",site="hall-a",resource="custom_gpu",unit="count"}')).toBe(4);
    });

    it('keeps showing a host that went silent, with dcm_host_up 0, until it is decommissioned', async () => {
      setControlClock(control.app, Date.now() + 10 * 15_000 + 5_000);
      try {
        await control.app.get(LivenessService).sweep();
      } finally {
        jest.restoreAllMocks();
      }
      const { series, text } = await scrape();
      expect(series.get('dcm_host_up{host="blv-m02",site="unassigned"}')).toBe(0);
      expect(series.get('dcm_host_capacity{host="blv-m02",site="unassigned",resource="vcpu",unit="count"}')).toBe(256);
      expect(series.get('dcm_host_memory_total_bytes{host="blv-m02"}')).toBe(512 * GIB); // the last report stays visible
      expect(series.get('dcm_host_up{host="blv-m01",site="hall-a"}')).toBe(1); // no agent: up until an operator says otherwise
      expect(promtoolCheck(text)).toEqual({ status: 0, output: '' });

      // Once its latest report is older than a host counts as reporting (10 intervals and the minute), as
      // GET /v1/capacity no longer counts it, its measured use goes; the report itself stays visible.
      const measuredUsed = (keys: Iterable<string>) => [...keys].filter((key) => key.startsWith('dcm_host_used{host="blv-m02"'));
      expect(measuredUsed(series.keys())).toHaveLength(3);
      setControlClock(control.app, Date.now() + 10 * 15_000 + 60_000 + 5_000);
      try {
        const later = await scrape();
        expect(measuredUsed(later.series.keys())).toEqual([]);
        expect([...later.series.keys()].filter((key) => key.startsWith('dcm_host_used{'))).toEqual([]); // blv-m04 fell silent too
        expect(later.series.get('dcm_host_memory_total_bytes{host="blv-m02"}')).toBe(512 * GIB);
        const capacity = await expectStatus(control.api.get('/v1/capacity'), 200);
        expect(capacity.sites.find((site: { site: string }) => site.site === 'unassigned').resources.memory.used).toBeNull();
      } finally {
        jest.restoreAllMocks();
      }
    });

    it('counts the allocation requests and agent reports this process answered, by outcome', async () => {
      const { api } = control;
      await createTenant(api, 'caerphilly');
      await setQuotas(api, 'caerphilly', { vcpu: 4 });
      await createHost(api, 'blv-c09', { vcpu: { total: 16 }, memory: { total: '64GiB' } });
      const agent = await enrol('blv-c10');
      const before = (await scrape()).series;

      await expectStatus(api.post('/v1/allocations', { tenant: 'caerphilly', resources: { vcpu: 4 } }), 201);
      expectProblem(await api.post('/v1/allocations', { tenant: 'caerphilly', resources: { vcpu: 1 } }), 409, 'QuotaExceeded');
      expectProblem(await api.post('/v1/allocations', { tenant: 'no-such-tenant', resources: { vcpu: 1 } }), 404, 'NotFound');
      const post = (body: unknown) => api.post(`/v1/agents/${agent.agentId}/reports`, body, { token: agent.agentToken });
      await expectStatus(post([aReport(1), aReport(2)]), 200);
      await expectStatus(post([aReport(2), aReport(3)]), 200);
      expectProblem(await post([{ seq: 4 }, { seq: 5 }]), 400, 'ValidationFailed');
      expectProblem(await api.post(`/v1/agents/${agent.agentId}/reports`, aReport(4), { token: 'dcm_not-this-agents-token' }), 401, 'Unauthenticated');

      const { series } = await scrape();
      const delta = (key: string) => (series.get(key) ?? 0) - (before.get(key) ?? 0);
      expect(delta('dcm_allocation_requests_total{outcome="admitted"}')).toBe(1);
      expect(delta('dcm_allocation_requests_total{outcome="QuotaExceeded"}')).toBe(1);
      expect(delta('dcm_allocation_requests_total{outcome="NotFound"}')).toBe(1);
      expect(delta('dcm_agent_reports_total{outcome="accepted"}')).toBe(3);
      expect(delta('dcm_agent_reports_total{outcome="duplicate"}')).toBe(1);
      expect(delta('dcm_agent_reports_total{outcome="rejected"}')).toBe(2);
    });

    it("shows this process's counters, job durations and the forecast as the features record them", async () => {
      const recorder = control.app.get(MetricsRecorder);
      const forecast = control.app.get(ForecastGauge);
      const before = (await scrape()).series;
      recorder.countAgentReports('accepted', 3);
      recorder.countAgentReports('duplicate', 2);
      recorder.countAllocationRequest('QuotaExceeded');
      recorder.observeJob('enforcement', 0.2);
      const full = Date.UTC(2027, 0, 15, 12) / 1000;
      forecast.set('hall-a', 'vcpu', 'allocated', full);
      forecast.set('hall-a', 'vcpu', 'used', full + 86_400.5);
      forecast.set('hall-a', 'memory', 'allocated', full);
      forecast.set('hall-a', 'memory', 'allocated', null);

      const { series, text } = await scrape();
      const delta = (key: string) => series.get(key)! - (before.get(key) ?? 0);
      expect(delta('dcm_agent_reports_total{outcome="accepted"}')).toBe(3);
      expect(delta('dcm_agent_reports_total{outcome="duplicate"}')).toBe(2);
      expect(delta('dcm_allocation_requests_total{outcome="QuotaExceeded"}')).toBe(1);
      expect(delta('dcm_scheduler_job_duration_seconds_count{job="enforcement"}')).toBe(1);
      expect(series.get('dcm_scheduler_job_duration_seconds_bucket{le="0.25",job="enforcement"}')).toBeGreaterThanOrEqual(1);
      expect(series.get('dcm_capacity_forecast_full_timestamp_seconds{site="hall-a",resource="vcpu",basis="allocated"}')).toBe(full);
      expect(series.get('dcm_capacity_forecast_full_timestamp_seconds{site="hall-a",resource="vcpu",basis="used"}')).toBe(full + 86_400.5);
      expect(series.has('dcm_capacity_forecast_full_timestamp_seconds{site="hall-a",resource="memory",basis="allocated"}')).toBe(false);
      // With forecast series present, the whole exposition passes promtool's checks, its naming lint included.
      expect(promtoolCheck(text)).toEqual({ status: 0, output: '' });
      forecast.set('hall-a', 'vcpu', 'allocated', null);
      forecast.set('hall-a', 'vcpu', 'used', null);
      expect(promtoolCheck((await scrape()).text)).toEqual({ status: 0, output: '' });
    });
  });
}

describeMetrics('SQLite');
describeMetrics('PostgreSQL');

describe('GET /metrics scraped by a real Prometheus', () => {
  let control: RunningControl;
  let prometheus: RunningPrometheus | undefined;
  let workDir: string;

  beforeAll(async () => {
    control = await startControl({ metricsToken: METRICS_TOKEN });
    workDir = mkdtempSync(join(tmpdir(), 'dcm-prometheus-config-'));
  });

  afterAll(async () => {
    await prometheus?.close();
    await control?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('scrapes control and sees its hosts and tenants', async () => {
    await createTenant(control.api, 'caerphilly');
    await setQuotas(control.api, 'caerphilly', { vcpu: 48 });
    await createHost(control.api, 'blv-p01', { vcpu: { total: 16 } });

    const config = writeScrapeConfig(workDir, control.url, METRICS_TOKEN);
    prometheus = await startPrometheus(config);
    const query = async (promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> =>
      (await prometheus!.api(`/api/v1/query?query=${encodeURIComponent(promql)}`)).data?.result ?? [];
    let seen: Record<string, string | undefined> = {};
    await eventually(
      () => `a scrape with the host and the quota (last seen: ${JSON.stringify(seen)})`,
      async () => {
        const [up, hostUp, limit] = await Promise.all([
          query('up{job="dcm"}'),
          query('dcm_host_up{host="blv-p01"}'),
          query('dcm_tenant_quota_limit{tenant="caerphilly",resource="vcpu"}'),
        ]);
        seen = { up: up[0]?.value[1], hostUp: hostUp[0]?.value[1], limit: limit[0]?.value[1], site: hostUp[0]?.metric.site, unit: limit[0]?.metric.unit };
        return seen.up === '1' && seen.hostUp !== undefined && seen.limit !== undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(seen).toEqual({ up: '1', hostUp: '1', limit: '48', site: 'hall-a', unit: 'count' });
  }, 90_000);
});
