import { Injectable } from '@nestjs/common';
import { AllocationEntity, AllocationItemEntity, AllocationStatus, InventoryEntity, QuotaEntity, writeLock } from '@dcm/persistence';
import { DataSource, EntityManager, FindOptionsWhere } from 'typeorm';

@Injectable()
export class AllocationsRepository {
  constructor(private readonly dataSource: DataSource) {}

  findById(id: string, manager: EntityManager = this.dataSource.manager): Promise<AllocationEntity | null> {
    return manager.findOne(AllocationEntity, { where: { id }, relations: { items: true } });
  }

  /** The allocation row, locked for the rest of the transaction (items are immutable and need no lock). */
  async lockById(id: string, tx: EntityManager): Promise<AllocationEntity | null> {
    const allocation = await tx.findOne(AllocationEntity, { where: { id }, lock: writeLock(tx) });
    if (allocation) allocation.items = await tx.findBy(AllocationItemEntity, { allocationId: id });
    return allocation;
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

  async insert(allocation: AllocationEntity, items: AllocationItemEntity[], tx: EntityManager): Promise<void> {
    await tx.insert(AllocationEntity, allocation);
    await tx.insert(AllocationItemEntity, items);
  }

  async markReleased(allocation: AllocationEntity, tx: EntityManager): Promise<void> {
    await tx.update(AllocationEntity, { id: allocation.id }, { status: 'released', releasedAt: allocation.releasedAt });
  }

  /** Moves the tenant's and the host's allocated sums by `sign × amount` for every item. */
  async adjustAllocated(tenantId: string, hostId: string, items: AllocationItemEntity[], sign: 1 | -1, tx: EntityManager): Promise<void> {
    for (const item of items) {
      await tx.increment(QuotaEntity, { tenantId, resourceClass: item.resourceClass }, 'allocated', sign * item.amount);
    }
    for (const item of items) {
      await tx.increment(InventoryEntity, { hostId, resourceClass: item.resourceClass }, 'allocated', sign * item.amount);
    }
  }
}
