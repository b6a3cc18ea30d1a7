import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { parse as parseYaml } from 'yaml';
import { METRIC_CATALOGUE } from '../../apps/control/src/telemetry/metric-catalogue';

export const REPO = join(__dirname, '..', '..');
export const PROMETHEUS_DIR = join(REPO, 'config', 'prometheus');
export const GRAFANA_DIR = join(REPO, 'config', 'grafana');
export const DASHBOARDS_DIR = join(GRAFANA_DIR, 'dashboards');

/** What one PromQL expression selects: each vector selector's metric name (when it has one) and label-matcher names. */
export interface Selector {
  metric: string | undefined;
  labels: string[];
}

export interface ParsedPromql {
  selectors: Selector[];
  /** Label names in by/without/on/ignoring/group_left/group_right clauses. */
  groupingLabels: string[];
  /** Where lezer-promql found a syntax error, as "offset: text". */
  errors: string[];
}

const unquote = (literal: string): string => JSON.parse(literal.startsWith("'") ? `"${literal.slice(1, -1).replace(/"/g, '\\"')}"` : literal) as string;

/** Grafana's interval macros are not PromQL: give them a duration so the expression parses as Prometheus will receive it. */
export function substituteGrafanaMacros(expr: string): string {
  return expr.replace(/\$\{?__(rate_interval|interval|range)(_ms|_s)?\}?/g, '5m');
}

/** Parses one expression with the official PromQL grammar (@prometheus-io/lezer-promql). */
export function parsePromql(expr: string): ParsedPromql {
  const source = substituteGrafanaMacros(expr);
  const result: ParsedPromql = { selectors: [], groupingLabels: [], errors: [] };
  parser.parse(source).iterate({
    enter(ref) {
      if (ref.type.isError) {
        result.errors.push(`${ref.from}: ${JSON.stringify(source.slice(Math.max(0, ref.from - 20), ref.from + 20))}`);
      } else if (ref.name === 'VectorSelector') {
        const node = ref.node;
        const identifier = node.getChild('Identifier');
        let metric = identifier ? source.slice(identifier.from, identifier.to) : undefined;
        const labels: string[] = [];
        const matchers = node.getChild('LabelMatchers');
        for (let child = matchers?.firstChild; child; child = child.nextSibling) {
          const nameNode = child.getChild('LabelName') ?? child.getChild('QuotedLabelName');
          const valueNode = child.getChild('StringLiteral');
          if (child.name === 'QuotedLabelName') {
            metric = unquote(source.slice(child.from, child.to)); // {"metric.name", …}
          } else if (nameNode) {
            const name = nameNode.name === 'LabelName' ? source.slice(nameNode.from, nameNode.to) : unquote(source.slice(nameNode.from, nameNode.to));
            if (name === '__name__' && valueNode) metric = unquote(source.slice(valueNode.from, valueNode.to));
            else labels.push(name);
          }
        }
        result.selectors.push({ metric, labels });
      } else if (ref.name === 'GroupingLabels') {
        for (let child = ref.node.firstChild; child; child = child.nextSibling) {
          if (child.name === 'LabelName') result.groupingLabels.push(source.slice(child.from, child.to));
        }
      }
    },
  });
  return result;
}

/** The PromQL inside a Grafana template-variable query: label_values(expr, label) and query_result(expr); none for label_values(label). */
export function variableQueryExpr(query: string): string | undefined {
  const trimmed = query.trim();
  const labelValues = /^label_values\(\s*(.+)\s*,\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)$/s.exec(trimmed);
  if (labelValues) return labelValues[1];
  const queryResult = /^query_result\(\s*(.+)\s*\)$/s.exec(trimmed);
  if (queryResult) return queryResult[1];
  if (/^(label_values\(\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)|label_names\(.*\)|metrics\(.*\))$/s.test(trimmed)) return undefined;
  return trimmed; // a bare expression
}

const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];
/** Labels every scraped series carries from its target. */
const TARGET_LABELS = ['job', 'instance'];

/** The labels a stored series of this metric name can carry, or undefined for a name control does not export. */
export function labelsOf(metric: string): string[] | undefined {
  if (metric === 'up') return TARGET_LABELS;
  for (const definition of METRIC_CATALOGUE) {
    // A label named like a target label is stored as exported_<name> (honor_labels: false, the default).
    const stored = definition.labels.map((label) => (TARGET_LABELS.includes(label) ? `exported_${label}` : label));
    if (definition.name === metric) return [...stored, ...TARGET_LABELS];
    if (definition.type === 'histogram') {
      const suffix = HISTOGRAM_SUFFIXES.find((candidate) => metric === `${definition.name}${candidate}`);
      if (suffix) return [...stored, ...TARGET_LABELS, ...(suffix === '_bucket' ? ['le'] : [])];
    }
  }
  return undefined;
}

/**
 * Everything wrong with one expression: syntax errors, selectors without a metric name, metric names control does not
 * export, and label names that no selected metric carries.
 */
export function problemsOf(expr: string): string[] {
  const parsed = parsePromql(expr);
  const problems = parsed.errors.map((error) => `syntax error at ${error}`);
  const known = new Set<string>();
  for (const { metric, labels } of parsed.selectors) {
    if (metric === undefined) {
      problems.push('a selector without a metric name');
      continue;
    }
    const allowed = labelsOf(metric);
    if (!allowed) {
      problems.push(`unknown metric ${metric}`);
      continue;
    }
    allowed.forEach((label) => known.add(label));
    for (const label of labels) if (!allowed.includes(label)) problems.push(`${metric} has no label ${label}`);
  }
  for (const label of parsed.groupingLabels) if (!known.has(label)) problems.push(`no selected metric has label ${label} (by/on/group clause)`);
  return problems;
}

export interface DashboardExpr {
  dashboard: string;
  where: string;
  expr: string;
}

export interface Dashboard {
  file: string;
  json: any;
}

export function loadDashboards(): Dashboard[] {
  return readdirSync(DASHBOARDS_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({ file, json: JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')) }));
}

/** Panels at every depth: top level, collapsed rows' panels, and library-style nested panels. */
export function allPanels(panels: any[] = []): any[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels)]);
}

/** Every PromQL expression of a dashboard: panel targets and template-variable queries. */
export function dashboardExprs({ file, json }: Dashboard): DashboardExpr[] {
  const exprs: DashboardExpr[] = [];
  for (const panel of allPanels(json.panels)) {
    for (const target of panel.targets ?? []) {
      exprs.push({ dashboard: file, where: `panel "${panel.title}" ${target.refId}`, expr: target.expr });
    }
  }
  for (const variable of json.templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
    const expr = variableQueryExpr(query ?? '');
    if (expr !== undefined) exprs.push({ dashboard: file, where: `variable ${variable.name}`, expr });
  }
  return exprs;
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function loadAlertRules(): AlertRule[] {
  const file = parseYaml(readFileSync(join(PROMETHEUS_DIR, 'rules', 'dcm.rules.yml'), 'utf8')) as { groups: { rules: AlertRule[] }[] };
  return file.groups.flatMap((group) => group.rules);
}
