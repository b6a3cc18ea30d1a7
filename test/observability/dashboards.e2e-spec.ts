import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { METRIC_CATALOGUE } from '../../apps/control/src/telemetry/metric-catalogue';
import {
  allPanels,
  dashboardExprs,
  GRAFANA_DIR,
  loadAlertRules,
  loadDashboards,
  parsePromql,
  problemsOf,
  substituteGrafanaMacros,
  variableQueryExpr,
} from './promql';
import { RunningPrometheus, startPrometheus, writeScrapeConfig } from '../support/prometheus';
import { startAgent } from '../support/agent-process';
import { RunningControl, startControl } from '../support/control';
import { createHost, createTenant, enrolAgent, expectStatus, setQuotas } from '../support/facility';
import { aReport } from '../support/reports';
import { CapacitySamplingService } from '../../apps/control/src/history/capacity-sampling.service';
import { MetricsJobs } from '../../apps/control/src/metrics/metrics-jobs';
import { setControlClock } from '../support/clock';
import { eventually } from '../support/eventually';

const EXPECTED_DASHBOARDS = ['facility-overview.json', 'host-detail.json', 'tenant-detail.json'];

function provisionedDatasourceUid(): string {
  const file = parseYaml(readFileSync(join(GRAFANA_DIR, 'provisioning', 'datasources', 'dcm.yml'), 'utf8')) as { datasources: { uid: string; type: string }[] };
  const [prometheus, ...others] = file.datasources.filter((datasource) => datasource.type === 'prometheus');
  if (!prometheus || others.length > 0) throw new Error('the provisioning file must define exactly one Prometheus data source');
  return prometheus.uid;
}

describe('PromQL checker', () => {
  it('finds metric and label names in selectors, matchers and clauses', () => {
    expect(
      parsePromql('sum by (site) (rate(dcm_agent_reports_total{outcome="accepted"}[$__rate_interval])) / on (site) group_left {__name__="up", job="dcm"}'),
    ).toEqual({
      selectors: [
        { metric: 'dcm_agent_reports_total', labels: ['outcome'] },
        { metric: 'up', labels: ['job'] },
      ],
      groupingLabels: ['site', 'site'],
      errors: [],
    });
  });

  it('accepts catalogue names, histogram series, up and target labels', () => {
    expect(problemsOf('max by (host, site) (dcm_host_up{site=~"$site"}) == 0')).toEqual([]);
    expect(problemsOf('histogram_quantile(0.95, sum by (exported_job, le) (rate(dcm_scheduler_job_duration_seconds_bucket[5m])))')).toEqual([]);
    expect(problemsOf('rate(dcm_scheduler_job_duration_seconds_sum[5m]) / rate(dcm_scheduler_job_duration_seconds_count[5m])')).toEqual([]);
    expect(problemsOf('up{job="dcm", instance="127.0.0.1:3000"} == 0')).toEqual([]);
    expect(problemsOf('dcm_scheduler_job_duration_seconds_bucket{exported_job="enforcement", le="+Inf"}')).toEqual([]);
  });

  it('reports unknown metrics, unknown labels, nameless selectors and syntax errors', () => {
    expect(problemsOf('dcm_host_upp{site="a"}')).toEqual(['unknown metric dcm_host_upp']);
    expect(problemsOf('dcm_tenant_used{tennant="torfaen"}')).toEqual(['dcm_tenant_used has no label tennant']);
    expect(problemsOf('sum by (mountpoint) (dcm_host_up)')).toEqual(['no selected metric has label mountpoint (by/on/group clause)']);
    expect(problemsOf('dcm_scheduler_job_duration_seconds_count{le="1"}')).toEqual(['dcm_scheduler_job_duration_seconds_count has no label le']);
    expect(problemsOf('dcm_host_load1_bucket')).toEqual(['unknown metric dcm_host_load1_bucket']);
    expect(problemsOf('{host="a"}')).toEqual(['a selector without a metric name']);
    expect(problemsOf('sum(dcm_host_up')).toEqual([expect.stringMatching(/^syntax error/)]);
    expect(problemsOf('dcm_host_up{site=$site}')).toContainEqual(expect.stringMatching(/^syntax error/));
  });

  it("takes the expression out of Grafana's variable queries", () => {
    expect(variableQueryExpr('label_values(dcm_tenant_quota_limit{tenant="$tenant"}, resource)')).toBe('dcm_tenant_quota_limit{tenant="$tenant"}');
    expect(variableQueryExpr('query_result(topk(5, dcm_host_load1))')).toBe('topk(5, dcm_host_load1)');
    expect(variableQueryExpr('label_values(site)')).toBeUndefined();
    expect(substituteGrafanaMacros('rate(x[$__rate_interval]) + rate(y[${__interval}])')).toBe('rate(x[5m]) + rate(y[5m])');
  });
});

