import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber, epochMillis } from '../transformers';

export type SurgeGrantEnd = 'expired' | 'revoked';

/**
 * A time-boxed increase of a tenant's quotas, by the amounts of its items. While it runs, its amounts count in
 * `quotas.granted`, so that the effective limit (limit + granted) costs admission nothing extra.
 */
@Entity('surge_grants')
@Index('surge_grants_tenant', ['tenantId', 'endedAt'])
@Index('surge_grants_expiry', ['endedAt', 'expiresAt'])
export class SurgeGrantEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'tenant_id', type: 'varchar', length: 36 })
  tenantId: string;

  @Column({ type: 'varchar', length: 500 })
  reason: string;

  @Column({ name: 'created_by', type: 'varchar', length: 100 })
  createdBy: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMillis })
  createdAt: Date;

  @Column({ name: 'expires_at', type: 'bigint', transformer: epochMillis })
  expiresAt: Date;

  @Column({ name: 'ended_at', type: 'bigint', nullable: true, transformer: epochMillis })
  endedAt: Date | null;

  @Column({ name: 'end_reason', type: 'varchar', length: 8, nullable: true })
  endReason: SurgeGrantEnd | null;
}

/** One class's amount of a grant, in the class's base unit. */
@Entity('surge_grant_items')
export class SurgeGrantItemEntity {
  @PrimaryColumn({ name: 'grant_id', type: 'varchar', length: 36 })
  grantId: string;

  @PrimaryColumn({ name: 'resource_class', type: 'varchar', length: 48 })
  resourceClass: string;

  @Column({ type: 'bigint', transformer: bigintNumber })
  amount: number;
}
