import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { METRIC_CATALOGUE } from '../../apps/control/src/metrics/metric-catalogue';
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
import { RunningPrometheus, startPrometheus } from '../support/prometheus';

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
