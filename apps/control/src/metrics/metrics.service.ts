import { Inject, Injectable } from '@nestjs/common';
import { measuredUseSince } from '@dcm/domain';
import { storageMountsOf } from '../common/agent-facts';
import { Clock } from '../common/clock';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';
import { familyHeader, FamilyRuns, Sections } from './exposition';
import {
  HOST_SECTIONS,
  HostBlock,
  hostBlock,
  hostBlockIsCurrent,
  MEASUREMENT_SECTIONS,
  MeasurementBlock,
  measurementBlock,
  measurementIsCurrent,
  NO_LINES,
  NO_USED_LINES,
  TENANT_SECTIONS,
  TenantBlock,
  tenantBlock,
  tenantBlockIsCurrent,
  tenantUsedLines,
  UsedBlock,
  usedBlock,
  usedBlockIsCurrent,
} from './exposition-blocks';
import { METRIC_CATALOGUE, MetricName } from '../telemetry/metric-catalogue';
import { MeasurementRow, MetricsHostRow, MetricsRepository, MetricsSnapshot } from './metrics.repository';
import { ProcessMetrics } from '../telemetry/process-metrics';
import { readDigest } from '../telemetry/report-digest';

const HEADERS = new Map(METRIC_CATALOGUE.map((definition) => [definition.name as MetricName, Buffer.from(familyHeader(definition))]));
const header = (name: MetricName): Buffer => HEADERS.get(name)!;

/** The storage mounts a host's agent declared at enrolment; none for a host without an agent. */
interface StorageMounts {
  agentId: string | null;
  mounts: ReadonlySet<string>;
}

const NO_AGENT: StorageMounts = { agentId: null, mounts: new Set() };

interface HostEntry {
  host: HostBlock;
  measurement: MeasurementBlock | undefined;
  storage: StorageMounts;
  used: UsedBlock | undefined;
}

/**
 * Renders `/metrics`. The facility's series come from the database on every scrape, so that every replica shows the
 * same facility. Each host's and tenant's lines are kept ready and rebuilt only when what they show changed
 * (its row and folded child rows compared with the previous scrape's; reports by the host's last report time, and read
 * only then), so that a scrape of 10,000 hosts costs a few cheap queries and copying bytes. This process's own metrics
 * (ProcessMetrics) follow. Each family's lines are kept, too, in runs of hosts (FamilyRuns), so that only the runs
 * with a changed host are copied again.
 */