describe('Grafana dashboards', () => {
  const dashboards = loadDashboards();

  it('ships the facility, tenant and host dashboards, each with its own uid', () => {
    expect(dashboards.map(({ file }) => file)).toEqual(EXPECTED_DASHBOARDS);
    const uids = dashboards.map(({ json }) => json.uid);
    expect(new Set(uids).size).toBe(uids.length);
  });

  it.each(EXPECTED_DASHBOARDS)('%s is a well-formed dashboard', (file) => {
    const { json } = dashboards.find((dashboard) => dashboard.file === file)!;
    expect(json).toMatchObject({ title: expect.stringMatching(/^dcm \/ /), schemaVersion: expect.any(Number), tags: expect.arrayContaining(['dcm']) });
    expect(json.schemaVersion).toBeGreaterThanOrEqual(36);
    const panels = allPanels(json.panels);
    const ids = panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels) {
      expect({ title: panel.title, gridPos: panel.gridPos }).toEqual({
        title: expect.any(String),
        gridPos: { x: expect.any(Number), y: expect.any(Number), w: expect.any(Number), h: expect.any(Number) },
      });
      expect(panel.gridPos.x + panel.gridPos.w).toBeLessThanOrEqual(24);
      if (panel.type === 'row') continue;
      expect(panel.targets?.length).toBeGreaterThan(0);
      for (const target of panel.targets) expect(target).toMatchObject({ refId: expect.stringMatching(/^[A-Z]$/), expr: expect.any(String) });
    }
  });

  it.each(EXPECTED_DASHBOARDS)('%s queries only the provisioned data source', (file) => {
    const datasourceUid = provisionedDatasourceUid();
    expect(datasourceUid).toBe('dcm-prometheus');
    const { json } = dashboards.find((dashboard) => dashboard.file === file)!;
    const uses = [
      ...allPanels(json.panels)
        .filter((panel) => panel.type !== 'row')
        .flatMap((panel) => [panel.datasource, ...panel.targets.map((target: any) => target.datasource)]),
      ...json.templating.list.filter((variable: any) => variable.type === 'query').map((variable: any) => variable.datasource),
    ];
    expect(uses.length).toBeGreaterThan(0);
    for (const datasource of uses) expect(datasource).toEqual({ type: 'prometheus', uid: datasourceUid });
  });

  it('uses only valid PromQL on metrics control exports', () => {
    const exprs = dashboards.flatMap(dashboardExprs);
    expect(exprs.length).toBeGreaterThan(40);
    const problems = exprs.flatMap(({ dashboard, where, expr }) => problemsOf(expr).map((problem) => `${dashboard} ${where}: ${problem} in ${expr}`));
    expect(problems).toEqual([]);
  });

  it('shows every exported metric somewhere', () => {
    const used = new Set(
      dashboards.flatMap(dashboardExprs).flatMap(({ expr }) => parsePromql(expr).selectors.map(({ metric }) => metric?.replace(/_(bucket|sum|count)$/, ''))),
    );
    expect(METRIC_CATALOGUE.map(({ name }) => name).filter((name) => !used.has(name))).toEqual([]);
  });
});

describe('alert rules', () => {
  it('use only valid PromQL on metrics control exports', () => {
    const rules = loadAlertRules();
    expect(rules.length).toBeGreaterThan(0);
    const problems = rules.flatMap(({ alert, expr }) => problemsOf(expr).map((problem) => `${alert}: ${problem} in ${expr}`));
    expect(problems).toEqual([]);
  });
});

