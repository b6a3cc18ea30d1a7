import { Injectable } from '@nestjs/common';
import { HostUseFigures, storageUsedOn } from '@dcm/domain';
import { numberOrNull, rawQuery } from '@dcm/persistence';
import { DataSource, EntityManager } from 'typeorm';
import { storageMountsOf } from '../common/agent-facts';
import type { ReportDigest } from '../telemetry/report-digest';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;

export interface InventoryRow {
  hostId: string;
  site: string;
  resourceClass: string;
  total: number;
  reserved: number;
  allocationRatio: number;
  allocated: number;
}

export interface HostUseRow extends HostUseFigures {
  hostId: string;
}

export interface CapacitySampleRow {
  site: string;
  resourceClass: string;
  capacity: number;
  allocated: number;
  used: number | null;
}

/** A sample table and how an hour of its one-minute rows folds into one row. */
interface SampleTable {
  name: 'host_samples' | 'tenant_samples' | 'capacity_samples';
  keys: string[];
  /** Column → aggregate of the hour's rows: averages for levels of use, maxima for sizes and counters. */
  aggregates: Record<string, string>;
}

const avgAmount = (column: string) => `CAST(ROUND(AVG(${column})) AS BIGINT)`;

export const SAMPLE_TABLES: readonly SampleTable[] = [
  {
    name: 'host_samples',
    keys: ['host_id'],
    aggregates: {
      cpu_usage_ratio: 'AVG(cpu_usage_ratio)',
      load1: 'AVG(load1)',
      memory_total: 'MAX(memory_total)',
      memory_available: avgAmount('memory_available'),
      storage_size: 'MAX(storage_size)',
      storage_used: avgAmount('storage_used'),
    },
  },
  {
    name: 'tenant_samples',
    keys: ['tenant_id', 'host_id'],
    aggregates: { storage_used: avgAmount('storage_used'), memory_bytes: avgAmount('memory_bytes'), cpu_seconds_total: 'MAX(cpu_seconds_total)' },
  },
  {
    name: 'capacity_samples',
    keys: ['site', 'resource_class'],
    aggregates: { capacity: 'MAX(capacity)', allocated: avgAmount('allocated'), used: avgAmount('used') },
  },
];

const UPSERT_CAPACITY_SAMPLE = `INSERT INTO capacity_samples (site, resource_class, bucket, capacity, allocated, used) VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (site, resource_class, bucket) DO UPDATE SET capacity = excluded.capacity, allocated = excluded.allocated, used = excluded.used`;

/** The watermark under which downsampling records how far it has folded a sample table. */
export function downsamplingWatermark(table: string): string {
  return `downsample:${table}`;
}
/** Host ids bound in one statement. */
const HOSTS_PER_STATEMENT = 500;

