import type { Classification, Isolation, TenantState } from '@dcm/domain';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMillis } from '../transformers';

export type { TenantState };
export type TenantIsolation = Isolation;
export type TenantClassification = Classification;

@Entity('tenants')
export class TenantEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  /** Immutable and never reused, so that audit records and showback stay unambiguous. */
  @Column({ type: 'varchar', length: 63, unique: true })
  slug: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ type: 'varchar', length: 320, default: '' })
  contact: string;

  @Column({ type: 'varchar', length: 16 })
  isolation: TenantIsolation;

  @Column({ type: 'varchar', length: 24 })
  classification: TenantClassification;

  @Column({ type: 'varchar', length: 16 })
  state: TenantState;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMillis })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMillis })
  updatedAt: Date;

  /** Who froze the tenant: the enforcement job lifts only the freezes it imposed. */
  @Column({ name: 'frozen_by', type: 'varchar', length: 16, nullable: true })
  frozenBy: 'enforcement' | 'operator' | null;

  @Column({ name: 'offboarded_at', type: 'bigint', nullable: true, transformer: epochMillis })
  offboardedAt: Date | null;
}
