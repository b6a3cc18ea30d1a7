import { Injectable } from '@nestjs/common';
import { AgentEntity, forUpdate, HostOrigin, HostStatus, numberOrNull, rawQuery, writeLock } from '@dcm/persistence';
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

/** Slugs bound in one statement: well under SQLite's 32,766 parameters and PostgreSQL's 65,535. */
const SLUGS_PER_STATEMENT = 10_000;

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

  /** The agent (row locked until the transaction ends) with its live host's status and inventory totals. */
  async lockIngestTarget(agentId: string, tx: EntityManager): Promise<IngestTarget | null> {
    // One statement: the agent, its host while live, and one row per inventory class (none when the host is gone).
    const rows = await rawQuery<{
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
      `SELECT a.host_id, a.token_id, a.last_seq, a.revoked_at, h.name, h.status, h.origin, i.resource_class, i.measured_total, i.total
         FROM agents a
         LEFT JOIN hosts h ON h.id = a.host_id AND h.decommissioned_at IS NULL
         LEFT JOIN inventories i ON i.host_id = h.id
        WHERE a.id = ?${forUpdate(tx, 'a')}`,
      [agentId],
    );
    if (rows.length === 0) return null;
    const [agent] = rows;
    const inventories = rows.filter((row) => row.resource_class !== null);
    return {
      agentId,
      tokenId: agent.token_id,
      lastSeq: Number(agent.last_seq),
      revoked: agent.revoked_at !== null,
      hostId: agent.host_id,
      hostName: agent.name,
      hostStatus: agent.status,
      hostOrigin: agent.origin,
      measuredTotals: Object.fromEntries(inventories.map((row) => [row.resource_class!, numberOrNull(row.measured_total)])),
      totals: Object.fromEntries(inventories.map((row) => [row.resource_class!, Number(row.total)])),
    };
  }

  /** `clockSkewMs` undefined: the batch held only replays, and the host's skew stays as it was. */
  async recordReport(
    target: IngestTarget,
    lastSeq: number,
    hostStatus: HostStatus,
    at: Date,
    clockSkewMs: number | undefined,
    tx: EntityManager,
  ): Promise<void> {
    await rawQuery(tx, 'UPDATE agents SET last_seq = ?, last_report_at = ? WHERE id = ?', [lastSeq, at.getTime(), target.agentId]);
    if (clockSkewMs === undefined)
      await rawQuery(tx, 'UPDATE hosts SET status = ?, last_report_at = ? WHERE id = ?', [hostStatus, at.getTime(), target.hostId]);
    else
      await rawQuery(tx, 'UPDATE hosts SET status = ?, last_report_at = ?, clock_skew_ms = ? WHERE id = ?', [
        hostStatus,
        at.getTime(),
        clockSkewMs,
        target.hostId,
      ]);
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
   * Of the slugs given (each once), the live (not offboarded) tenants the host's agent may report use for, ids by
   * slug: those with an active allocation on the host or bound to it by an operator. One statement for a usual batch;
   * a batch naming more slugs than a statement may bind (500 reports × 256 tenants) takes one per SLUGS_PER_STATEMENT.
   */
  async reportableTenantIds(hostId: string, slugs: string[], tx: EntityManager): Promise<Map<string, string>> {
    const ids = new Map<string, string>();
    for (let start = 0; start < slugs.length; start += SLUGS_PER_STATEMENT) {
      const chunk = slugs.slice(start, start + SLUGS_PER_STATEMENT);
      const rows = await rawQuery<{ id: string; slug: string }>(
        tx,
        `SELECT t.id, t.slug FROM tenants t
          WHERE t.state <> 'offboarded' AND t.slug IN (${chunk.map(() => '?').join(', ')})
            AND (EXISTS (SELECT 1 FROM allocations a WHERE a.tenant_id = t.id AND a.host_id = ? AND a.status = 'active')
                 OR EXISTS (SELECT 1 FROM host_tenants b WHERE b.tenant_id = t.id AND b.host_id = ?))`,
        [...chunk, hostId, hostId],
      );
      for (const row of rows) ids.set(row.slug, row.id);
    }
    return ids;
  }

  async saveLatest(hostId: string, seq: number, collectedAt: Date, receivedAt: Date, report: unknown, tx: EntityManager): Promise<void> {
    await rawQuery(tx, UPSERT_MEASUREMENT, [
      hostId,
      seq,
      collectedAt.getTime(),
      receivedAt.getTime(),
      JSON.stringify(report),
      JSON.stringify(digestOf(report)),
    ]);
  }
}