describe('dashboard queries run by a real Prometheus', () => {
  let prometheus: RunningPrometheus;
  let workDir: string;

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'dcm-dashboards-'));
    const config = join(workDir, 'prometheus.yml');
    writeFileSync(config, 'global: { scrape_interval: 15s }\nscrape_configs: []\n');
    prometheus = await startPrometheus(config);
  });

  afterAll(async () => {
    await prometheus?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  // Prometheus's own parser also checks types and functions' arguments, which lezer-promql does not.
  it('accepts every expression, with Grafana variables filled in', async () => {
    const exprs = loadDashboards().flatMap(dashboardExprs);
    const refused: string[] = [];
    for (const { dashboard, where, expr } of exprs) {
      const query = substituteGrafanaMacros(expr).replace(/\$\{?\w+\}?/g, 'x');
      const answer = await prometheus.api(`/api/v1/query?query=${encodeURIComponent(query)}`);
      if (answer.status !== 'success') refused.push(`${dashboard} ${where}: ${answer.error} in ${query}`);
    }
    expect(refused).toEqual([]);
  });

  it('refuses an expression of the wrong type, so the check above can fail', async () => {
    await expect(prometheus.api(`/api/v1/query?query=${encodeURIComponent('rate(dcm_host_load1)')}`)).resolves.toMatchObject({
      status: 'error',
      errorType: 'bad_data',
    });
  });
});

/** `df -B1 MOUNT`'s used and available bytes, as the operator would read them. */
function df(mountpoint: string): { used: number; avail: number } {
  const [, line] = execFileSync('df', ['-B1', '--output=used,avail', mountpoint], { encoding: 'utf8' }).trim().split('\n');
  const [used, avail] = line.trim().split(/\s+/).map(Number);
  return { used, avail };
}

/** The figures in /proc/loadavg: load over 1, 5 and 15 minutes. */
function procLoadavg(): number[] {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
}

/** The target expressions of a panel, by dashboard file and panel title, with the variables given filled in. */
function panelExprs(file: string, title: string, variables: Record<string, string>): string[] {
  const { json } = loadDashboards().find((dashboard) => dashboard.file === file)!;
  const panel = allPanels(json.panels).find((candidate) => candidate.title === title);
  if (!panel) throw new Error(`${file} has no panel "${title}"`);
  return panel.targets.map((target: { expr: string }) =>
    Object.entries(variables).reduce((expr, [name, value]) => expr.replaceAll(`$${name}`, value), target.expr),
  );
}

/** Instant queries against a running Prometheus, and polling until a series shows up. */
function querier(prometheus: () => RunningPrometheus | undefined, context: () => string) {
  const query = async (promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> => {
    const answer = await prometheus()!.api(`/api/v1/query?query=${encodeURIComponent(promql)}`);
    if (answer.status !== 'success') throw new Error(`${answer.error} in ${promql}`);
    return answer.data.result;
  };
  /** Polls until the query has a series matching `labels`; its value. */
  const valueOf = async (promql: string, labels: Record<string, string> = {}): Promise<number> => {
    const found = await eventually(
      () => `a series of ${promql}; ${context()}`,
      async () => (await query(promql)).find((series) => Object.entries(labels).every(([key, value]) => series.metric[key] === value)),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    return Number(found.value[1]);
  };
  return { query, valueOf };
}

describe('the host dashboard on this machine, through a real agent, control and Prometheus', () => {
  const METRICS_TOKEN = 'metrics-token-for-the-dashboard-suite';
  let control: RunningControl;
  let prometheus: RunningPrometheus | undefined;
  let agent: ReturnType<typeof startAgent> | undefined;
  let workDir: string;

  const { valueOf } = querier(
    () => prometheus,
    () => `the agent said: ${agent?.output().slice(-500)}`,
  );

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'dcm-host-dashboard-'));
    control = await startControl({ metricsToken: METRICS_TOKEN, reportIntervalSeconds: 1 });
    const join_ = await expectStatus(control.api.post('/v1/tokens', { kind: 'join', uses: 1 }), 201);
    agent = startAgent(workDir, { controlUrl: control.url, joinToken: join_.token, hostname: 'this-machine', intervalSeconds: 1, storageMounts: ['/'] });
    const config = writeScrapeConfig(workDir, control.url, METRICS_TOKEN);
    prometheus = await startPrometheus(config);
  }, 60_000);

  afterAll(async () => {
    await agent?.stop();
    await prometheus?.close();
    await control?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('shows the used share of / as df does, root-reserved blocks not counted as used', async () => {
    const [share] = panelExprs('host-detail.json', 'Filesystems: used share', { host: 'this-machine' });
    const shown = await valueOf(share, { mountpoint: '/' });
    const { used, avail } = df('/');
    // Within half a percentage point: the disk is shared with whatever else runs here between the two readings.
    expect(Math.abs(shown - used / (used + avail))).toBeLessThan(0.005);
    const [, , tableShare] = panelExprs('host-detail.json', 'Filesystems now', { host: 'this-machine' });
    await expect(valueOf(tableShare, { mountpoint: '/' })).resolves.toBeCloseTo(shown, 2);
  }, 90_000);

  it('shows the five- and fifteen-minute load averages the kernel gives', async () => {
    const exprs = panelExprs('host-detail.json', 'Load average', { host: 'this-machine' });
    expect(exprs).toHaveLength(3);
    const shown = [];
    for (const expr of exprs) shown.push(await valueOf(expr));
    const kernel = procLoadavg();
    // Averages over minutes move little in the seconds between the agent's reading and this one.
    expect(Math.abs(shown[1] - kernel[1])).toBeLessThan(0.5);
    expect(Math.abs(shown[2] - kernel[2])).toBeLessThan(0.25);
  }, 90_000);
});