@Injectable()
export class MetricsService {
  private hosts = new Map<string, HostEntry>();
  private tenants = new Map<string, TenantBlock>();
  private readonly families = new Map<MetricName, FamilyRuns>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly repository: MetricsRepository,
    private readonly processMetrics: ProcessMetrics,
    private readonly clock: Clock,
    @Inject(CONTROL_CONFIG) private readonly config: Pick<ControlConfig, 'reportIntervalSeconds'>,
  ) {}

  /**
   * The whole exposition, UTF-8, as the parts to send one after the other: copying them into one buffer would copy
   * every byte once more (18 MiB at 10,000 hosts). Scrapes run one at a time: they share the caches.
   */
  exposition(): Promise<Buffer[]> {
    const result = this.queue.then(() => this.render());
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async render(): Promise<Buffer[]> {
    const snapshot = await this.repository.snapshot();
    const hosts = await this.refreshHosts(snapshot);
    const tenants = this.refreshTenants(snapshot);
    const since = measuredUseSince(this.clock.now(), this.config).getTime();
    const used = tenantUsedLines(
      snapshot.tenants,
      hosts.map((entry) => entry.measurement),
      snapshot.units,
      since,
    );
    const hostLines = hosts.map((entry) => entry.host.lines);
    // As GET /v1/capacity: an accepted host's latest report counts while it was collected from `since` on (the host is
    // not down); a host nobody accepted adds nothing, like its capacity.
    const hostUsed = hosts.map(({ host, used }) =>
      host.accepted && used && used.measurement.collectedAt !== null && used.measurement.collectedAt >= since ? used.lines : NO_USED_LINES,
    );
    const measurements = hosts.map((entry) => entry.measurement?.lines ?? NO_LINES);
    const tenantLines = tenants.map((block) => block.lines);

    const parts: Buffer[] = [];
    const family = (name: MetricName, blocks: readonly Sections[], section: number) => {
      let runs = this.families.get(name);
      if (!runs) this.families.set(name, (runs = new FamilyRuns(section)));
      parts.push(header(name), ...runs.update(blocks));
    };
    // Catalogue order; every family contiguous after its HELP and TYPE lines.
    family('dcm_tenant_quota_limit', tenantLines, TENANT_SECTIONS.limit);
    family('dcm_tenant_allocated', tenantLines, TENANT_SECTIONS.allocated);
    parts.push(header('dcm_tenant_used'), Buffer.from(used));
    family('dcm_tenant_quota_state', tenantLines, TENANT_SECTIONS.state);
    family('dcm_tenant_frozen', tenantLines, TENANT_SECTIONS.frozen);
    family('dcm_host_capacity', hostLines, HOST_SECTIONS.capacity);
    family('dcm_host_allocated', hostLines, HOST_SECTIONS.allocated);
    family('dcm_host_used', hostUsed, 0);
    family('dcm_host_measured_total', hostLines, HOST_SECTIONS.measuredTotal);
    family('dcm_host_overcommitted', hostLines, HOST_SECTIONS.overcommitted);
    family('dcm_host_up', hostLines, HOST_SECTIONS.up);
    family('dcm_host_last_report_timestamp_seconds', measurements, MEASUREMENT_SECTIONS.lastReport);
    family('dcm_host_cpu_usage_ratio', measurements, MEASUREMENT_SECTIONS.cpuUsage);
    family('dcm_host_load1', measurements, MEASUREMENT_SECTIONS.load1);
    family('dcm_host_load5', measurements, MEASUREMENT_SECTIONS.load5);
    family('dcm_host_load15', measurements, MEASUREMENT_SECTIONS.load15);
    family('dcm_host_memory_total_bytes', measurements, MEASUREMENT_SECTIONS.memoryTotal);
    family('dcm_host_memory_available_bytes', measurements, MEASUREMENT_SECTIONS.memoryAvailable);
    family('dcm_host_filesystem_size_bytes', measurements, MEASUREMENT_SECTIONS.filesystemSize);
    family('dcm_host_filesystem_used_bytes', measurements, MEASUREMENT_SECTIONS.filesystemUsed);
    family('dcm_host_filesystem_avail_bytes', measurements, MEASUREMENT_SECTIONS.filesystemAvail);
    family('dcm_host_network_receive_bytes_total', measurements, MEASUREMENT_SECTIONS.networkReceive);
    family('dcm_host_network_transmit_bytes_total', measurements, MEASUREMENT_SECTIONS.networkTransmit);
    family('dcm_agent_clock_skew_seconds', measurements, MEASUREMENT_SECTIONS.clockSkew);
    parts.push(Buffer.from(await this.processMetrics.text()));
    return parts;
  }

  /**
   * Live hosts in name order, with blocks reused where unchanged; inventories are read only where their version moved,
   * and reports only where they changed.
   */
  private async refreshHosts(snapshot: MetricsSnapshot): Promise<HostEntry[]> {
    const { hosts: rows, units } = snapshot;
    const changedInventories: MetricsHostRow[] = [];
    const changedReports: MetricsHostRow[] = [];
    for (const host of rows) {
      const previous = this.hosts.get(host.id);
      if (previous?.host.inventoryVersion !== host.inventoryVersion) changedInventories.push(host);
      if (host.lastReportAt !== null && !measurementIsCurrent(previous?.measurement, host)) changedReports.push(host);
    }
    const changedAgents = rows.flatMap((host) => (host.agentId && this.hosts.get(host.id)?.storage.agentId !== host.agentId ? [host.agentId] : []));
    const [inventories, reports, storage] = await Promise.all([
      this.readInventories(changedInventories, rows.length),
      this.readReports(changedReports, rows.length),
      this.readStorageMounts(changedAgents),
    ]);

    const next = new Map<string, HostEntry>();
    const entries = new Array<HostEntry>(rows.length);
    for (let index = 0; index < rows.length; index++) {
      const row = rows[index];
      const previous = this.hosts.get(row.id);
      // A host whose inventories were read but has none is in the map as undefined.
      const folded = inventories.has(row.id) ? inventories.get(row.id) : previous?.host.inventories;
      const host = hostBlockIsCurrent(previous?.host, row) ? previous.host : hostBlock(row, folded, units);
      const measurement = row.lastReportAt === null ? undefined : (reports.get(row.id) ?? previous?.measurement);
      const agentStorage = row.agentId ? (storage.get(row.agentId) ?? previous?.storage ?? NO_AGENT) : NO_AGENT;
      const used =
        measurement === undefined
          ? undefined
          : usedBlockIsCurrent(previous?.used, host, measurement, agentStorage.mounts)
            ? previous.used
            : usedBlock(host, measurement, agentStorage.mounts, units);
      const entry: HostEntry = { host, measurement, storage: agentStorage, used };
      next.set(row.id, entry);
      entries[index] = entry;
    }
    this.hosts = next;
    return entries;
  }

  /** The folded inventories of the given hosts, by host id; undefined for a host without any. */
  private async readInventories(hosts: readonly MetricsHostRow[], hostCount: number): Promise<Map<string, string | undefined>> {
    const folded = new Map<string, string | undefined>(hosts.map((host) => [host.id, undefined]));
    if (hosts.length === 0) return folded;
    const rows = await this.repository.inventories(
      hosts.map((host) => host.id),
      hostCount,
    );
    for (const row of rows) if (folded.has(row.hostId)) folded.set(row.hostId, row.inventories);
    return folded;
  }

  /** The storage mounts of the given agents, by agent id; an agent whose row is missing declares none. */
  private async readStorageMounts(agentIds: readonly string[]): Promise<Map<string, StorageMounts>> {
    const mounts = new Map<string, StorageMounts>(agentIds.map((agentId) => [agentId, { agentId, mounts: new Set<string>() }]));
    if (agentIds.length === 0) return mounts;
    for (const row of await this.repository.agentFacts(agentIds)) {
      mounts.set(row.agentId, { agentId: row.agentId, mounts: storageMountsOf(parseJson(row.facts)) });
    }
    return mounts;
  }

  /**
   * The blocks of the given hosts' latest reports, by host id. A host whose report row is missing gets empty lines, so
   * that it is not read again until it reports.
   */
  private async readReports(hosts: readonly MetricsHostRow[], hostCount: number): Promise<Map<string, MeasurementBlock>> {
    const blocks = new Map<string, MeasurementBlock>();
    if (hosts.length === 0) return blocks;
    const stored = new Map<string, MeasurementRow>();
    const rows = await this.repository.measurements(
      hosts.map((host) => host.id),
      hostCount,
    );
    for (const row of rows) stored.set(row.hostId, row);
    for (const host of hosts) {
      const row = stored.get(host.id);
      blocks.set(host.id, measurementBlock(host.name, host.lastReportAt!, readDigest(row?.digest ?? null, row?.report ?? null), host.clockSkewMs ?? null));
    }
    return blocks;
  }

  /** Tenants (not offboarded) in slug order, with blocks reused where unchanged. */
  private refreshTenants(snapshot: MetricsSnapshot): TenantBlock[] {
    const next = new Map<string, TenantBlock>();
    const blocks = snapshot.tenants.map((tenant) => {
      const previous = this.tenants.get(tenant.id);
      const block = tenantBlockIsCurrent(previous, tenant) ? previous : tenantBlock(tenant, snapshot.units);
      next.set(tenant.id, block);
      return block;
    });
    this.tenants = next;
    return blocks;
  }
}

function parseJson(text: string | null): unknown {
  try {
    return text === null ? null : JSON.parse(text);
  } catch {
    return null;
  }
}
