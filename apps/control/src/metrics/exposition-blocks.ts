import { capacityOf, HostUseFigures, inventoryOvercommitted, measuredUse, QuotaState, ResourceUnit, storageUsedOn } from '@dcm/domain';
import { encodeSections, labelValue, sample, sampleValue, Sections } from './exposition';
import { MetricName } from '../telemetry/metric-catalogue';
import type { MetricsHostRow, MetricsTenantRow } from './metrics.repository';
import { ReportDigest } from '../telemetry/report-digest';

/**
 * The exposition lines of one host or tenant, one section per metric family, built when its rows change and reused
 * by every scrape until then: at 10,000 hosts, formatting a quarter of a million series on each scrape would cost
 * more than everything else /metrics does.
 */

type Units = ReadonlyMap<string, ResourceUnit>;

const QUOTA_STATES: readonly QuotaState[] = ['ok', 'warning', 'over'];
const MINUTE_MS = 60_000;

const unitOf = (units: Units, resourceClass: string): ResourceUnit => units.get(resourceClass) ?? 'count';
const name = <N extends MetricName>(metric: N): N => metric;
const byClass = <T extends { resourceClass: string }>(a: T, b: T) => (a.resourceClass < b.resourceClass ? -1 : a.resourceClass > b.resourceClass ? 1 : 0);

export interface InventoryFiguresRow {
  resourceClass: string;
  total: number;
  reserved: number;
  allocationRatio: number;
  allocated: number;
  /** What the host's agent last measured; null when it has not. */
  measuredTotal: number | null;
}

/** Reads MetricsRepository's folded inventories (`class:total:reserved:ratio:allocated:measured,…`), in class order. */
export function parseInventories(folded: string | null | undefined): InventoryFiguresRow[] {
  if (!folded) return [];
  return folded
    .split(',')
    .map((item) => {
      const [resourceClass, total, reserved, allocationRatio, allocated, measured] = item.split(':');
      return {
        resourceClass,
        total: Number(total),
        reserved: Number(reserved),
        allocationRatio: Number(allocationRatio),
        allocated: Number(allocated),
        measuredTotal: measured ? Number(measured) : null,
      };
    })
    .sort(byClass);
}

/** Sections: capacity, allocated, up, measured total, over-committed. */
export const HOST_SECTIONS = { capacity: 0, allocated: 1, up: 2, measuredTotal: 3, overcommitted: 4 } as const;

export interface HostBlock {
  /** What the lines were built from: a block is reused while all of these are unchanged. */
  name: string;
  site: string;
  status: string;
  accepted: boolean;
  inventoryVersion: number;
  /** The folded inventories (see parseInventories) of that version. */
  inventories: string | undefined;
  lines: Sections;
}

export function hostBlockIsCurrent(block: HostBlock | undefined, host: MetricsHostRow): block is HostBlock {
  return (
    block !== undefined &&
    block.inventoryVersion === host.inventoryVersion &&
    block.name === host.name &&
    block.status === host.status &&
    block.site === host.site &&
    block.accepted === host.accepted
  );
}

export function hostBlock(host: MetricsHostRow, inventories: string | undefined, units: Units): HostBlock {
  const hostAndSite = `host="${labelValue(host.name)}",site="${labelValue(host.site)}"`;
  let capacity = '';
  let allocated = '';
  let measuredTotal = '';
  let overcommitted = '';
  for (const inventory of parseInventories(inventories)) {
    const resource = `resource="${labelValue(inventory.resourceClass)}"`;
    const unit = `unit="${unitOf(units, inventory.resourceClass)}"`;
    const labels = `${hostAndSite},${resource},${unit}`;
    // A host nobody accepted adds nothing to the facility's capacity, as in GET /v1/capacity.
    if (host.accepted) {
      capacity += sample(name('dcm_host_capacity'), labels, capacityOf(inventory));
      allocated += sample(name('dcm_host_allocated'), labels, inventory.allocated);
    }
    if (inventory.measuredTotal !== null) {
      measuredTotal += sample(name('dcm_host_measured_total'), `host="${labelValue(host.name)}",${resource},${unit}`, inventory.measuredTotal);
    }
    overcommitted += sample(name('dcm_host_overcommitted'), `${hostAndSite},${resource}`, inventoryOvercommitted(inventory) ? 1 : 0);
  }
  const up = sample(name('dcm_host_up'), hostAndSite, host.status === 'up' ? 1 : 0);
  const lines = encodeSections([capacity, allocated, up, measuredTotal, overcommitted]);
  return { name: host.name, site: host.site, status: host.status, accepted: host.accepted, inventoryVersion: host.inventoryVersion, inventories, lines };
}

