import { Injectable } from '@nestjs/common';
import type { Classification, Isolation, QuotaPosition } from '@dcm/domain';
import { AllocationEntity, AllocationStatus, dialectOf, forUpdate, rawQuery, SqlWrite, TenantState } from '@dcm/persistence';
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

  /**
   * The tenant and its quota rows, the quota rows locked until the transaction ends in class order (the fixed order
   * every locker uses), in one statement. Null when there is no such tenant.
   */
  async tenantWithLockedQuotas(slug: string, tx: EntityManager): Promise<{ tenant: AdmissionTenant; quotas: Record<string, QuotaPosition> } | null> {
    const rows = await rawQuery<AdmissionTenant & { resource_class: string | null; limit_amount: unknown; allocated: unknown }>(
      tx,
      `WITH t AS (SELECT id, slug, state, classification, isolation FROM tenants WHERE slug = ?),
            q AS (SELECT resource_class, limit_amount + granted AS limit_amount, allocated FROM quotas
                   WHERE tenant_id = (SELECT id FROM t) ORDER BY resource_class${forUpdate(tx)})
       SELECT t.id, t.slug, t.state, t.classification, t.isolation, q.resource_class, q.limit_amount, q.allocated FROM t LEFT JOIN q ON 1 = 1`,
      [slug],
    );
    if (rows.length === 0) return null;
    const { id, state, classification, isolation } = rows[0];
    const quotas: Record<string, QuotaPosition> = {};
    for (const row of rows) {
      if (row.resource_class !== null) quotas[row.resource_class] = { limit: Number(row.limit_amount), allocated: Number(row.allocated) };
    }
    return { tenant: { id, slug: rows[0].slug, state, classification, isolation }, quotas };
  }

  async liveHostIdByName(name: string, tx: EntityManager): Promise<string | null> {
    const [row] = await rawQuery<{ id: string }>(tx, 'SELECT id FROM hosts WHERE name = ? AND decommissioned_at IS NULL', [name]);
    return row?.id ?? null;
  }

  /**
   * Writes an admitted allocation: the allocation and its items, the tenant's and the host's allocated sums, and
   * `alongside` (the idempotency record, the audit event). On PostgreSQL that is one data-modifying statement, one round
   * trip; on SQLite, where a statement is a function call, one statement each.
   */
  async recordAdmission(allocation: AllocationRecord, createdBy: string, alongside: SqlWrite[], tx: EntityManager): Promise<void> {
    const classes = Object.keys(allocation.resources).sort();
    const allocationRow: SqlWrite = {
      sql: "INSERT INTO allocations (id, tenant_id, host_id, description, status, created_by, created_at, released_at) VALUES (?, ?, ?, ?, 'active', ?, ?, NULL)",
      parameters: [allocation.id, allocation.tenantId, allocation.hostId, allocation.description, createdBy, allocation.createdAt.getTime()],
    };
    if (dialectOf(tx) === 'postgres') {
      await writeTogether(
        tx,
        classes.map((resourceClass) => allocation.resources[resourceClass]),
        [
          allocationRow,
          {
            sql: 'INSERT INTO allocation_items (allocation_id, resource_class, amount) SELECT ?, resource_class, amount FROM amounts',
            parameters: [allocation.id],
          },
          ...moveAllocated(allocation.tenantId, allocation.hostId, 1),
          ...alongside,
        ],
        classes,
      );
      return;
    }
    await rawQuery(tx, allocationRow.sql, allocationRow.parameters);
    await rawQuery(
      tx,
      `INSERT INTO allocation_items (allocation_id, resource_class, amount) VALUES ${classes.map(() => '(?, ?, ?)').join(', ')}`,
      classes.flatMap((resourceClass) => [allocation.id, resourceClass, allocation.resources[resourceClass]]),
    );
    await this.adjustAllocated(allocation.tenantId, allocation.hostId, allocation.resources, 1, tx);
    for (const write of alongside) await rawQuery(tx, write.sql, write.parameters);
  }

  /**
   * Writes a release (the caller holds the allocation's, the tenant's quota and the host's inventory rows): the
   * allocation marked released, the tenant's and the host's allocated sums, and `alongside` (the audit event). One
   * statement on PostgreSQL, as recordAdmission.
   */
  async recordRelease(allocation: AllocationRecord, releasedAt: Date, alongside: SqlWrite[], tx: EntityManager): Promise<void> {
    const released: SqlWrite = {
      sql: "UPDATE allocations SET status = 'released', released_at = ? WHERE id = ?",
      parameters: [releasedAt.getTime(), allocation.id],
    };
    if (dialectOf(tx) === 'postgres') {
      const classes = Object.keys(allocation.resources).sort();
      await writeTogether(
        tx,
        classes.map((resourceClass) => allocation.resources[resourceClass]),
        [released, ...moveAllocated(allocation.tenantId, allocation.hostId, -1), ...alongside],
        classes,
      );
      return;
    }
    await rawQuery(tx, released.sql, released.parameters);
    await this.adjustAllocated(allocation.tenantId, allocation.hostId, allocation.resources, -1, tx);
    for (const write of alongside) await rawQuery(tx, write.sql, write.parameters);
  }

  /**
   * The allocation with its tenant slug, host name and amounts, its row locked until the transaction ends, and with it
   * (PostgreSQL) the rows a release writes: the tenant's quota rows, then the host's inventory rows, each in class order
   * (the order admission locks them in, so that the two never deadlock). One statement: the allocation's row is read
   * and locked first (FROM), then the projection's two subqueries lock the quotas and the inventories, in that order.
   * An allocation already released has them locked for nothing, which its release (a no-op) does not mind.
   */
  async lockForRelease(id: string, tx: EntityManager): Promise<AllocationRecord | null> {
    const lock = forUpdate(tx);
    const rows = await rawQuery<Record<string, unknown>>(
      tx,
      `WITH a AS (SELECT id, tenant_id, host_id, description, status, created_at, released_at FROM allocations WHERE id = ?${lock}),
            q AS (SELECT resource_class FROM quotas WHERE tenant_id = (SELECT tenant_id FROM a) ORDER BY resource_class${lock}),
            i AS (SELECT resource_class FROM inventories WHERE host_id = (SELECT host_id FROM a) ORDER BY resource_class${lock})
       SELECT a.id, a.tenant_id, t.slug, a.host_id, h.name, h.site, a.description, a.status, a.created_at, a.released_at,
              (SELECT count(*) FROM q) AS quotas_locked, (SELECT count(*) FROM i) AS inventories_locked, item.resource_class, item.amount
         FROM a JOIN tenants t ON t.id = a.tenant_id JOIN hosts h ON h.id = a.host_id
         LEFT JOIN allocation_items item ON item.allocation_id = a.id`,
      [id],
    );
    if (rows.length === 0) return null;
    const [row] = rows;
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
      resources: Object.fromEntries(
        rows
          .filter((item) => item.resource_class !== null)
          .map((item) => [item.resource_class as string, Number(item.amount)] as const)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      ),
    };
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

