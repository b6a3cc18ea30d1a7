import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber, epochMillis } from '../transformers';

/**
 * One change, kept for the record. Events form a keyed hash chain: `hash` is an HMAC, under the key `keyId` names (kept
 * outside the database), of this event's fields and `prevHash`, the hash of the event before it, so that altering,
 * removing or reordering any stored event shows on verification, even to someone who can write the database.
 * `before` and `after` are stored as the exact JSON text that was hashed.
 */
@Entity('audit_events')
@Index('audit_events_subject', ['subjectType', 'subject', 'seq'])
@Index('audit_events_actor', ['actor', 'seq'])
@Index('audit_events_at', ['at'])
export class AuditEventEntity {
  /** 1, 2, 3, … without gaps: assigned by the writer that holds the chain's head. */
  @PrimaryColumn({ type: 'bigint', transformer: bigintNumber })
  seq: number;

  @Column({ type: 'bigint', transformer: epochMillis })
  at: Date;

  /** Who: `token:<id>` for an API, join or agent token, `system:<job>` for the scheduler. */
  @Column({ type: 'varchar', length: 100 })
  actor: string;

  /** What, as `<subject type>.<verb>`: `tenant.create`, `allocation.release`, `quota.state_changed`, … */
  @Column({ type: 'varchar', length: 60 })
  action: string;

  @Column({ name: 'subject_type', type: 'varchar', length: 30 })
  subjectType: string;

  @Column({ type: 'varchar', length: 200 })
  subject: string;

  @Column({ type: 'text', nullable: true })
  before: string | null;

  @Column({ type: 'text', nullable: true })
  after: string | null;

  @Column({ name: 'prev_hash', type: 'varchar', length: 64 })
  prevHash: string;

  @Column({ type: 'varchar', length: 64 })
  hash: string;

  /** The key of the HMAC; null for an event written before the chain was keyed (a plain SHA-256 then). */
  @Column({ name: 'key_id', type: 'varchar', length: 32, nullable: true })
  keyId: string | null;
}
