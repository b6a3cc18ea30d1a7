import { Injectable } from '@nestjs/common';
import { AgentEntity, dialectOf, forUpdate, HostOrigin, HostStatus, numberOrNull, rawQuery, writeLock } from '@dcm/persistence';
import { DataSource, EntityManager } from 'typeorm';
import { digestOf } from '../telemetry/report-digest';

export interface HostSampleRow {
  hostId: string;
  bucket: number;
  cpuUsageRatio: number;
  load1: number;
  memoryTotal: number;
  memoryAvailable: number;
  storageSize: number;
  storageUsed: number;
}

export interface TenantSampleRow {
  tenantId: string;
  hostId: string;
  bucket: number;
  storageUsed: number | null;
  memoryBytes: number | null;
  cpuSecondsTotal: number | null;
}

/** A host's latest stored report, kept whole (and digested) for what reads it between samples. */
export interface LatestMeasurementRow {
  hostId: string;
  seq: number;
  collectedAt: number;
  receivedAt: number;
  report: unknown;
}

/** What one agent's post moves on its agent and host: the last seq stored, when it reported, the host's status. */
export interface ReportProgressRow {
  agentId: string;
  hostId: string;
  lastSeq: number;
  at: number;
  status: HostStatus;
  /** Control's receive time minus the newest counted report's collection time; null keeps the host's skew as it was. */
  clockSkewMs: number | null;
}

/** Everything a batch of agents' posts writes. Within a batch each sample key, host and agent appears once. */
export interface ReportWrites {
  hostSamples: HostSampleRow[];
  tenantSamples: TenantSampleRow[];
  latest: LatestMeasurementRow[];
  progress: ReportProgressRow[];
}

// Both SQLite and PostgreSQL accept this upsert form: the last report of a minute wins.
const UPSERT_HOST_SAMPLE = `INSERT INTO host_samples (host_id, bucket, cpu_usage_ratio, load1, memory_total, memory_available, storage_size, storage_used)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (host_id, bucket) DO UPDATE SET cpu_usage_ratio = excluded.cpu_usage_ratio, load1 = excluded.load1,
    memory_total = excluded.memory_total, memory_available = excluded.memory_available,
    storage_size = excluded.storage_size, storage_used = excluded.storage_used`;

const UPSERT_TENANT_SAMPLE = `INSERT INTO tenant_samples (tenant_id, host_id, bucket, storage_used, memory_bytes, cpu_seconds_total)
  VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (tenant_id, host_id, bucket) DO UPDATE SET storage_used = excluded.storage_used,
    memory_bytes = excluded.memory_bytes, cpu_seconds_total = excluded.cpu_seconds_total`;

const UPSERT_MEASUREMENT = `INSERT INTO host_measurements (host_id, seq, collected_at, received_at, report, digest) VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (host_id) DO UPDATE SET seq = excluded.seq, collected_at = excluded.collected_at,
    received_at = excluded.received_at, report = excluded.report, digest = excluded.digest`;

/** What ingest needs of an agent and its host, read in plain SQL: it runs for every report. */
export interface IngestTarget {
  agentId: string;
  tokenId: string;
  lastSeq: number;
  revoked: boolean;
  hostId: string;
  /** Null when the host is gone. */
  hostName: string | null;
  hostStatus: HostStatus | null;
  /** Who owns the host's inventory; null when the host is gone. */
  hostOrigin: HostOrigin | null;
  /** Per inventory class, what the agent last measured (measured_total; null before any measurement); empty when the host is gone. */
  measuredTotals: Record<string, number | null>;
  /** Per inventory class, the total control holds (what bounds a report's tenant use); empty when the host is gone. */
  totals: Record<string, number>;
}

@Injectable()
export class AgentsRepository {
  constructor(private readonly dataSource: DataSource) {}

  findById(id: string, manager: EntityManager = this.dataSource.manager): Promise<AgentEntity | null> {
    return manager.findOneBy(AgentEntity, { id });
  }

  lockById(id: string, tx: EntityManager): Promise<AgentEntity | null> {
    return tx.findOne(AgentEntity, { where: { id }, lock: writeLock(tx) });
  }