/** A tenant's measured use on one host, from that host's latest report. */
export interface MeasuredTenantUse {
  slug: string;
  memory: number | null;
  storage: number | null;
}

/** Sections of a measurement block, in family order. */
export const MEASUREMENT_SECTIONS = {
  lastReport: 0,
  cpuUsage: 1,
  load1: 2,
  load5: 3,
  load15: 4,
  memoryTotal: 5,
  memoryAvailable: 6,
  filesystemSize: 7,
  filesystemUsed: 8,
  filesystemAvail: 9,
  networkReceive: 10,
  networkTransmit: 11,
  clockSkew: 12,
} as const;

/**
 * A host's latest report, and when it last reported (which moves with every report, also when a batch held only
 * replays, so the block is rebuilt then too).
 */
export interface MeasurementBlock {
  /** Which host name, and which report (by the host's last report time), the lines show. */
  name: string;
  lastReportAt: number;
  lines: Sections;
  /** The minute the report was collected in, as ingest buckets tenant samples; null if unreadable. */
  bucket: number | null;
  tenants: MeasuredTenantUse[];
  /** When the agent collected the report (ms since the epoch); null if unreadable. */
  collectedAt: number | null;
  /** The report's figures that measuredUse needs, storage as used bytes by mountpoint; null if it lacks any of them. */
  use: { figures: Omit<HostUseFigures, 'storageUsed'>; filesystemsUsed: [string, number | null | undefined, number | null | undefined][] } | null;
}

export function measurementIsCurrent(block: MeasurementBlock | undefined, host: MetricsHostRow): block is MeasurementBlock {
  return block !== undefined && block.lastReportAt === host.lastReportAt && block.name === host.name;
}

export const NO_LINES: Sections = encodeSections(Object.values(MEASUREMENT_SECTIONS).map(() => ''));

// Undefined: a figure that a digest stored before its metric existed does not hold.
const line = (metric: MetricName, labels: string, value: number | null | undefined): string => (value == null ? '' : sample(metric, labels, value));

/**
 * The lines of a host's latest report, from its digest (see report-digest.ts), and how far its clock was from
 * control's (receive time minus collectedAt of its latest report, refused ones too; null before the first).
 */
