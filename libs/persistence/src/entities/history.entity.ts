import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { bigintNumber, epochMillis } from '../transformers';

/** One-minute (hourly once downsampled) totals of one site and resource class: what the forecast fits a line to. */
@Entity('capacity_samples')
export class CapacitySampleEntity {
  @PrimaryColumn({ type: 'varchar', length: 63 })
  site: string;

  @PrimaryColumn({ name: 'resource_class', type: 'varchar', length: 48 })
  resourceClass: string;

  @PrimaryColumn({ name: 'bucket', type: 'bigint', transformer: epochMillis })
  bucket: Date;

  @Column({ type: 'bigint', transformer: bigintNumber })
  capacity: number;

  @Column({ type: 'bigint', transformer: bigintNumber })
  allocated: number;

  /** Measured use on the site's hosts; null for classes agents do not measure. */
  @Column({ type: 'bigint', nullable: true, transformer: bigintNumber })
  used: number | null;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

/** An enforcement event waiting to be POSTed to the webhook, written in the transaction that made the change. */
@Entity('webhook_outbox')
export class WebhookOutboxEntity {
  @PrimaryGeneratedColumn('increment')
  id: number;

  @Column({ name: 'event_id', type: 'varchar', length: 36 })
  eventId: string;

  @Column({ type: 'text' })
  payload: string;

  @Column({ type: 'varchar', length: 16 })
  status: WebhookDeliveryStatus;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMillis })
  createdAt: Date;

  @Column({ name: 'next_attempt_at', type: 'bigint', transformer: epochMillis })
  nextAttemptAt: Date;

  @Column({ name: 'finished_at', type: 'bigint', nullable: true, transformer: epochMillis })
  finishedAt: Date | null;

  @Column({ name: 'last_error', type: 'varchar', length: 500, nullable: true })
  lastError: string | null;
}

/** How far a resumable job (downsampling) has got, per table. */
@Entity('scheduler_watermarks')
export class SchedulerWatermarkEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  name: string;

  @Column({ type: 'bigint', transformer: bigintNumber })
  value: number;
}
