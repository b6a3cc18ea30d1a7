import { Injectable } from '@nestjs/common';
import type { QuotaState } from '@dcm/domain';
import { numberOrNull, QuotaEntity, rawQuery, TenantState, writeLock } from '@dcm/persistence';
import { DataSource, EntityManager } from 'typeorm';

/** A quota with what enforcement weighs it against: the tenant's state, allocations and measured use. */
export interface QuotaPositionRow {
  tenantId: string;
  slug: string;
  tenantState: TenantState;
  frozenBy: 'enforcement' | 'operator' | null;
  resourceClass: string;
  /** The quota as set by operators. */
  quota: number;
  /** The tenant's running surge grants for the class. */
  granted: number;
  /** The effective limit, quota + granted: what admission and enforcement weigh allocations and use against. */
  limit: number;
  allocated: number;
  /** Measured use (storage and memory, as agents measure them per tenant); null when not measured. */
  used: number | null;
  state: QuotaState;
  stateSince: Date | null;
}

/**
 * Quotas with their tenant's measured use, in one statement: of one tenant, or of every tenant not offboarded. Measured use of a class is the sum over live hosts
 * of the tenant's latest sample on each host no older than `usedSince`: storage from the tenant's mounts, memory from
 * its cgroups. vCPU use is a counter of CPU seconds that the cgroup already caps, so it is not weighed against quotas.
 */
const POSITIONS = (oneTenant: boolean) => `
  SELECT q.tenant_id, t.slug, t.state AS tenant_state, t.frozen_by, q.resource_class, q.limit_amount, q.granted, q.allocated, q.state, q.state_since,
         CASE q.resource_class WHEN 'storage' THEN u.storage WHEN 'memory' THEN u.memory END AS used
    FROM quotas q
    JOIN tenants t ON t.id = q.tenant_id
    LEFT JOIN (
      SELECT s.tenant_id, SUM(s.storage_used) AS storage, SUM(s.memory_bytes) AS memory
        FROM tenant_samples s
        JOIN (SELECT tenant_id, host_id, MAX(bucket) AS bucket FROM tenant_samples
               WHERE bucket >= ?${oneTenant ? ' AND tenant_id = ?' : ''} GROUP BY tenant_id, host_id) latest
          ON latest.tenant_id = s.tenant_id AND latest.host_id = s.host_id AND latest.bucket = s.bucket
        JOIN hosts h ON h.id = s.host_id AND h.decommissioned_at IS NULL
       GROUP BY s.tenant_id
    ) u ON u.tenant_id = q.tenant_id
   WHERE ${oneTenant ? 'q.tenant_id = ?' : "t.state <> 'offboarded'"}
   ORDER BY t.slug, q.resource_class`;

@Injectable()
export class QuotasRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Quotas with allocations and measured use: of one tenant, or of every live tenant (the enforcement pass). */
  async positions(usedSince: Date, tenantId?: string): Promise<QuotaPositionRow[]> {
    const parameters = tenantId ? [usedSince.getTime(), tenantId, tenantId] : [usedSince.getTime()];
    const rows = await rawQuery<Record<string, unknown>>(this.dataSource.manager, POSITIONS(tenantId !== undefined), parameters);
    return rows.map((row) => ({
      tenantId: row.tenant_id as string,
      slug: row.slug as string,
      tenantState: row.tenant_state as TenantState,
      frozenBy: (row.frozen_by as QuotaPositionRow['frozenBy']) ?? null,
      resourceClass: row.resource_class as string,
      quota: Number(row.limit_amount),
      granted: Number(row.granted),
      limit: Number(row.limit_amount) + Number(row.granted),
      allocated: Number(row.allocated),
      used: numberOrNull(row.used),
      state: row.state as QuotaState,
      stateSince: row.state_since === null || row.state_since === undefined ? null : new Date(Number(row.state_since)),
    }));
  }

  /** The tenant's quota rows, locked for the rest of the transaction, always in class order so that lockers never deadlock. */
  lockForTenant(tenantId: string, tx: EntityManager): Promise<QuotaEntity[]> {
    return tx.find(QuotaEntity, { where: { tenantId }, order: { resourceClass: 'ASC' }, lock: writeLock(tx) });
  }

  /** Sets each of the tenant's quotas' `granted` to the sum of its running surge grants for the class. */
  async recomputeGranted(tenantId: string, tx: EntityManager): Promise<void> {
    await rawQuery(
      tx,
      `UPDATE quotas SET granted = COALESCE((
         SELECT SUM(i.amount) FROM surge_grant_items i JOIN surge_grants g ON g.id = i.grant_id
          WHERE g.tenant_id = quotas.tenant_id AND g.ended_at IS NULL AND i.resource_class = quotas.resource_class), 0)
        WHERE tenant_id = ?`,
      [tenantId],
    );
  }

  save(quotas: QuotaEntity[], tx: EntityManager): Promise<QuotaEntity[]> {
    return tx.save(quotas);
  }

  remove(quotas: QuotaEntity[], tx: EntityManager): Promise<unknown> {
    return quotas.length ? tx.remove(quotas) : Promise.resolve();
  }
}
