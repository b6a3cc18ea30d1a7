import type { HostStatus } from '@dcm/domain';
import { Column, Entity, Index, OneToMany, PrimaryColumn } from 'typeorm';
import { epochMillis, jsonText } from '../transformers';
import { InventoryEntity } from './inventory.entity';
import type { TenantClassification } from './tenant.entity';

export type { HostStatus };
/** Who owns the host's inventory: an operator (registered or sized it) or its agent (created it by enrolling). */
export type HostOrigin = 'operator' | 'agent';

/**
 * A host of the facility. Beside these columns, `inventory_version` counts changes to its inventories: triggers keep
 * it, and only /metrics reads it (plain SQL), so it is left out of the entity.
 */
@Entity('hosts')
@Index('hosts_name_live', ['name'], { unique: true, where: 'decommissioned_at IS NULL' })
@Index('hosts_site_live', ['site'], { where: 'decommissioned_at IS NULL' })
export class HostEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 63 })
  name: string;

  @Column({ type: 'varchar', length: 63 })
  site: string;

  @Column({ type: 'varchar', length: 63, nullable: true })
  rack: string | null;

  @Column({ type: 'text', transformer: jsonText<Record<string, string>>({}) })
  labels: Record<string, string>;

  @Column({ type: 'varchar', length: 24 })
  accreditation: TenantClassification;

  @Column({ name: 'dedicated_tenant_id', type: 'varchar', length: 36, nullable: true })
  dedicatedTenantId: string | null;

  @Column({ type: 'varchar', length: 16 })
  status: HostStatus;

  @Column({ type: 'varchar', length: 16, default: 'operator' })
  origin: HostOrigin;

  /** An enrolled host is placeable only once an operator accepts it. */
  @Column({ type: 'boolean', default: true })
  accepted: boolean;

  @Column({ name: 'agent_id', type: 'varchar', length: 36, nullable: true })
  agentId: string | null;

  @Column({ name: 'last_report_at', type: 'bigint', nullable: true, transformer: epochMillis })
  lastReportAt: Date | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMillis })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMillis })
  updatedAt: Date;

  @Column({ name: 'decommissioned_at', type: 'bigint', nullable: true, transformer: epochMillis })
  decommissionedAt: Date | null;

  @OneToMany(() => InventoryEntity, (inventory) => inventory.host)
  inventories?: InventoryEntity[];
}