/**
 * PostgreSQL: runs `writes` as one data-modifying statement, each a part of its WITH, with `amounts` (resource_class,
 * amount: the classes and their signed amounts) at hand to them. Every part sees the rows as they were before the
 * statement (so no two parts may write one row); all of it commits or fails together, as separate statements would.
 */
async function writeTogether(tx: EntityManager, amounts: number[], writes: SqlWrite[], classes: string[]): Promise<void> {
  await rawQuery(
    tx,
    `WITH amounts AS (SELECT * FROM unnest(CAST(? AS varchar[]), CAST(? AS bigint[])) AS amounts (resource_class, amount)), ` +
      writes.map((write, index) => `w${index} AS (${write.sql})`).join(', ') +
      ' SELECT 1',
    [classes, amounts, ...writes.flatMap((write) => write.parameters)],
  );
}

/** The parts of writeTogether that move a tenant's and a host's allocated sums by `sign` × the amounts. */
function moveAllocated(tenantId: string, hostId: string, sign: 1 | -1): SqlWrite[] {
  const by = sign === 1 ? '+' : '-';
  return [
    {
      sql: `UPDATE quotas SET allocated = quotas.allocated ${by} amounts.amount FROM amounts WHERE quotas.tenant_id = ? AND quotas.resource_class = amounts.resource_class`,
      parameters: [tenantId],
    },
    {
      sql: `UPDATE inventories SET allocated = inventories.allocated ${by} amounts.amount FROM amounts WHERE inventories.host_id = ? AND inventories.resource_class = amounts.resource_class`,
      parameters: [hostId],
    },
  ];
}
