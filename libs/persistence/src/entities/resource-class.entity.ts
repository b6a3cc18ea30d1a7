import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMillis } from '../transformers';

@Entity('resource_classes')
export class ResourceClassEntity {
  @PrimaryColumn({ type: 'varchar', length: 48 })
  name: string;

  @Column({ type: 'varchar', length: 8 })
  unit: 'count' | 'bytes';

  @Column({ type: 'varchar', length: 200, nullable: true })
  description: string | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMillis })
  createdAt: Date;
}
