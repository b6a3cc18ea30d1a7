import { Injectable } from '@nestjs/common';
import type { Classification, HostInventoryState, PlacementHost } from '@dcm/domain';
import {
  AllocationEntity,
  forUpdate,
  HostEntity,
  HostMeasurementEntity,
  HostStatus,
  InventoryEntity,
  numberOrNull,
  rawQuery,
  writeLock,
} from '@dcm/persistence';
import { DataSource, EntityManager, In, IsNull } from 'typeorm';

/** A live host as placement sees it: the domain's PlacementHost plus where it is. */
export interface PlacementHostRow extends PlacementHost {
  id: string;
  site: string;
  inventories: Record<string, HostInventoryState>;
}

function liveHostsWhere(filter: { site?: string; status?: HostStatus; accreditation?: Classification }) {
  return {
    decommissionedAt: IsNull(),
    ...(filter.site ? { site: filter.site } : {}),
    ...(filter.status ? { status: filter.status } : {}),
    ...(filter.accreditation ? { accreditation: filter.accreditation } : {}),
  };
}

/** Hosts that have not been decommissioned, with their inventories. */
@Injectable()
export class HostsRepository {
  constructor(private readonly dataSource: DataSource) {}

  findLiveByName(name: string, manager: EntityManager = this.dataSource.manager): Promise<HostEntity | null> {
    return manager.findOne(HostEntity, { where: { name, decommissionedAt: IsNull() }, relations: { inventories: true } });
  }

  /**
   * The live host of this name, as findLiveByName, with its row locked until the transaction ends (PostgreSQL): two
   * changes of one host then take turns, and each audits as its `before` what the other left.
   */
  async lockLiveByName(name: string, tx: EntityManager): Promise<HostEntity | null> {
    const lock = forUpdate(tx, 'h'); // none on SQLite, whose writers take turns anyway
    if (lock) await rawQuery(tx, `SELECT h.id FROM hosts h WHERE h.name = ? AND h.decommissioned_at IS NULL${lock}`, [name]);
    return this.findLiveByName(name, tx);
  }

  findLiveById(id: string, manager: EntityManager = this.dataSource.manager): Promise<HostEntity | null> {
    return manager.findOne(HostEntity, { where: { id, decommissionedAt: IsNull() }, relations: { inventories: true } });
  }

  listLive(filter: { site?: string; status?: HostStatus; accreditation?: Classification } = {}): Promise<HostEntity[]> {
    return this.dataSource.manager.find(HostEntity, { where: liveHostsWhere(filter), relations: { inventories: true }, order: { name: 'ASC' } });
  }

  /** The sites live hosts are in, by name. */
  async liveSites(): Promise<string[]> {
    const rows = await rawQuery<{ site: string }>(this.dataSource.manager, 'SELECT DISTINCT site FROM hosts WHERE decommissioned_at IS NULL ORDER BY site');
    return rows.map((row) => row.site);
  }

  /**
   * One page of live hosts by name, with their inventories, and how many match in all. The page's ids are read first
   * and their inventories after: a join under LIMIT would page inventory rows, not hosts.
   */
  async pageLive(
    filter: { site?: string; status?: HostStatus; accreditation?: Classification },
    page: { limit: number; offset: number },
  ): Promise<{ hosts: HostEntity[]; total: number }> {
    const where = liveHostsWhere(filter);
    const [ids, total] = await Promise.all([
      this.dataSource.manager.find(HostEntity, { where, select: { id: true }, order: { name: 'ASC' }, take: page.limit, skip: page.offset }),
      this.dataSource.manager.count(HostEntity, { where }),
    ]);
    if (ids.length === 0) return { hosts: [], total };
    const hosts = await this.dataSource.manager.find(HostEntity, {
      where: { id: In(ids.map((host) => host.id)) },
      relations: { inventories: true },
      order: { name: 'ASC' },
    });
    return { hosts, total };
  }