  /**
   * The agents of `agentIds` (rows locked until the transaction ends, in id order, so that two batches cannot deadlock
   * on them) with their live hosts' status and inventory totals, by agent id; an unknown agent is absent.
   */
  async lockIngestTargets(agentIds: string[], tx: EntityManager): Promise<Map<string, IngestTarget>> {
    const postgres = dialectOf(tx) === 'postgres';
    const one = agentIds.length === 1;
    // One statement: each agent, its host while live, and one row per inventory class (none when the host is gone).
    // On PostgreSQL the host and its inventories are looked up for each agent (a LATERAL subquery kept apart by OFFSET
    // 0), whatever the planner believes of the tables: after a burst of enrolments, before autovacuum has analysed
    // them, it took hosts for a handful of rows and joined every inventory of the facility to every agent of a batch
    // (142 ms a batch at 2,000 hosts, most of PostgreSQL's time in `npm run bench -- ingest`).
    const joins = postgres
      ? `LEFT JOIN LATERAL (SELECT h.id, h.name, h.status, h.origin FROM hosts h WHERE h.id = a.host_id AND h.decommissioned_at IS NULL OFFSET 0) h ON true
         LEFT JOIN LATERAL (SELECT i.resource_class, i.measured_total, i.total FROM inventories i WHERE i.host_id = h.id OFFSET 0) i ON true`
      : `LEFT JOIN hosts h ON h.id = a.host_id AND h.decommissioned_at IS NULL
         LEFT JOIN inventories i ON i.host_id = h.id`;
    const rows = await rawQuery<{
      agent_id: string;
      host_id: string;
      token_id: string;
      last_seq: unknown;
      revoked_at: unknown;
      name: string | null;
      status: HostStatus | null;
      origin: HostOrigin | null;
      resource_class: string | null;
      measured_total: unknown;
      total: unknown;
    }>(
      tx,
      `SELECT a.id AS agent_id, a.host_id, a.token_id, a.last_seq, a.revoked_at, h.name, h.status, h.origin, i.resource_class, i.measured_total, i.total
         FROM agents a
         ${joins}
        WHERE ${one ? 'a.id = ?' : postgres ? 'a.id = ANY(?::varchar[])' : 'a.id IN (SELECT value FROM json_each(?))'}
        ORDER BY a.id${forUpdate(tx, 'a')}`,
      [one ? agentIds[0] : postgres ? agentIds : JSON.stringify(agentIds)],
    );
    const targets = new Map<string, IngestTarget>();
    for (const row of rows) {
      let target = targets.get(row.agent_id);
      if (!target) {
        target = {
          agentId: row.agent_id,
          tokenId: row.token_id,
          lastSeq: Number(row.last_seq),
          revoked: row.revoked_at !== null,
          hostId: row.host_id,
          hostName: row.name,
          hostStatus: row.status,
          hostOrigin: row.origin,
          measuredTotals: {},
          totals: {},
        };
        targets.set(row.agent_id, target);
      }
      if (row.resource_class === null) continue;
      target.measuredTotals[row.resource_class] = numberOrNull(row.measured_total);
      target.totals[row.resource_class] = Number(row.total);
    }
    return targets;
  }

  /**
   * Writes what a batch of agents' reports came to, for every agent at once: samples, each host's latest measurement,
   * each agent's last seq and each host's status. On PostgreSQL one statement (round trips are what a report costs
   * there); on SQLite, which has none to save, one short statement a row. Keys are unique within the batch (see
   * ReportWrites).
   */
  async writeReports(writes: ReportWrites, tx: EntityManager): Promise<void> {
    const latest = writes.latest.map((row) => ({ ...row, report: JSON.stringify(row.report), digest: JSON.stringify(digestOf(row.report)) }));
    if (dialectOf(tx) === 'postgres') return this.writeReportsInOneStatement(writes, latest, tx);
    for (const row of writes.hostSamples) await this.saveHostSample(row, tx);
    for (const row of writes.tenantSamples) await this.saveTenantSample(row, tx);
    for (const row of latest) await rawQuery(tx, UPSERT_MEASUREMENT, [row.hostId, row.seq, row.collectedAt, row.receivedAt, row.report, row.digest]);
    for (const row of writes.progress) {
      await rawQuery(tx, 'UPDATE agents SET last_seq = ?, last_report_at = ? WHERE id = ?', [row.lastSeq, row.at, row.agentId]);
      await rawQuery(tx, 'UPDATE hosts SET status = ?, last_report_at = ?, clock_skew_ms = coalesce(?, clock_skew_ms) WHERE id = ?', [
        row.status,
        row.at,
        row.clockSkewMs,
        row.hostId,
      ]);
    }
  }