describe("the facility dashboard's forecast, through a real Prometheus, against GET /v1/capacity/forecast", () => {
  const METRICS_TOKEN = 'metrics-token-for-the-forecast-dashboard';
  const HOUR = 3_600_000;
  const DAY = 24 * HOUR;
  let control: RunningControl;
  let prometheus: RunningPrometheus | undefined;
  let workDir: string;
  const { valueOf } = querier(
    () => prometheus,
    () => 'control exported no forecast',
  );

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'dcm-forecast-dashboard-'));
    control = await startControl({ metricsToken: METRICS_TOKEN, forecastWindowDays: 30 });
    await createTenant(control.api, 'torfaen');
    await setQuotas(control.api, 'torfaen', { vcpu: 10_000 });
    await createHost(control.api, 'blv-a01', { vcpu: { total: 64 } }, { site: 'hall-a' });
    // 16 vCPU more every day for 10 days, ending now, sampled every 6 hours on control's clock.
    const start = Math.floor(Date.now() / HOUR) * HOUR - 10 * DAY;
    for (let day = 0; day < 10; day++) {
      setControlClock(control.app, start + day * DAY);
      await expectStatus(control.api.post('/v1/allocations', { tenant: 'torfaen', resources: { vcpu: 16 }, host: 'blv-a01' }), 201);
      for (const hour of [0, 6, 12, 18]) {
        setControlClock(control.app, start + day * DAY + hour * HOUR);
        await control.app.get(CapacitySamplingService).sample();
      }
    }
    jest.restoreAllMocks();
    await control.app.get(MetricsJobs).refreshForecast();
    prometheus = await startPrometheus(writeScrapeConfig(workDir, control.url, METRICS_TOKEN));
  }, 60_000);

  afterAll(async () => {
    jest.restoreAllMocks();
    await prometheus?.close();
    await control?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it("shows the days until full that the API gives, and the API's fullAt is the exported time", async () => {
    const forecast = await expectStatus(control.api.get('/v1/capacity/forecast'), 200);
    const vcpu = forecast.sites.find((site: { site: string }) => site.site === 'hall-a').resources.vcpu;
    expect(vcpu.daysUntilFull.allocated).toBeGreaterThan(0);

    const everything = { site: '.*', resource: '.*' };
    const [allocated] = panelExprs('facility-overview.json', 'Days until full', everything);
    const shown = await valueOf(allocated, { site: 'hall-a', resource: 'vcpu' });
    // The API gives days to a tenth; Prometheus counts from a moment a few seconds later.
    expect(Math.abs(shown - vcpu.daysUntilFull.allocated)).toBeLessThanOrEqual(0.06);
    const [soonest] = panelExprs('facility-overview.json', 'Soonest full', everything);
    await expect(valueOf(soonest)).resolves.toBeCloseTo(shown, 3);
    const exported = await valueOf('dcm_capacity_forecast_full_timestamp_seconds{basis="allocated", site="hall-a", resource="vcpu"}');
    expect(exported).toBe(Date.parse(vcpu.fullAt.allocated) / 1000);
  }, 90_000);
});