  /**
   * Live hosts as placement sees them, read with plain SQL (the catalog reloads thousands at a time, and one host after
   * a stale pick); admission locks its host with lockPlacementHost.
   */
  async placementHosts(options: { hostId?: string } = {}): Promise<PlacementHostRow[]> {
    const manager = this.dataSource.manager;
    const byHost = options.hostId ? ' AND h.id = ?' : '';
    const parameters = options.hostId ? [options.hostId] : [];
    const hosts = await rawQuery<PlacementHostColumns>(
      manager,
      `SELECT h.id, h.name, h.site, h.status, h.accreditation, h.accepted, t.slug AS dedicated
         FROM hosts h LEFT JOIN tenants t ON t.id = h.dedicated_tenant_id
        WHERE h.decommissioned_at IS NULL${byHost}`,
      parameters,
    );
    if (hosts.length === 0) return [];
    const rows = await rawQuery<Record<string, unknown>>(
      manager,
      `SELECT i.host_id, i.resource_class, i.total, i.reserved, i.allocation_ratio, i.min_unit, i.max_unit, i.step_size, i.allocated
         FROM inventories i JOIN hosts h ON h.id = i.host_id
        WHERE h.decommissioned_at IS NULL${byHost} ORDER BY i.host_id, i.resource_class`,
      parameters,
    );
    const result = new Map<string, PlacementHostRow>(hosts.map((host) => [host.id, placementHostOf(host)]));
    for (const row of rows) {
      const host = result.get(row.host_id as string);
      if (!host) continue;
      host.inventories[row.resource_class as string] = inventoryOf(row);
    }
    return [...result.values()];
  }

  /**
   * One live host as placement sees it, its inventory rows locked until the transaction ends (in class order, the
   * fixed order every locker uses), read in one statement. Null when the host is not live.
   *
   * With `skipLocked` (PostgreSQL), rows another transaction holds are skipped rather than waited for, and the answer
   * is `busy` when any was: admission then tries another host instead of queueing behind that transaction (two replicas
   * placing from identical catalogs pick the same hosts in the same order). The rows it did lock stay locked.
   */
  async lockPlacementHost(
    hostId: string,
    tx: EntityManager,
    options: { skipLocked?: boolean } = {},
  ): Promise<{ host: PlacementHostRow | null; busy: boolean }> {
    const lock = forUpdate(tx);
    const skip = lock !== '' && options.skipLocked === true;
    const rows = await rawQuery<PlacementHostColumns & Record<string, unknown>>(
      tx,
      `WITH i AS (SELECT resource_class, total, reserved, allocation_ratio, min_unit, max_unit, step_size, allocated
                    FROM inventories WHERE host_id = ? ORDER BY resource_class${lock}${skip ? ' SKIP LOCKED' : ''})
       SELECT h.id, h.name, h.site, h.status, h.accreditation, h.accepted, t.slug AS dedicated,
              i.resource_class, i.total, i.reserved, i.allocation_ratio, i.min_unit, i.max_unit, i.step_size, i.allocated${
                skip ? ', (SELECT count(*) FROM inventories c WHERE c.host_id = h.id) AS classes' : ''
              }
         FROM hosts h LEFT JOIN tenants t ON t.id = h.dedicated_tenant_id LEFT JOIN i ON 1 = 1
        WHERE h.id = ? AND h.decommissioned_at IS NULL`,
      [hostId, hostId],
    );
    if (rows.length === 0) return { host: null, busy: false };
    const [first] = rows;
    const host = placementHostOf(first);
    for (const row of rows) {
      if (row.resource_class === null) continue;
      host.inventories[row.resource_class as string] = inventoryOf(row);
    }
    const busy = skip && Object.keys(host.inventories).length < Number(first.classes);
    return { host, busy };
  }

  latestMeasurement(hostId: string): Promise<HostMeasurementEntity | null> {
    return this.dataSource.manager.findOneBy(HostMeasurementEntity, { hostId });
  }

  namesByIds(ids: string[]): Promise<Map<string, HostEntity>> {
    if (ids.length === 0) return Promise.resolve(new Map());
    return this.dataSource.manager
      .find(HostEntity, { select: { id: true, name: true, site: true }, where: { id: In([...new Set(ids)]) } })
      .then((hosts) => new Map(hosts.map((host) => [host.id, host])));
  }

  /** The host's inventory rows, locked for the rest of the transaction, in class order (the fixed order lockers use). */
  lockInventories(hostId: string, tx: EntityManager): Promise<InventoryEntity[]> {
    return tx.find(InventoryEntity, { where: { hostId }, order: { resourceClass: 'ASC' }, lock: writeLock(tx) });
  }

