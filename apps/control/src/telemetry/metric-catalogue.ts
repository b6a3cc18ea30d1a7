/**
 * Every domain metric control exports on `/metrics`: the contract with Prometheus rules and Grafana dashboards
 * (DESIGN.md's table). Names, types and label names here are what users' queries rely on: keep them.
 */
/**
 * `untyped` is for a gauge whose contract name ends in `_total` (DESIGN.md's `dcm_host_measured_total`): promtool's lint
 * refuses that suffix on a gauge but not on an untyped metric, and the name is what users' queries rely on.
 */
export type MetricType = 'gauge' | 'counter' | 'histogram' | 'untyped';

export interface MetricDefinition {
  name: string;
  type: MetricType;
  help: string;
  labels: readonly string[];
}

const metric = (name: string, type: MetricType, labels: readonly string[], help: string): MetricDefinition => ({ name, type, help, labels });

export const METRIC_CATALOGUE = [
  metric('dcm_tenant_quota_limit', 'gauge', ['tenant', 'resource', 'unit'], "A tenant's quota for a resource class, including active surge grants."),
  metric('dcm_tenant_allocated', 'gauge', ['tenant', 'resource', 'unit'], "The sum of a tenant's active allocations of a resource class."),
  metric('dcm_tenant_used', 'gauge', ['tenant', 'resource', 'unit'], "A tenant's use of a resource class as its hosts' agents last measured it."),
  metric(
    'dcm_tenant_quota_state',
    'gauge',
    ['tenant', 'resource', 'state'],
    'Enforcement state of a tenant and resource class: 1 for the current state, 0 for the others.',
  ),
  metric('dcm_tenant_frozen', 'gauge', ['tenant'], '1 while new allocations for the tenant are refused (TenantFrozen), else 0.'),
  metric(
    'dcm_host_capacity',
    'gauge',
    ['host', 'site', 'resource', 'unit'],
    'What a host can give of a resource class: floor((total - reserved) x allocation ratio).',
  ),
  metric('dcm_host_allocated', 'gauge', ['host', 'site', 'resource', 'unit'], 'The sum of the active allocations placed on a host, per resource class.'),
  metric(
    'dcm_host_used',
    'gauge',
    ['host', 'site', 'resource', 'unit'],
    "What a host's current report measures of a resource class: vCPU busy (usage ratio x logical cores), memory total - available, bytes used on its storage mounts.",
  ),
  metric(
    'dcm_host_measured_total',
    'untyped', // a gauge by meaning; see MetricType
    ['host', 'resource', 'unit'],
    "What a host's agent last measured of a resource class; on a host an operator registered, the operator's total counts.",
  ),
  metric('dcm_host_overcommitted', 'gauge', ['host', 'site', 'resource'], '1 where more of a resource class is allocated on a host than its capacity, else 0.'),
  metric('dcm_host_up', 'gauge', ['host', 'site'], '1 while the host is up, 0 when stale, down or in maintenance; shown until the host is decommissioned.'),
  metric('dcm_host_last_report_timestamp_seconds', 'gauge', ['host'], "When control last received the host's agent report, in seconds since the Unix epoch."),
  metric('dcm_host_cpu_usage_ratio', 'gauge', ['host'], "The host's CPU busy share (0 to 1) in its latest report."),
  metric('dcm_host_load1', 'gauge', ['host'], "The host's one-minute load average in its latest report."),
  metric('dcm_host_load5', 'gauge', ['host'], "The host's five-minute load average in its latest report."),
  metric('dcm_host_load15', 'gauge', ['host'], "The host's fifteen-minute load average in its latest report."),
  metric('dcm_host_memory_total_bytes', 'gauge', ['host'], "The host's memory in its latest report."),
  metric('dcm_host_memory_available_bytes', 'gauge', ['host'], "The host's available memory in its latest report."),
  metric('dcm_host_filesystem_size_bytes', 'gauge', ['host', 'mountpoint'], 'Size of a filesystem of the host in its latest report.'),
  metric(
    'dcm_host_filesystem_used_bytes',
    'gauge',
    ['host', 'mountpoint'],
    'Space in use on a filesystem of the host in its latest report, as df counts it (root-reserved blocks are not used).',
  ),
  metric(
    'dcm_host_filesystem_avail_bytes',
    'gauge',
    ['host', 'mountpoint'],
    'Space available to unprivileged users on a filesystem of the host in its latest report.',
  ),
  metric(
    'dcm_host_network_receive_bytes_total',
    'counter',
    ['host', 'device'],
    'Bytes received on a network interface of the host, as its latest report counted them.',
  ),
  metric(
    'dcm_host_network_transmit_bytes_total',
    'counter',
    ['host', 'device'],
    'Bytes transmitted on a network interface of the host, as its latest report counted them.',
  ),
  metric(
    'dcm_agent_clock_skew_seconds',
    'gauge',
    ['host'],
    "Control's receive time minus the collection time of the host's latest report: positive when the host's clock is behind.",
  ),
  metric(
    'dcm_capacity_forecast_full_timestamp_seconds',
    'gauge',
    ['site', 'resource', 'basis'],
    'When allocations (basis allocated) or measured use (basis used) of a resource class reach capacity at a site, by a linear fit, in seconds since the Unix epoch; absent when not filling.',
  ),
  metric('dcm_agent_reports_total', 'counter', ['outcome'], 'Agent reports received by this control process, by outcome.'),
  metric(
    'dcm_agent_report_entries_dropped_total',
    'counter',
    ['reason'],
    'Entries of stored agent reports (filesystems, interfaces, tenant use) this control process dropped, by reason.',
  ),
  metric(
    'dcm_allocation_requests_total',
    'counter',
    ['outcome'],
    'Allocation requests answered by this control process, by outcome (admitted or the refusal code).',
  ),
  metric('dcm_scheduler_job_duration_seconds', 'histogram', ['job'], 'How long each run of a scheduler job took on this replica.'),
] as const satisfies readonly MetricDefinition[];

export type MetricName = (typeof METRIC_CATALOGUE)[number]['name'];

export const METRIC_NAMES: ReadonlySet<string> = new Set(METRIC_CATALOGUE.map((definition) => definition.name));