@Injectable()
export class HistoryRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Every inventory of every live host an operator has accepted (no other adds to capacity), with the host's site. */
  async inventories(): Promise<InventoryRow[]> {
    const rows = await rawQuery<Record<string, unknown>>(
      this.dataSource.manager,
      `SELECT i.host_id, h.site, i.resource_class, i.total, i.reserved, i.allocation_ratio, i.allocated
         FROM inventories i JOIN hosts h ON h.id = i.host_id WHERE h.decommissioned_at IS NULL AND h.accepted = TRUE`,
    );
    return rows.map((row) => ({
      hostId: row.host_id as string,
      site: row.site as string,
      resourceClass: row.resource_class as string,
      total: Number(row.total),
      reserved: Number(row.reserved),
      allocationRatio: Number(row.allocation_ratio),
      allocated: Number(row.allocated),
    }));
  }

  /**
   * What each live host's latest report, collected from `since` on, says of its use. The storage mounts are those the
   * agent counted as storage when it enrolled (its facts): a report lists every filesystem, and only those are storage.
   */
  async latestHostUse(since: Date): Promise<HostUseRow[]> {
    // The digest written beside each report (a fifth of its size) carries every figure needed: parsing 10,000 whole
    // reports was half of GET /v1/capacity's second, most of it in the garbage collector.
    const rows = await rawQuery<{ host_id: string; digest: string | null; facts: string | null }>(
      this.dataSource.manager,
      `SELECT m.host_id, m.digest, a.facts
         FROM host_measurements m
         JOIN hosts h ON h.id = m.host_id AND h.decommissioned_at IS NULL
         LEFT JOIN agents a ON a.id = h.agent_id
        WHERE m.collected_at >= ?`,
      [since.getTime()],
    );
    const uses: HostUseRow[] = [];
    const undigested = new Map<string, unknown>();
    for (const row of rows) {
      const facts = parseJson(row.facts);
      const use = hostUseOfDigest(parseJson(row.digest), facts);
      if (use === undefined) undigested.set(row.host_id, facts);
      else if (use) uses.push({ hostId: row.host_id, ...use });
    }
    // A digest stored before it carried every figure (or none at all): that host's whole report, as before.
    const hostIds = [...undigested.keys()];
    for (let start = 0; start < hostIds.length; start += HOSTS_PER_STATEMENT) {
      const chunk = hostIds.slice(start, start + HOSTS_PER_STATEMENT);
      const reports = await rawQuery<{ host_id: string; report: string | null }>(
        this.dataSource.manager,
        `SELECT host_id, report FROM host_measurements WHERE host_id IN (${chunk.map(() => '?').join(', ')})`,
        chunk,
      );
      for (const row of reports) {
        const use = hostUseOf(parseJson(row.report), undigested.get(row.host_id));
        if (use) uses.push({ hostId: row.host_id, ...use });
      }
    }
    return uses;
  }

  async saveCapacitySamples(bucket: number, samples: readonly CapacitySampleRow[], tx: EntityManager): Promise<void> {
    for (const sample of samples) {
      await rawQuery(tx, UPSERT_CAPACITY_SAMPLE, [sample.site, sample.resourceClass, bucket, sample.capacity, sample.allocated, sample.used]);
    }
  }

  /** Hourly points of each site and class from `since` on: hours still held by the minute are averaged here. */
  async capacityHistory(
    since: Date,
  ): Promise<{ site: string; resourceClass: string; hour: number; capacity: number; allocated: number; used: number | null }[]> {
    const rows = await rawQuery<Record<string, unknown>>(
      this.dataSource.manager,
      `SELECT site, resource_class, (bucket / ${HOUR_MS}) * ${HOUR_MS} AS hour, MAX(capacity) AS capacity, AVG(allocated) AS allocated, AVG(used) AS used
         FROM capacity_samples WHERE bucket >= ?
        GROUP BY site, resource_class, (bucket / ${HOUR_MS}) * ${HOUR_MS}
        ORDER BY site, resource_class, hour`,
      [since.getTime()],
    );
    return rows.map((row) => ({
      site: row.site as string,
      resourceClass: row.resource_class as string,
      hour: Number(row.hour),
      capacity: Number(row.capacity),
      allocated: Number(row.allocated),
      used: numberOrNull(row.used),
    }));
  }

  /** Samples of `table` older than this instant have been folded into hourly rows (0: none yet). */
  downsampledBefore(table: string): Promise<number> {
    return this.watermark(downsamplingWatermark(table));
  }

  async watermark(name: string): Promise<number> {
    const [row] = await rawQuery<{ value: unknown }>(this.dataSource.manager, 'SELECT value FROM scheduler_watermarks WHERE name = ?', [name]);
    return row ? Number(row.value) : 0;
  }

  async setWatermark(name: string, value: number, tx: EntityManager): Promise<void> {
    await rawQuery(tx, 'INSERT INTO scheduler_watermarks (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value', [name, value]);
  }

  /** The earliest sample at or after `from`, or null. */
  async firstBucket(table: SampleTable['name'], from: number): Promise<number | null> {
    const [row] = await rawQuery<{ bucket: unknown }>(this.dataSource.manager, `SELECT MIN(bucket) AS bucket FROM ${table} WHERE bucket >= ?`, [from]);
    return numberOrNull(row?.bucket);
  }

  /**
   * Folds the one-minute rows of [from, to) (whole hours) into one row per key and hour, at the hour's start: the
   * aggregate overwrites the row at :00 (or takes its place), then the rest of the hour's rows go. Running it again
   * over the same hours changes nothing.
   */
  async downsample(table: SampleTable, from: number, to: number, tx: EntityManager): Promise<void> {
    const keys = table.keys.join(', ');
    const columns = Object.keys(table.aggregates);
    const hour = `(bucket / ${HOUR_MS}) * ${HOUR_MS}`;
    // The WHERE also settles SQLite's parsing of ON CONFLICT after INSERT … SELECT.
    await rawQuery(
      tx,
      `INSERT INTO ${table.name} (${keys}, bucket, ${columns.join(', ')})
       SELECT ${keys}, ${hour}, ${columns.map((column) => table.aggregates[column]).join(', ')}
         FROM ${table.name} WHERE bucket >= ? AND bucket < ?
        GROUP BY ${keys}, ${hour}
       ON CONFLICT (${keys}, bucket) DO UPDATE SET ${columns.map((column) => `${column} = excluded.${column}`).join(', ')}`,
      [from, to],
    );
    await rawQuery(tx, `DELETE FROM ${table.name} WHERE bucket >= ? AND bucket < ? AND bucket % ${HOUR_MS} <> 0`, [from, to]);
  }

  async deleteBefore(table: SampleTable['name'], before: number, tx: EntityManager): Promise<void> {
    await rawQuery(tx, `DELETE FROM ${table} WHERE bucket < ?`, [before]);
  }
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const finite = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