  saveHost(host: HostEntity, tx: EntityManager): Promise<HostEntity> {
    const { inventories: _inventories, ...columns } = host;
    return tx.save(HostEntity, columns as HostEntity);
  }

  saveInventories(inventories: InventoryEntity[], tx: EntityManager): Promise<InventoryEntity[]> {
    return tx.save(
      InventoryEntity,
      inventories.map(({ host: _host, ...columns }) => columns as InventoryEntity),
    );
  }

  countActiveAllocations(hostId: string, manager: EntityManager = this.dataSource.manager): Promise<number> {
    return manager.countBy(AllocationEntity, { hostId, status: 'active' });
  }

  /** Tenants holding active allocations on the host. */
  async activeTenantIds(hostId: string, tx: EntityManager): Promise<string[]> {
    const rows = await tx
      .createQueryBuilder(AllocationEntity, 'allocation')
      .select('DISTINCT allocation.tenant_id', 'tenantId')
      .where('allocation.host_id = :hostId AND allocation.status = :status', { hostId, status: 'active' })
      .getRawMany<{ tenantId: string }>();
    return rows.map((row) => row.tenantId);
  }

  /** Slugs of the live tenants an operator bound to the host (their use may be reported without an allocation there). */
  async boundTenantSlugs(hostId: string, manager: EntityManager = this.dataSource.manager): Promise<string[]> {
    const rows = await rawQuery<{ slug: string }>(
      manager,
      `SELECT t.slug FROM host_tenants b JOIN tenants t ON t.id = b.tenant_id WHERE b.host_id = ? AND t.state <> 'offboarded' ORDER BY t.slug`,
      [hostId],
    );
    return rows.map((row) => row.slug);
  }

  async isBound(hostId: string, tenantId: string, tx: EntityManager): Promise<boolean> {
    return (await rawQuery(tx, 'SELECT 1 FROM host_tenants WHERE host_id = ? AND tenant_id = ?', [hostId, tenantId])).length > 0;
  }

  async bindTenant(hostId: string, tenantId: string, at: Date, tx: EntityManager): Promise<void> {
    await rawQuery(tx, 'INSERT INTO host_tenants (host_id, tenant_id, created_at) VALUES (?, ?, ?)', [hostId, tenantId, at.getTime()]);
  }

  /** Removes bindings of one host, of one tenant, or of the pair. */
  async unbindTenants(where: { hostId?: string; tenantId?: string }, tx: EntityManager): Promise<void> {
    const conditions = Object.entries({ host_id: where.hostId, tenant_id: where.tenantId }).filter(([, value]) => value !== undefined);
    if (conditions.length === 0) throw new Error('unbindTenants needs a host, a tenant or both');
    await rawQuery(
      tx,
      `DELETE FROM host_tenants WHERE ${conditions.map(([column]) => `${column} = ?`).join(' AND ')}`,
      conditions.map(([, value]) => value),
    );
  }
}

/** A host's own columns as placement reads them (`dedicated`: the slug of the tenant it is dedicated to). */
interface PlacementHostColumns {
  id: string;
  name: string;
  site: string;
  status: HostStatus;
  accreditation: Classification;
  accepted: unknown;
  dedicated: string | null;
}

/** A host as placement sees it, its inventories still to add. */
function placementHostOf(row: PlacementHostColumns): PlacementHostRow {
  return {
    id: row.id,
    name: row.name,
    site: row.site,
    status: row.status,
    accreditation: row.accreditation,
    dedicatedTenant: row.dedicated,
    // SQLite gives booleans as 1 and 0.
    accepted: row.accepted === true || row.accepted === 1,
    inventories: {},
  };
}

function inventoryOf(row: Record<string, unknown>): HostInventoryState {
  return {
    total: Number(row.total),
    reserved: Number(row.reserved),
    allocationRatio: Number(row.allocation_ratio),
    minUnit: numberOrNull(row.min_unit),
    maxUnit: numberOrNull(row.max_unit),
    stepSize: numberOrNull(row.step_size),
    allocated: Number(row.allocated),
  };
}