export function measurementBlock(hostName: string, lastReportAt: number, digest: ReportDigest, clockSkewMs: number | null = null): MeasurementBlock {
  const hostLabel = `host="${labelValue(hostName)}"`;
  let filesystemSize = '';
  let filesystemUsed = '';
  let filesystemAvail = '';
  for (const [mountpoint, size, avail, used] of digest.filesystems) {
    const labels = `${hostLabel},mountpoint="${labelValue(mountpoint)}"`;
    filesystemSize += line('dcm_host_filesystem_size_bytes', labels, size);
    filesystemUsed += line('dcm_host_filesystem_used_bytes', labels, used);
    filesystemAvail += line('dcm_host_filesystem_avail_bytes', labels, avail);
  }
  let networkReceive = '';
  let networkTransmit = '';
  for (const [device, received, transmitted] of digest.network) {
    const labels = `${hostLabel},device="${labelValue(device)}"`;
    networkReceive += line('dcm_host_network_receive_bytes_total', labels, received);
    networkTransmit += line('dcm_host_network_transmit_bytes_total', labels, transmitted);
  }
  const sections = [
    sample(name('dcm_host_last_report_timestamp_seconds'), hostLabel, lastReportAt / 1000),
    line('dcm_host_cpu_usage_ratio', hostLabel, digest.cpuUsageRatio),
    line('dcm_host_load1', hostLabel, digest.load1),
    line('dcm_host_load5', hostLabel, digest.load5),
    line('dcm_host_load15', hostLabel, digest.load15),
    line('dcm_host_memory_total_bytes', hostLabel, digest.memoryTotal),
    line('dcm_host_memory_available_bytes', hostLabel, digest.memoryAvailable),
    filesystemSize,
    filesystemUsed,
    filesystemAvail,
    networkReceive,
    networkTransmit,
    line('dcm_agent_clock_skew_seconds', hostLabel, clockSkewMs === null ? null : clockSkewMs / 1000),
  ];
  const bucket = digest.collectedAt === null ? null : Math.floor(digest.collectedAt / MINUTE_MS) * MINUTE_MS;
  const tenants = digest.tenants.map(([slug, memory, storage]) => ({ slug, memory, storage }));
  const { cpuUsageRatio, logicalCores, memoryTotal, memoryAvailable } = digest;
  const use =
    cpuUsageRatio == null || logicalCores == null || memoryTotal == null || memoryAvailable == null
      ? null
      : {
          figures: { cpuUsageRatio, logicalCores, memoryTotal, memoryAvailable },
          filesystemsUsed: digest.filesystems.map(([mountpoint, size, , used]): [string, number | null | undefined, number | null | undefined] => [
            mountpoint,
            used,
            size,
          ]),
        };
  return { name: hostName, lastReportAt, lines: encodeSections(sections), bucket, tenants, collectedAt: digest.collectedAt, use };
}

/**
 * `dcm_host_used` of one host: per inventory class that @dcm/domain's measuredUse defines, what its latest report
 * measured, storage on the mounts its agent declared at enrolment (as GET /v1/capacity counts it). Rebuilt when the
 * host's block, its report or its agent changes; whether the report is still current is decided at each scrape.
 */
export interface UsedBlock {
  host: HostBlock;
  measurement: MeasurementBlock;
  storageMounts: ReadonlySet<string>;
  lines: Sections;
}

export function usedBlockIsCurrent(
  block: UsedBlock | undefined,
  host: HostBlock,
  measurement: MeasurementBlock,
  storageMounts: ReadonlySet<string>,
): block is UsedBlock {
  return block !== undefined && block.host === host && block.measurement === measurement && block.storageMounts === storageMounts;
}

export function usedBlock(host: HostBlock, measurement: MeasurementBlock, storageMounts: ReadonlySet<string>, units: Units): UsedBlock {
  let lines = '';
  if (measurement.use) {
    const use: HostUseFigures = { ...measurement.use.figures, storageUsed: storageUsedOn(storageMounts, measurement.use.filesystemsUsed) };
    const hostAndSite = `host="${labelValue(host.name)}",site="${labelValue(host.site)}"`;
    for (const inventory of parseInventories(host.inventories)) {
      const used = measuredUse(inventory.resourceClass, use, inventory.total);
      if (used === null) continue;
      const labels = `${hostAndSite},resource="${labelValue(inventory.resourceClass)}",unit="${unitOf(units, inventory.resourceClass)}"`;
      lines += sample(name('dcm_host_used'), labels, used);
    }
  }
  return { host, measurement, storageMounts, lines: encodeSections([lines]) };
}

/** A used block's lines for a host without a current measurement. */
export const NO_USED_LINES: Sections = encodeSections(['']);

export interface QuotaFiguresRow {
  resourceClass: string;
  limit: number;
  allocated: number;
  state: QuotaState;
}

