import { Injectable } from '@nestjs/common';
import { AllocationEntity, HostEntity, HostStatus, InventoryEntity, writeLock } from '@dcm/persistence';
import { DataSource, EntityManager, In, IsNull } from 'typeorm';

/** Hosts that have not been decommissioned, with their inventories. */
@Injectable()
export class HostsRepository {
  constructor(private readonly dataSource: DataSource) {}

  findLiveByName(name: string, manager: EntityManager = this.dataSource.manager): Promise<HostEntity | null> {
    return manager.findOne(HostEntity, { where: { name, decommissionedAt: IsNull() }, relations: { inventories: true } });
  }

  findLiveById(id: string, manager: EntityManager = this.dataSource.manager): Promise<HostEntity | null> {
    return manager.findOne(HostEntity, { where: { id, decommissionedAt: IsNull() }, relations: { inventories: true } });
  }

  listLive(filter: { site?: string; status?: HostStatus } = {}): Promise<HostEntity[]> {
    return this.dataSource.manager.find(HostEntity, {
      where: {
        decommissionedAt: IsNull(),
        ...(filter.site ? { site: filter.site } : {}),
        ...(filter.status ? { status: filter.status } : {}),
      },
      relations: { inventories: true },
      order: { name: 'ASC' },
    });
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
}
