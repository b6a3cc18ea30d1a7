import { Injectable } from '@nestjs/common';
import type { ResourceUnit } from '@dcm/domain';
import { Dialect, dialectOf, HostStatus, rawQuery, TenantState } from '@dcm/persistence';
import { DataSource } from 'typeorm';

/** A live host. */
export interface MetricsHostRow {
  id: string;
  name: string;
  site: string;
  status: HostStatus;
  /** Accepted by an operator: only then does its capacity count (SQLite answers 1/0, turned into a boolean here). */
  accepted: boolean;
  /**
   * When its agent last reported: ingest moves it in the same transaction that stores a new latest report, so it also
   * tells whether the report changed, without touching host_measurements' wide rows.
   */
  lastReportAt: number | null;
  /** Counts changes to its inventories (kept by the database): they are read again only when it moved. */
  inventoryVersion: number;
  /** Control's receive time minus collectedAt of its latest report, written with lastReportAt; null before any. */
  clockSkewMs?: number | null;
  /** Its current agent (a new one at each enrolment, whose facts never change); null for a host without one. */
  agentId?: string | null;
}

/** A tenant that has not been offboarded. */
export interface MetricsTenantRow {
  id: string;
  slug: string;
  state: TenantState;
  /** Its quotas as `class:limit:allocated:state` joined by commas (see parseQuotas), null without any. */
  quotas: string | null;
}

export interface MetricsSnapshot {
  units: Map<string, ResourceUnit>;
  /** Live hosts in name order. */
  hosts: MetricsHostRow[];
  /** Tenants in slug order. */
  tenants: MetricsTenantRow[];
}

export interface InventoriesRow {
  hostId: string;
  /** The host's inventories as `class:total:reserved:ratio:allocated` joined by commas (see parseInventories). */
  inventories: string;
}

export interface AgentFactsRow {
  agentId: string;
  /** The facts the agent enrolled with, as JSON text (schema of @dcm/protocol). */
  facts: string | null;
}

export interface MeasurementRow {
  hostId: string;
  /** What /metrics needs of the report, as JSON (see report-digest.ts); null for rows stored before digests. */
  digest: string | null;
  /** The whole report as JSON text (schema of @dcm/protocol), read only where there is no digest. */
  report: string | null;
}

/** Fetching reports by id pays off only while few changed; past this share of hosts, one full read is cheaper. */
const FULL_READ_SHARE = 0.5;
const IDS_PER_QUERY = 500;

/**
 * Plain-SQL reads for /metrics, shaped for a scrape that reads every live host and tenant: a host's (or tenant's) rows
 * arrive as one row, their child rows folded into one text by the database, which costs far less than materialising
 * 30,000 inventory rows in JavaScript, and compares in one step with what the previous scrape saw. Inventories are
 * folded only for the hosts whose inventory version moved, and reports (about a kilobyte each) are read only where
 * they changed. PostgreSQL's int8 arrive as strings and are turned into numbers here.
 */
@Injectable()
export class MetricsRepository {
  private readonly dialect: Dialect;
  /** Folds a group's child rows into one text, comma-separated, in class order where the database can promise one. */
  private readonly concatenated: (expression: string) => string;

  constructor(private readonly dataSource: DataSource) {
    this.dialect = dialectOf(dataSource);
    this.concatenated =
      this.dialect === 'postgres'
        ? (expression) => `string_agg(${expression}, ',' ORDER BY resource_class)`
        : (expression) => `group_concat(${expression}, ',')`;
  }

  async snapshot(): Promise<MetricsSnapshot> {
    const manager = this.dataSource.manager;
    // Independent reads: on PostgreSQL they run on separate pooled connections at once.
    const [units, hosts, tenants] = await Promise.all([
      rawQuery<{ name: string; unit: ResourceUnit }>(manager, 'SELECT name, unit FROM resource_classes'),
      rawQuery<MetricsHostRow>(
        manager,
        `SELECT id, name, site, status, accepted, last_report_at AS "lastReportAt", inventory_version AS "inventoryVersion",
                clock_skew_ms AS "clockSkewMs", agent_id AS "agentId"
           FROM hosts WHERE decommissioned_at IS NULL ORDER BY name`,
      ),
      rawQuery<MetricsTenantRow>(
        manager,
        `SELECT t.id, t.slug, t.state, q.quotas
           FROM tenants t LEFT JOIN (
             SELECT tenant_id, ${this.concatenated(`resource_class || ':' || (limit_amount + granted) || ':' || allocated || ':' || COALESCE(state, 'ok')`)} AS quotas
               FROM quotas GROUP BY tenant_id
           ) q ON q.tenant_id = t.id
          WHERE t.state <> 'offboarded'
          ORDER BY t.slug`,
      ),
    ]);
    for (const host of hosts) host.accepted = (host.accepted as unknown) === true || (host.accepted as unknown) === 1;
    if (this.dialect === 'postgres') {
      for (const host of hosts) {
        host.lastReportAt = host.lastReportAt === null ? null : Number(host.lastReportAt);
        host.inventoryVersion = Number(host.inventoryVersion);
        host.clockSkewMs = host.clockSkewMs === null || host.clockSkewMs === undefined ? null : Number(host.clockSkewMs);
      }
    }
    return { units: new Map(units.map((row) => [row.name, row.unit])), hosts, tenants };
  }

  /**
   * The folded inventories of the given hosts (of every host when most of them are wanted). Read after the hosts, so
   * that they are at least as new as the inventory versions read with them.
   */
  inventories(hostIds: readonly string[], hostCount: number): Promise<InventoriesRow[]> {
    const fold = `SELECT host_id AS "hostId",
                         ${this.concatenated(`resource_class || ':' || total || ':' || reserved || ':' || allocation_ratio || ':' || allocated || ':' || COALESCE(CAST(measured_total AS text), '')`)} AS inventories
                    FROM inventories`;
    if (hostIds.length > hostCount * FULL_READ_SHARE) return rawQuery<InventoriesRow>(this.dataSource.manager, `${fold} GROUP BY host_id`);
    return this.byHost<InventoriesRow>(fold, hostIds, ' GROUP BY host_id');
  }

  /** The latest reports of the given hosts (of every host when most of them are wanted). */
  async measurements(hostIds: readonly string[], hostCount: number): Promise<MeasurementRow[]> {
    const columns = 'SELECT host_id AS "hostId", digest, CASE WHEN digest IS NULL THEN report END AS report FROM host_measurements';
    if (hostIds.length > hostCount * FULL_READ_SHARE) return rawQuery<MeasurementRow>(this.dataSource.manager, columns);
    return this.byHost<MeasurementRow>(columns, hostIds);
  }

  /** The enrolment facts of the given agents: read once per agent, since an agent's facts never change. */
  agentFacts(agentIds: readonly string[]): Promise<AgentFactsRow[]> {
    return this.byHost<AgentFactsRow>('SELECT id AS "agentId", facts FROM agents', agentIds, '', 'id');
  }

  /** `select` (ending in its FROM clause) for the given hosts (or rows of another `column`), a few hundred at a time. */
  private async byHost<T>(select: string, hostIds: readonly string[], rest = '', column = 'host_id'): Promise<T[]> {
    const chunks: string[][] = [];
    for (let start = 0; start < hostIds.length; start += IDS_PER_QUERY) chunks.push(hostIds.slice(start, start + IDS_PER_QUERY));
    const results = await Promise.all(
      chunks.map((ids) => rawQuery<T>(this.dataSource.manager, `${select} WHERE ${column} IN (${ids.map(() => '?').join(', ')})${rest}`, ids)),
    );
    return results.flat();
  }
}