describe("the facility dashboard's used, through a real Prometheus, against GET /v1/capacity", () => {
  const METRICS_TOKEN = 'metrics-token-for-the-used-dashboard';
  const GIB = 2 ** 30;
  let control: RunningControl;
  let prometheus: RunningPrometheus | undefined;
  let workDir: string;
  const { valueOf } = querier(
    () => prometheus,
    () => 'control exported no dcm_host_used',
  );

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'dcm-used-dashboard-'));
    control = await startControl({ metricsToken: METRICS_TOKEN, reportIntervalSeconds: 15 });
    // Two hosts at hall-a, one at hall-b, each reporting different figures; /srv is their declared storage mount.
    const hosts = [
      { name: 'blv-u01', site: 'hall-a', usageRatio: 0.31, cores: 64, total: 512, available: 300, srv: 6_000 },
      { name: 'blv-u02', site: 'hall-a', usageRatio: 0.87, cores: 48, total: 256, available: 17, srv: 123 },
      { name: 'blv-u03', site: 'hall-b', usageRatio: 0.05, cores: 16, total: 64, available: 60, srv: 1 },
    ];
    for (const host of hosts) {
      const agent = await enrolAgent(control.api, host.name, undefined, { accept: true }); // the facility's figures count accepted hosts
      await expectStatus(control.api.patch(`/v1/hosts/${host.name}`, { site: host.site }), 200);
      const report = aReport(1, {
        collectedAt: new Date().toISOString(),
        cpu: { usageRatio: host.usageRatio, load1: 1, load5: 1, load15: 1, logicalCores: host.cores },
        memory: { totalBytes: host.total * GIB, availableBytes: host.available * GIB },
      });
      report.filesystems.find((filesystem) => filesystem.mountpoint === '/srv')!.usedBytes = host.srv * GIB;
      await expectStatus(control.api.post(`/v1/agents/${agent.agentId}/reports`, report, { token: agent.agentToken }), 200);
    }
    prometheus = await startPrometheus(writeScrapeConfig(workDir, control.url, METRICS_TOKEN));
  }, 60_000);

  afterAll(async () => {
    await prometheus?.close();
    await control?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it("shows each site's used per class, and the facility's, as GET /v1/capacity gives them", async () => {
    const capacity = await expectStatus(control.api.get('/v1/capacity'), 200);
    const everything = { site: '.*', resource: '.*' };
    const [, , , , bytesUsed] = panelExprs('facility-overview.json', 'Classes measured in bytes, now', everything);
    const [, , , , unitsUsed] = panelExprs('facility-overview.json', 'Classes counted in units (vCPU, custom), now', everything);
    const shown: Record<string, number> = {};
    const expected: Record<string, number> = {};
    for (const { site, resources } of capacity.sites as { site: string; resources: Record<string, { used: number | null }> }[]) {
      for (const resource of ['vcpu', 'memory', 'storage']) {
        expected[`${site} ${resource}`] = resources[resource].used!;
        shown[`${site} ${resource}`] = await valueOf(resource === 'vcpu' ? unitsUsed : bytesUsed, { site, resource });
      }
    }
    expect(Object.keys(shown)).toHaveLength(6);
    expect(shown).toEqual(expected);
    expect(expected['hall-a memory']).toBe((512 - 300 + 256 - 17) * GIB); // the sum of what hall-a's hosts reported

    for (const resource of ['vcpu', 'memory', 'storage']) {
      const [, , facilityUsed] = panelExprs('facility-overview.json', '$resource: capacity, allocated and used', { site: '.*', resource });
      await expect(valueOf(facilityUsed, { resource })).resolves.toBeCloseTo(capacity.facility.resources[resource].used, 6);
      const [, facilityShare] = panelExprs('facility-overview.json', 'Used (as the hosts measure it) share of capacity, by site and for the facility', {
        resource: '.*',
      });
      const { used, capacity: total } = capacity.facility.resources[resource];
      await expect(valueOf(facilityShare, { resource })).resolves.toBeCloseTo(used / total, 9);
    }
  }, 90_000);
});
