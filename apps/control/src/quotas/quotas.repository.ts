import { Injectable } from '@nestjs/common';
import { QuotaEntity, writeLock } from '@dcm/persistence';
import { DataSource, EntityManager } from 'typeorm';

@Injectable()
export class QuotasRepository {
  constructor(private readonly dataSource: DataSource) {}

  forTenant(tenantId: string): Promise<QuotaEntity[]> {
    return this.dataSource.manager.find(QuotaEntity, { where: { tenantId }, order: { resourceClass: 'ASC' } });
  }

  /** The tenant's quota rows, locked for the rest of the transaction, always in class order so that lockers never deadlock. */
  lockForTenant(tenantId: string, tx: EntityManager): Promise<QuotaEntity[]> {
    return tx.find(QuotaEntity, { where: { tenantId }, order: { resourceClass: 'ASC' }, lock: writeLock(tx) });
  }

  save(quotas: QuotaEntity[], tx: EntityManager): Promise<QuotaEntity[]> {
    return tx.save(quotas);
  }

  remove(quotas: QuotaEntity[], tx: EntityManager): Promise<unknown> {
    return quotas.length ? tx.remove(quotas) : Promise.resolve();
  }
}