function parseJson(text: string | null): unknown {
  try {
    return text === null ? null : JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * The use figures of a stored report's digest (see digestOf), as hostUseOf gives them from the whole report; null if
 * the report lacks any of them; undefined if the digest cannot say (none, or stored before it kept logical cores and
 * each filesystem's used bytes).
 */
function hostUseOfDigest(digest: unknown, facts: unknown): HostUseFigures | null | undefined {
  if (!isObject(digest) || !Array.isArray(digest.filesystems)) return undefined;
  const { cpuUsageRatio, logicalCores, memoryTotal, memoryAvailable } = digest as Partial<ReportDigest>;
  const filesystems = digest.filesystems as ReportDigest['filesystems'];
  if (logicalCores === undefined || filesystems.some((filesystem) => filesystem.length < 4)) return undefined;
  if (!finite(cpuUsageRatio) || !finite(logicalCores) || !finite(memoryTotal) || !finite(memoryAvailable)) return null;
  const storageUsed = storageUsedOn(
    storageMountsOf(facts),
    filesystems.map(([mountpoint, size, , used]): [string, unknown, unknown] => [mountpoint, used, size]),
  );
  return { cpuUsageRatio, logicalCores, memoryTotal, memoryAvailable, storageUsed };
}

/** The use figures of a stored report (schema of @dcm/protocol); null if it lacks any of them. */
function hostUseOf(report: unknown, facts: unknown): HostUseFigures | null {
  if (!isObject(report) || !isObject(report.cpu) || !isObject(report.memory)) return null;
  const { usageRatio, logicalCores } = report.cpu;
  const { totalBytes, availableBytes } = report.memory;
  if (!finite(usageRatio) || !finite(logicalCores) || !finite(totalBytes) || !finite(availableBytes)) return null;
  const filesystems = (Array.isArray(report.filesystems) ? report.filesystems : []).flatMap((filesystem: unknown): [string, unknown, unknown][] =>
    isObject(filesystem) && typeof filesystem.mountpoint === 'string' ? [[filesystem.mountpoint, filesystem.usedBytes, filesystem.sizeBytes]] : [],
  );
  const storageUsed = storageUsedOn(storageMountsOf(facts), filesystems);
  return { cpuUsageRatio: usageRatio, logicalCores, memoryTotal: totalBytes, memoryAvailable: availableBytes, storageUsed };
}