  private async writeReportsInOneStatement(
    writes: ReportWrites,
    latest: (LatestMeasurementRow & { report: string; digest: string })[],
    tx: EntityManager,
  ): Promise<void> {
    const { hostSamples, tenantSamples, progress } = writes;
    // Every data-modifying WITH clause runs, each on its own table, whether or not the statement reads its output.
    await rawQuery(
      tx,
      `WITH host_sample_rows AS (
         INSERT INTO host_samples (host_id, bucket, cpu_usage_ratio, load1, memory_total, memory_available, storage_size, storage_used)
         SELECT * FROM unnest(?::varchar[], ?::bigint[], ?::float8[], ?::float8[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[])
         ON CONFLICT (host_id, bucket) DO UPDATE SET cpu_usage_ratio = excluded.cpu_usage_ratio, load1 = excluded.load1,
           memory_total = excluded.memory_total, memory_available = excluded.memory_available,
           storage_size = excluded.storage_size, storage_used = excluded.storage_used),
       tenant_sample_rows AS (
         INSERT INTO tenant_samples (tenant_id, host_id, bucket, storage_used, memory_bytes, cpu_seconds_total)
         SELECT * FROM unnest(?::varchar[], ?::varchar[], ?::bigint[], ?::bigint[], ?::bigint[], ?::float8[])
         ON CONFLICT (tenant_id, host_id, bucket) DO UPDATE SET storage_used = excluded.storage_used,
           memory_bytes = excluded.memory_bytes, cpu_seconds_total = excluded.cpu_seconds_total),
       latest_rows AS (
         INSERT INTO host_measurements (host_id, seq, collected_at, received_at, report, digest)
         SELECT * FROM unnest(?::varchar[], ?::bigint[], ?::bigint[], ?::bigint[], ?::text[], ?::text[])
         ON CONFLICT (host_id) DO UPDATE SET seq = excluded.seq, collected_at = excluded.collected_at,
           received_at = excluded.received_at, report = excluded.report, digest = excluded.digest),
       agent_rows AS (
         UPDATE agents a SET last_seq = v.last_seq, last_report_at = v.at
           FROM unnest(?::varchar[], ?::bigint[], ?::bigint[]) AS v(id, last_seq, at) WHERE a.id = v.id)
       UPDATE hosts h SET status = v.status, last_report_at = v.at, clock_skew_ms = coalesce(v.clock_skew_ms, h.clock_skew_ms)
         FROM unnest(?::varchar[], ?::varchar[], ?::bigint[], ?::bigint[]) AS v(id, status, at, clock_skew_ms) WHERE h.id = v.id`,
      [
        ...columns(hostSamples, ['hostId', 'bucket', 'cpuUsageRatio', 'load1', 'memoryTotal', 'memoryAvailable', 'storageSize', 'storageUsed']),
        ...columns(tenantSamples, ['tenantId', 'hostId', 'bucket', 'storageUsed', 'memoryBytes', 'cpuSecondsTotal']),
        ...columns(latest, ['hostId', 'seq', 'collectedAt', 'receivedAt', 'report', 'digest']),
        ...columns(progress, ['agentId', 'lastSeq', 'at']),
        ...columns(progress, ['hostId', 'status', 'at', 'clockSkewMs']),
      ],
    );
  }

  save(agent: AgentEntity, tx: EntityManager): Promise<AgentEntity> {
    return tx.save(agent);
  }

  async saveHostSample(row: HostSampleRow, tx: EntityManager): Promise<void> {
    await rawQuery(tx, UPSERT_HOST_SAMPLE, [
      row.hostId,
      row.bucket,
      row.cpuUsageRatio,
      row.load1,
      row.memoryTotal,
      row.memoryAvailable,
      row.storageSize,
      row.storageUsed,
    ]);
  }

  async saveTenantSample(row: TenantSampleRow, tx: EntityManager): Promise<void> {
    await rawQuery(tx, UPSERT_TENANT_SAMPLE, [row.tenantId, row.hostId, row.bucket, row.storageUsed, row.memoryBytes, row.cpuSecondsTotal]);
  }

  /**
   * Of the slugs given for each host (each once), the live (not offboarded) tenants the host's agent may report use
   * for: those with an active allocation on the host or bound to it by an operator. Tenant ids by slug, by host; one
   * statement for every host of a batch.
   */
  async reportableTenantIds(slugsByHost: Map<string, string[]>, tx: EntityManager): Promise<Map<string, Map<string, string>>> {
    const hostIds: string[] = [];
    const slugs: string[] = [];
    for (const [hostId, hostSlugs] of slugsByHost)
      for (const slug of hostSlugs) {
        hostIds.push(hostId);
        slugs.push(slug);
      }
    const byHost = new Map<string, Map<string, string>>();
    if (slugs.length === 0) return byHost;
    const postgres = dialectOf(tx) === 'postgres';
    const wanted = postgres
      ? 'unnest(?::varchar[], ?::varchar[]) AS w(host_id, slug)'
      : "(SELECT json_extract(value, '$[0]') AS host_id, json_extract(value, '$[1]') AS slug FROM json_each(?)) AS w";
    const rows = await rawQuery<{ host_id: string; id: string; slug: string }>(
      tx,
      `SELECT w.host_id, t.id, t.slug FROM ${wanted}
         JOIN tenants t ON t.slug = w.slug AND t.state <> 'offboarded'
        WHERE EXISTS (SELECT 1 FROM allocations a WHERE a.tenant_id = t.id AND a.host_id = w.host_id AND a.status = 'active')
           OR EXISTS (SELECT 1 FROM host_tenants b WHERE b.tenant_id = t.id AND b.host_id = w.host_id)`,
      postgres ? [hostIds, slugs] : [JSON.stringify(hostIds.map((hostId, index) => [hostId, slugs[index]]))],
    );
    for (const row of rows) {
      let ids = byHost.get(row.host_id);
      if (!ids) byHost.set(row.host_id, (ids = new Map()));
      ids.set(row.slug, row.id);
    }
    return byHost;
  }
}

/** Each row's values of `keys`, as one array per key (the columns PostgreSQL's unnest takes). */
function columns<Row, Key extends keyof Row>(rows: Row[], keys: Key[]): unknown[][] {
  return keys.map((key) => rows.map((row) => row[key]));
}
