import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOST_SERIES_BUDGET } from '@dcm/protocol';
import { parse as parseYaml } from 'yaml';
import { loadAlertRules, PROMETHEUS_DIR, REPO } from './promql';
import { PROMTOOL, requireBinary, RunningPrometheus, startPrometheus } from '../support/prometheus';
import { eventually } from '../support/eventually';

const CONFIG = 'config/prometheus/prometheus.yml';
const RULES = 'config/prometheus/rules/dcm.rules.yml';
const RULE_TESTS = 'config/prometheus/rules/dcm.rules.test.yml';

/** Runs promtool from the repository root; the exit status and everything it printed, so a failure shows why. */
function promtool(...args: string[]): { status: number | null; output: string } {
  requireBinary(PROMTOOL);
  const result = spawnSync(PROMTOOL, args, { cwd: REPO, encoding: 'utf8' });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

interface RuleTests {
  rule_files: string[];
  tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
}

describe('shipped Prometheus configuration', () => {
  it('is a valid configuration that loads the rule files and not their tests', () => {
    const check = promtool('check', 'config', CONFIG);
    expect(check).toEqual({ status: 0, output: expect.stringContaining(`Checking ${RULES}`) });
    expect(check.output).toContain('SUCCESS: 1 rule files found');
  });

  it('scrapes control at /metrics as job "dcm"', () => {
    const config = parseYaml(readFileSync(join(REPO, CONFIG), 'utf8')) as { scrape_configs: Record<string, unknown>[] };
    expect(config.scrape_configs).toContainEqual(
      expect.objectContaining({ job_name: 'dcm', metrics_path: '/metrics', static_configs: [{ targets: ['127.0.0.1:3000'] }] }),
    );
  });

  it("limits what a scrape of control may bring, and keeps every name within control's series budget", () => {
    const config = parseYaml(readFileSync(join(REPO, CONFIG), 'utf8')) as { scrape_configs: Record<string, number | undefined>[] };
    const dcm = config.scrape_configs.find((job) => (job.job_name as unknown) === 'dcm')!;
    expect(dcm).toMatchObject({ sample_limit: expect.any(Number), label_limit: expect.any(Number), label_name_length_limit: expect.any(Number) });
    // A mountpoint or device name control keeps, at 4 bytes a character in UTF-8, is not cut off by Prometheus.
    expect(dcm.label_value_length_limit).toBeGreaterThanOrEqual(4 * HOST_SERIES_BUDGET.labelLength);
  });

  it('has valid alert rules', () => {
    expect(promtool('check', 'rules', RULES)).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  it("passes the rules' unit tests", () => {
    expect(promtool('test', 'rules', RULE_TESTS)).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  it('tests every alert both firing and not firing', () => {
    const tests = parseYaml(readFileSync(join(REPO, RULE_TESTS), 'utf8')) as RuleTests;
    expect(tests.rule_files).toEqual(['dcm.rules.yml']);
    const cases = tests.tests.flatMap((test) => test.alert_rule_test ?? []);
    const coverage = (alert: string) => ({
      alert,
      firing: cases.some((test) => test.alertname === alert && (test.exp_alerts?.length ?? 0) > 0),
      silent: cases.some((test) => test.alertname === alert && (test.exp_alerts?.length ?? 0) === 0),
    });
    const alerts = loadAlertRules().map((rule) => rule.alert);
    expect(alerts.map(coverage)).toEqual(alerts.map((alert) => ({ alert, firing: true, silent: true })));
  });

  it('gives every alert a severity, a summary, a description and what to do', () => {
    for (const rule of loadAlertRules()) {
      expect({ alert: rule.alert, severity: rule.labels?.severity, annotations: Object.keys(rule.annotations ?? {}).sort() }).toEqual({
        alert: rule.alert,
        severity: expect.stringMatching(/^(critical|warning)$/),
        annotations: ['description', 'runbook', 'summary'],
      });
    }
  });
});

describe('a real Prometheus on the shipped configuration', () => {
  let prometheus: RunningPrometheus;

  beforeAll(async () => {
    prometheus = await startPrometheus(join(PROMETHEUS_DIR, 'prometheus.yml'));
  });

  afterAll(async () => {
    await prometheus?.close();
  });

  it('starts, loads every alert rule and scrapes job "dcm"', async () => {
    const rules = await prometheus.api('/api/v1/rules?type=alert');
    const loaded = (rules.data.groups as { rules: { name: string }[] }[]).flatMap((group) => group.rules.map((rule) => rule.name));
    expect(loaded.sort()).toEqual(
      loadAlertRules()
        .map((rule) => rule.alert)
        .sort(),
    );

    // Service discovery hands targets to the scrape manager a few seconds after start.
    const targets: unknown[] = await eventually(
      'an active scrape target',
      async () => {
        const active: unknown[] = (await prometheus.api('/api/v1/targets?state=active')).data.activeTargets;
        return active.length > 0 ? active : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    expect(targets).toEqual([
      expect.objectContaining({ scrapePool: 'dcm', scrapeUrl: 'http://127.0.0.1:3000/metrics', labels: { job: 'dcm', instance: '127.0.0.1:3000' } }),
    ]);
  });
});
