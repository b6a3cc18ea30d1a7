import { Injectable } from '@nestjs/common';
import type { Classification, Isolation, QuotaPosition } from '@dcm/domain';
import { AllocationEntity, AllocationStatus, forUpdate, rawQuery, TenantState } from '@dcm/persistence';
import { DataSource, EntityManager, FindOptionsWhere } from 'typeorm';

export interface AdmissionTenant {
  id: string;
  slug: string;
  state: TenantState;
  classification: Classification;
  isolation: Isolation;
}

export interface AllocationRecord {
  id: string;
  tenantId: string;
  tenantSlug: string;
  hostId: string;
  hostName: string;
  site: string;
  description: string;
  status: AllocationStatus;
  createdAt: Date;
  releasedAt: Date | null;
  resources: Record<string, number>;
}

/**
 * Admission and release run on every allocation request, so they speak plain SQL with portable placeholders
 * (about a tenth of the ORM's cost per statement, measured by `npm run bench -- admission`); reads that serve
 * listings use the entities.
 */
@Injectable()
export class AllocationsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async tenantBySlug(slug: string, manager: EntityManager = this.dataSource.manager): Promise<AdmissionTenant | null> {
    const [row] = await rawQuery<AdmissionTenant>(manager, 'SELECT id, slug, state, classification, isolation FROM tenants WHERE slug = ?', [slug]);
    return row ?? null;
  }

  /** The tenant's quota rows, locked until the transaction ends, in class order (the fixed order every locker uses). */
  async lockQuotas(tenantId: string, tx: EntityManager): Promise<Record<string, QuotaPosition>> {
    const rows = await rawQuery<{ resource_class: string; limit_amount: unknown; allocated: unknown }>(
      tx,
      `SELECT resource_class, limit_amount + granted AS limit_amount, allocated FROM quotas WHERE tenant_id = ? ORDER BY resource_class${forUpdate(tx)}`,
      [tenantId],
    );
    return Object.fromEntries(rows.map((row) => [row.resource_class, { limit: Number(row.limit_amount), allocated: Number(row.allocated) }]));
  }

  async liveHostIdByName(name: string, tx: EntityManager): Promise<string | null> {
    const [row] = await rawQuery<{ id: string }>(tx, 'SELECT id FROM hosts WHERE name = ? AND decommissioned_at IS NULL', [name]);
    return row?.id ?? null;
  }

  async insert(allocation: AllocationRecord, createdBy: string, tx: EntityManager): Promise<void> {
    await rawQuery(
      tx,
      "INSERT INTO allocations (id, tenant_id, host_id, description, status, created_by, created_at, released_at) VALUES (?, ?, ?, ?, 'active', ?, ?, NULL)",
      [allocation.id, allocation.tenantId, allocation.hostId, allocation.description, createdBy, allocation.createdAt.getTime()],
    );
    const classes = Object.keys(allocation.resources);
    await rawQuery(
      tx,
      `INSERT INTO allocation_items (allocation_id, resource_class, amount) VALUES ${classes.map(() => '(?, ?, ?)').join(', ')}`,
      classes.flatMap((resourceClass) => [allocation.id, resourceClass, allocation.resources[resourceClass]]),
    );
  }

  /** The allocation with its tenant slug, host name and amounts; the allocation row locked until the transaction ends. */
  async lockRecord(id: string, tx: EntityManager): Promise<AllocationRecord | null> {
    const [row] = await rawQuery<Record<string, unknown>>(
      tx,
      `SELECT a.id, a.tenant_id, t.slug, a.host_id, h.name, h.site, a.description, a.status, a.created_at, a.released_at
         FROM allocations a JOIN tenants t ON t.id = a.tenant_id JOIN hosts h ON h.id = a.host_id
        WHERE a.id = ?${forUpdate(tx, 'a')}`,
      [id],
    );
    if (!row) return null;
    const items = await rawQuery<{ resource_class: string; amount: unknown }>(
      tx,
      'SELECT resource_class, amount FROM allocation_items WHERE allocation_id = ? ORDER BY resource_class',
      [id],
    );
    return {
      id: row.id as string,
      tenantId: row.tenant_id as string,
      tenantSlug: row.slug as string,
      hostId: row.host_id as string,
      hostName: row.name as string,
      site: row.site as string,
      description: row.description as string,
      status: row.status as AllocationStatus,
      createdAt: new Date(Number(row.created_at)),
      releasedAt: row.released_at === null ? null : new Date(Number(row.released_at)),
      resources: Object.fromEntries(items.map((item) => [item.resource_class, Number(item.amount)])),
    };
  }

  async markReleased(id: string, releasedAt: Date, tx: EntityManager): Promise<void> {
    await rawQuery(tx, "UPDATE allocations SET status = 'released', released_at = ? WHERE id = ?", [releasedAt.getTime(), id]);
  }

  /**
   * Moves the tenant's and the host's allocated sums by `sign × amount` for every class, quotas first: one statement
   * per table, whatever the number of classes (on PostgreSQL each statement is a round trip).
   */
  async adjustAllocated(tenantId: string, hostId: string, resources: Record<string, number>, sign: 1 | -1, tx: EntityManager): Promise<void> {
    const classes = Object.keys(resources).sort();
    if (classes.length === 0) return;
    const cases = classes.map(() => 'WHEN ? THEN CAST(? AS BIGINT)').join(' ');
    const deltas = classes.flatMap((resourceClass) => [resourceClass, sign * resources[resourceClass]]);
    const inClasses = classes.map(() => '?').join(', ');
    for (const [table, owner, id] of [
      ['quotas', 'tenant_id', tenantId],
      ['inventories', 'host_id', hostId],
    ]) {
      await rawQuery(
        tx,
        `UPDATE ${table} SET allocated = allocated + CASE resource_class ${cases} END WHERE ${owner} = ? AND resource_class IN (${inClasses})`,
        [...deltas, id, ...classes],
      );
    }
  }

  list(filter: { tenantId?: string; hostId?: string; status?: AllocationStatus }, page: { limit: number; offset: number }): Promise<AllocationEntity[]> {
    const where: FindOptionsWhere<AllocationEntity> = {};
    if (filter.tenantId) where.tenantId = filter.tenantId;
    if (filter.hostId) where.hostId = filter.hostId;
    if (filter.status) where.status = filter.status;
    return this.dataSource.manager.find(AllocationEntity, {
      where,
      relations: { items: true },
      order: { createdAt: 'ASC', id: 'ASC' },
      take: page.limit,
      skip: page.offset,
    });
  }

  findById(id: string): Promise<AllocationEntity | null> {
    return this.dataSource.manager.findOne(AllocationEntity, { where: { id }, relations: { items: true } });
  }
}
