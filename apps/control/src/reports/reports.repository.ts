import { Injectable } from '@nestjs/common';
import { dialectOf, numberOrNull, rawQuery } from '@dcm/persistence';
import { DataSource } from 'typeorm';
import { HistoryRepository } from '../history/history.repository';

export const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
/** Where downsampling records how far tenant_samples hold hourly rows (see DownsamplingService). */

/** One item of an allocation that overlaps a period. */
export interface AllocationSpanRow {
  tenant: string;
  resourceClass: string;
  amount: number;
  createdAt: number;
  releasedAt: number | null;
}

/** A tenant's measured use over a period, in unit-milliseconds (bytes × ms); null where no sample measured the class. */
export interface MeasuredUseRow {
  tenant: string;
  memory: number | null;
  storage: number | null;
}

/** An item of an active allocation, with its tenant and host. */
export interface ActiveAllocationItemRow {
  id: string;
  tenantId: string;
  tenant: string;
  hostId: string;
  host: string;
  site: string;
  description: string;
  createdAt: number;
  resourceClass: string;
  amount: number;
}

/** A tenant's highest measured use on one host over a window; null where no sample measured the class. */
export interface PeakUseRow {
  tenantId: string;
  hostId: string;
  memory: number | null;
  storage: number | null;
}

@Injectable()
export class ReportsRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly history: HistoryRepository,
  ) {}

  async units(): Promise<Map<string, string>> {
    const rows = await rawQuery<{ name: string; unit: string }>(this.dataSource.manager, 'SELECT name, unit FROM resource_classes');
    return new Map(rows.map((row) => [row.name, row.unit]));
  }

  /** Items of every allocation that existed at some instant of [from, to), whatever its state now. */
  async allocationSpans(from: number, to: number): Promise<AllocationSpanRow[]> {
    const rows = await rawQuery<Record<string, unknown>>(
      this.dataSource.manager,
      `SELECT t.slug, i.resource_class, i.amount, a.created_at, a.released_at
         FROM allocations a
         JOIN allocation_items i ON i.allocation_id = a.id
         JOIN tenants t ON t.id = a.tenant_id
        WHERE a.created_at < ? AND (a.released_at IS NULL OR a.released_at > ?)`,
      [to, from],
    );
    return rows.map((row) => ({
      tenant: row.slug as string,
      resourceClass: row.resource_class as string,
      amount: Number(row.amount),
      createdAt: Number(row.created_at),
      releasedAt: numberOrNull(row.released_at),
    }));
  }

  /**
   * Each tenant's measured memory and storage over [from, to) as Σ value × time, summed over its hosts. A row below
   * the downsampling watermark is an hour's average and stands for that hour; a row at or above it stands for its
   * minute. Rows reaching past either end of the period count only for the part inside. Sums are floating point:
   * bytes × milliseconds outgrow 64-bit integers.
   */
  async measuredUse(from: number, to: number): Promise<MeasuredUseRow[]> {
    const hourlyBefore = await this.history.downsampledBefore('tenant_samples');
    const sum = dialectOf(this.dataSource.manager) === 'postgres' ? 'SUM' : 'TOTAL';
    const overlap = '((CASE WHEN s.end_ms > ? THEN ? ELSE s.end_ms END) - (CASE WHEN s.bucket < ? THEN ? ELSE s.bucket END))';
    const rows = await rawQuery<Record<string, unknown>>(
      this.dataSource.manager,
      `SELECT t.slug,
              ${sum}(CAST(s.memory_bytes AS DOUBLE PRECISION) * ${overlap}) AS memory, COUNT(s.memory_bytes) AS memory_samples,
              ${sum}(CAST(s.storage_used AS DOUBLE PRECISION) * ${overlap}) AS storage, COUNT(s.storage_used) AS storage_samples
         FROM (SELECT tenant_id, bucket, memory_bytes, storage_used,
                      bucket + CASE WHEN bucket < CAST(? AS BIGINT) THEN ${HOUR_MS} ELSE ${MINUTE_MS} END AS end_ms
                 FROM tenant_samples WHERE bucket >= ? AND bucket < ?) s
         JOIN tenants t ON t.id = s.tenant_id
        WHERE s.end_ms > ?
        GROUP BY t.slug`,
      [to, to, from, from, to, to, from, from, hourlyBefore, from - HOUR_MS, to, from],
    );
    return rows.map((row) => ({
      tenant: row.slug as string,
      memory: Number(row.memory_samples) > 0 ? Number(row.memory) : null,
      storage: Number(row.storage_samples) > 0 ? Number(row.storage) : null,
    }));
  }

  /** Items of the active allocations created at or before `createdBy`. */
  async activeAllocationItems(createdBy: number): Promise<ActiveAllocationItemRow[]> {
    const rows = await rawQuery<Record<string, unknown>>(
      this.dataSource.manager,
      `SELECT a.id, a.tenant_id, t.slug, a.host_id, h.name, h.site, a.description, a.created_at, i.resource_class, i.amount
         FROM allocations a
         JOIN allocation_items i ON i.allocation_id = a.id
         JOIN tenants t ON t.id = a.tenant_id
         JOIN hosts h ON h.id = a.host_id
        WHERE a.status = 'active' AND a.created_at <= ?
        ORDER BY t.slug, h.name, a.created_at, a.id, i.resource_class`,
      [createdBy],
    );
    return rows.map((row) => ({
      id: row.id as string,
      tenantId: row.tenant_id as string,
      tenant: row.slug as string,
      hostId: row.host_id as string,
      host: row.name as string,
      site: row.site as string,
      description: row.description as string,
      createdAt: Number(row.created_at),
      resourceClass: row.resource_class as string,
      amount: Number(row.amount),
    }));
  }

  /** Each tenant's highest memory and storage sample on each host in [from, to). */
  async peakUse(from: number, to: number): Promise<PeakUseRow[]> {
    const rows = await rawQuery<Record<string, unknown>>(
      this.dataSource.manager,
      `SELECT tenant_id, host_id, MAX(memory_bytes) AS memory, MAX(storage_used) AS storage
         FROM tenant_samples WHERE bucket >= ? AND bucket < ?
        GROUP BY tenant_id, host_id`,
      [from, to],
    );
    return rows.map((row) => ({
      tenantId: row.tenant_id as string,
      hostId: row.host_id as string,
      memory: numberOrNull(row.memory),
      storage: numberOrNull(row.storage),
    }));
  }
}
