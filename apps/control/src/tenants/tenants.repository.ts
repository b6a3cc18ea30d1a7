import { Injectable } from '@nestjs/common';
import type { QuotaState } from '@dcm/domain';
import { AllocationEntity, rawQuery, TenantEntity, TenantState, writeLock } from '@dcm/persistence';
import { DataSource, EntityManager, In } from 'typeorm';

/** Tenants as stored. Methods take the transaction's EntityManager when they are part of one. */
@Injectable()
export class TenantsRepository {
  constructor(private readonly dataSource: DataSource) {}

  findBySlug(slug: string, manager: EntityManager = this.dataSource.manager): Promise<TenantEntity | null> {
    return manager.findOneBy(TenantEntity, { slug });
  }

  /**
   * The tenant, its row locked for the rest of the transaction (PostgreSQL): two changes of one tenant then run one
   * after the other, each reading what the one before committed, so that its audit event's before is that after.
   */
  lockBySlug(slug: string, tx: EntityManager): Promise<TenantEntity | null> {
    return tx.findOne(TenantEntity, { where: { slug }, lock: writeLock(tx) });
  }

  findById(id: string, manager: EntityManager = this.dataSource.manager): Promise<TenantEntity | null> {
    return manager.findOneBy(TenantEntity, { id });
  }

  slugsByIds(ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return Promise.resolve(new Map());
    return this.dataSource.manager
      .find(TenantEntity, { select: { id: true, slug: true }, where: { id: In([...new Set(ids)]) } })
      .then((tenants) => new Map(tenants.map((tenant) => [tenant.id, tenant.slug])));
  }

  /** Each tenant's worst quota state now (`over` before `warning` before `ok`), by tenant id; tenants without quotas are `ok`. */
  async worstQuotaStates(): Promise<Map<string, QuotaState>> {
    const rows = await rawQuery<{ tenant_id: string; worst: unknown }>(
      this.dataSource.manager,
      `SELECT tenant_id, MAX(CASE state WHEN 'over' THEN 2 WHEN 'warning' THEN 1 ELSE 0 END) AS worst FROM quotas GROUP BY tenant_id`,
    );
    const states: QuotaState[] = ['ok', 'warning', 'over'];
    return new Map(rows.map((row) => [row.tenant_id, states[Number(row.worst)] ?? 'ok']));
  }

  list(state?: TenantState): Promise<TenantEntity[]> {
    return this.dataSource.manager.find(TenantEntity, { where: state ? { state } : {}, order: { slug: 'ASC' } });
  }

  save(tenant: TenantEntity, manager: EntityManager): Promise<TenantEntity> {
    return manager.save(tenant);
  }

  countActiveAllocations(tenantId: string, manager: EntityManager = this.dataSource.manager): Promise<number> {
    return manager.countBy(AllocationEntity, { tenantId, status: 'active' });
  }

  /** Ends the tenant's bindings to hosts (PUT /v1/hosts/:name/tenants/:slug). */
  async unbindHosts(tenantId: string, tx: EntityManager): Promise<void> {
    await rawQuery(tx, 'DELETE FROM host_tenants WHERE tenant_id = ?', [tenantId]);
  }
}
