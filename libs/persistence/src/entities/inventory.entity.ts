import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { bigintNumber, epochMillis } from '../transformers';
import { HostEntity } from './host.entity';

const optionalBigint = { type: 'bigint' as const, nullable: true, transformer: bigintNumber };

/**
 * One resource class on one host. Capacity is derived by the domain's capacityOf(); `allocated` is the sum of the
 * active allocations on this host, kept in step inside the admission and release transactions.
 */
@Entity('inventories')
export class InventoryEntity {
  @PrimaryColumn({ name: 'host_id', type: 'varchar', length: 36 })
  hostId: string;

  @PrimaryColumn({ name: 'resource_class', type: 'varchar', length: 48 })
  resourceClass: string;

  @Column({ type: 'bigint', transformer: bigintNumber })
  total: number;

  @Column({ type: 'bigint', default: 0, transformer: bigintNumber })
  reserved: number;

  @Column({ name: 'allocation_ratio', type: 'double precision' })
  allocationRatio: number;

  @Column({ name: 'min_unit', ...optionalBigint })
  minUnit: number | null;

  @Column({ name: 'max_unit', ...optionalBigint })
  maxUnit: number | null;

  @Column({ name: 'step_size', ...optionalBigint })
  stepSize: number | null;

  @Column({ type: 'bigint', default: 0, transformer: bigintNumber })
  allocated: number;

  /** What the host's agent last measured (vcpu, memory, storage); on an operator's host it may differ from `total`. */
  @Column({ name: 'measured_total', ...optionalBigint })
  measuredTotal: number | null;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMillis })
  updatedAt: Date;

  @ManyToOne(() => HostEntity, (host) => host.inventories, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'host_id' })
  host?: HostEntity;
}
