import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMillis } from '../transformers';

/** The first answer to a request carrying an Idempotency-Key, replayed for every retry with the same key. */
@Entity('idempotency_records')
export class IdempotencyRecordEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  principal: string;

  @PrimaryColumn({ name: 'idempotency_key', type: 'varchar', length: 255 })
  key: string;

  @Column({ name: 'request_hash', type: 'varchar', length: 64 })
  requestHash: string;

  @Column({ name: 'status_code', type: 'integer' })
  statusCode: number;

  @Column({ type: 'text' })
  body: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMillis })
  createdAt: Date;
}
