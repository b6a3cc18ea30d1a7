import { Column, Entity, Index, JoinColumn, ManyToOne, OneToMany, PrimaryColumn } from 'typeorm';
import { bigintNumber, epochMillis } from '../transformers';

export type AllocationStatus = 'active' | 'released';

@Entity('allocations')
@Index('allocations_tenant_status', ['tenantId', 'status'])
@Index('allocations_host_status', ['hostId', 'status'])
export class AllocationEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'tenant_id', type: 'varchar', length: 36 })
  tenantId: string;

  @Column({ name: 'host_id', type: 'varchar', length: 36 })
  hostId: string;

  @Column({ type: 'varchar', length: 500, default: '' })
  description: string;

  @Column({ type: 'varchar', length: 16 })
  status: AllocationStatus;

  @Column({ name: 'created_by', type: 'varchar', length: 36, nullable: true })
  createdBy: string | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMillis })
  createdAt: Date;

  @Column({ name: 'released_at', type: 'bigint', nullable: true, transformer: epochMillis })
  releasedAt: Date | null;

  @OneToMany(() => AllocationItemEntity, (item) => item.allocation)
  items?: AllocationItemEntity[];
}

@Entity('allocation_items')
export class AllocationItemEntity {
  @PrimaryColumn({ name: 'allocation_id', type: 'varchar', length: 36 })
  allocationId: string;

  @PrimaryColumn({ name: 'resource_class', type: 'varchar', length: 48 })
  resourceClass: string;

  @Column({ type: 'bigint', transformer: bigintNumber })
  amount: number;

  @ManyToOne(() => AllocationEntity, (allocation) => allocation.items, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'allocation_id' })
  allocation?: AllocationEntity;
}
