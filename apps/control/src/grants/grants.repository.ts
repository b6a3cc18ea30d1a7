import { Injectable } from '@nestjs/common';
import { SurgeGrantEntity, SurgeGrantItemEntity, writeLock } from '@dcm/persistence';
import { DataSource, EntityManager, In, IsNull, LessThanOrEqual } from 'typeorm';

export interface GrantWithItems {
  grant: SurgeGrantEntity;
  resources: Record<string, number>;
}

@Injectable()
export class GrantsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(grant: SurgeGrantEntity, resources: Record<string, number>, tx: EntityManager): Promise<void> {
    await tx.insert(SurgeGrantEntity, grant);
    await tx.insert(
      SurgeGrantItemEntity,
      Object.entries(resources).map(([resourceClass, amount]) => ({ grantId: grant.id, resourceClass, amount })),
    );
  }

  /** The tenant's grants, newest first: running ones only, or all. */
  async forTenant(tenantId: string, includeEnded: boolean): Promise<GrantWithItems[]> {
    const grants = await this.dataSource.manager.find(SurgeGrantEntity, {
      where: includeEnded ? { tenantId } : { tenantId, endedAt: IsNull() },
      order: { createdAt: 'DESC', id: 'ASC' },
    });
    return this.withItems(grants, this.dataSource.manager);
  }

  async lockForTenant(tenantId: string, id: string, tx: EntityManager): Promise<GrantWithItems | null> {
    const grant = await tx.findOne(SurgeGrantEntity, { where: { id, tenantId }, lock: writeLock(tx) });
    return grant ? (await this.withItems([grant], tx))[0] : null;
  }

  /** Running grants whose time is up, oldest expiry first, locked. */
  async lockExpired(now: Date, limit: number, tx: EntityManager): Promise<GrantWithItems[]> {
    const grants = await tx.find(SurgeGrantEntity, {
      where: { endedAt: IsNull(), expiresAt: LessThanOrEqual(now) },
      order: { expiresAt: 'ASC', id: 'ASC' },
      take: limit,
      lock: writeLock(tx),
    });
    return this.withItems(grants, tx);
  }

  async end(grant: SurgeGrantEntity, tx: EntityManager): Promise<void> {
    await tx.update(SurgeGrantEntity, { id: grant.id }, { endedAt: grant.endedAt, endReason: grant.endReason });
  }

  private async withItems(grants: SurgeGrantEntity[], manager: EntityManager): Promise<GrantWithItems[]> {
    if (grants.length === 0) return [];
    const items = await manager.find(SurgeGrantItemEntity, { where: { grantId: In(grants.map((grant) => grant.id)) }, order: { resourceClass: 'ASC' } });
    const byGrant = new Map<string, Record<string, number>>();
    for (const item of items) {
      const resources = byGrant.get(item.grantId) ?? {};
      resources[item.resourceClass] = item.amount;
      byGrant.set(item.grantId, resources);
    }
    return grants.map((grant) => ({ grant, resources: byGrant.get(grant.id) ?? {} }));
  }
}
