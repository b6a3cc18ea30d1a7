import { Injectable } from '@nestjs/common';
import type { QuotaStateChange } from '@dcm/domain';
import { TenantEntity, rawQuery } from '@dcm/persistence';
import { EntityManager } from 'typeorm';

/** The writes of an enforcement pass; each is guarded by the state it expects, so that a stale pass changes nothing. */
@Injectable()
export class EnforcementRepository {
  async saveQuotaStates(changes: readonly QuotaStateChange[], tx: EntityManager): Promise<void> {
    for (const change of changes) {
      await rawQuery(tx, 'UPDATE quotas SET state = ?, state_since = ? WHERE tenant_id = ? AND resource_class = ? AND state = ?', [
        change.to,
        change.since.getTime(),
        change.tenantId,
        change.resourceClass,
        change.from,
      ]);
    }
  }

  /** Freezes an active tenant on enforcement's behalf; false when it was no longer active. */
  async freeze(tenantId: string, now: Date, tx: EntityManager): Promise<boolean> {
    const result = await tx
      .createQueryBuilder()
      .update(TenantEntity)
      .set({ state: 'frozen', frozenBy: 'enforcement', updatedAt: now })
      .where("id = :tenantId AND state = 'active'", { tenantId })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  /** Lifts a freeze that enforcement imposed; false when the tenant is no longer frozen by enforcement. */
  async unfreeze(tenantId: string, now: Date, tx: EntityManager): Promise<boolean> {
    const result = await tx
      .createQueryBuilder()
      .update(TenantEntity)
      .set({ state: 'active', frozenBy: null, updatedAt: now })
      .where("id = :tenantId AND state = 'frozen' AND frozen_by = 'enforcement'", { tenantId })
      .execute();
    return (result.affected ?? 0) > 0;
  }
}
