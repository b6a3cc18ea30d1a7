import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { QuotaState } from '@dcm/domain';
import { bigintNumber, epochMillis } from '../transformers';

/**
 * A tenant's hard limit for one resource class. `allocated` is the sum of the tenant's active allocations of
 * that class, kept in step inside the admission and release transactions; `granted` likewise for surge grants.
 */
@Entity('quotas')
export class QuotaEntity {
  @PrimaryColumn({ name: 'tenant_id', type: 'varchar', length: 36 })
  tenantId: string;

  @PrimaryColumn({ name: 'resource_class', type: 'varchar', length: 48 })
  resourceClass: string;

  @Column({ name: 'limit_amount', type: 'bigint', transformer: bigintNumber })
  limit: number;

  @Column({ type: 'bigint', default: 0, transformer: bigintNumber })
  allocated: number;

  /** The sum of the tenant's running surge grants for the class: the effective limit is limit + granted. */
  @Column({ type: 'bigint', default: 0, transformer: bigintNumber })
  granted: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMillis })
  updatedAt: Date;

  /** Enforcement state as the enforcement job last found it, and since when. */
  @Column({ type: 'varchar', length: 8, default: 'ok' })
  state: QuotaState;

  @Column({ name: 'state_since', type: 'bigint', nullable: true, transformer: epochMillis })
  stateSince: Date | null;
}