/** Reads MetricsRepository's folded quotas (`class:limit:allocated:state,…`), in class order. */
export function parseQuotas(folded: string | null | undefined): QuotaFiguresRow[] {
  if (!folded) return [];
  return folded
    .split(',')
    .map((item) => {
      const [resourceClass, limit, allocated, state] = item.split(':');
      return { resourceClass, limit: Number(limit), allocated: Number(allocated), state: state as QuotaState };
    })
    .sort(byClass);
}

/** Sections: limit, allocated, state, frozen. */
export const TENANT_SECTIONS = { limit: 0, allocated: 1, state: 2, frozen: 3 } as const;

export interface TenantBlock {
  slug: string;
  state: string;
  quotas: string | null;
  lines: Sections;
}

export function tenantBlockIsCurrent(block: TenantBlock | undefined, tenant: MetricsTenantRow): block is TenantBlock {
  return block !== undefined && block.quotas === tenant.quotas && block.state === tenant.state && block.slug === tenant.slug;
}

export function tenantBlock(tenant: MetricsTenantRow, units: Units): TenantBlock {
  const tenantLabel = `tenant="${labelValue(tenant.slug)}"`;
  let limit = '';
  let allocated = '';
  let state = '';
  for (const quota of parseQuotas(tenant.quotas)) {
    const resourceLabel = `${tenantLabel},resource="${labelValue(quota.resourceClass)}"`;
    const labels = `${resourceLabel},unit="${unitOf(units, quota.resourceClass)}"`;
    limit += sample(name('dcm_tenant_quota_limit'), labels, quota.limit);
    allocated += sample(name('dcm_tenant_allocated'), labels, quota.allocated);
    for (const candidate of QUOTA_STATES) {
      state += sample(name('dcm_tenant_quota_state'), `${resourceLabel},state="${candidate}"`, quota.state === candidate ? 1 : 0);
    }
  }
  const frozen = sample(name('dcm_tenant_frozen'), tenantLabel, tenant.state === 'frozen' ? 1 : 0);
  return { slug: tenant.slug, state: tenant.state, quotas: tenant.quotas, lines: encodeSections([limit, allocated, state, frozen]) };
}

/** The classes agents measure per tenant, in the order their lines appear. */
const MEASURED_TENANT_CLASSES = ['memory', 'storage'] as const;

/**
 * `dcm_tenant_used` lines: per tenant, the sum over live hosts of what each host's latest report measured for it, as
 * enforcement weighs it (reports collected in a minute from `since` on; see quotas/measured-use.ts). Rebuilt on every
 * scrape (a few thousand lines at most); a class no current report measured for the tenant has no series.
 */
export function tenantUsedLines(
  tenants: readonly MetricsTenantRow[],
  measurements: Iterable<MeasurementBlock | undefined>,
  units: Units,
  since: number,
): string {
  const sums = new Map<string, { memory: number | null; storage: number | null }>();
  for (const measurement of measurements) {
    if (!measurement || measurement.bucket === null || measurement.bucket < since) continue;
    for (const use of measurement.tenants) {
      let sum = sums.get(use.slug);
      if (!sum) sums.set(use.slug, (sum = { memory: null, storage: null }));
      if (use.memory !== null) sum.memory = (sum.memory ?? 0) + use.memory;
      if (use.storage !== null) sum.storage = (sum.storage ?? 0) + use.storage;
    }
  }
  let lines = '';
  for (const tenant of tenants) {
    const sum = sums.get(tenant.slug);
    if (!sum) continue;
    for (const resourceClass of MEASURED_TENANT_CLASSES) {
      const value = sum[resourceClass];
      if (value === null) continue;
      lines += `dcm_tenant_used{tenant="${labelValue(tenant.slug)}",resource="${resourceClass}",unit="${unitOf(units, resourceClass)}"} ${sampleValue(value)}\n`;
    }
  }
  return lines;
}
