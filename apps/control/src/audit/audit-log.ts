import { Injectable, Logger } from '@nestjs/common';
import { ADVISORY_LOCKS, dialectOf, rawQuery } from '@dcm/persistence';
import { EntityManager } from 'typeorm';
import type { Actor } from '../common/actor';
import { Clock } from '../common/clock';
import { CheckpointRecord, CHECKPOINT_ACTION, GENESIS_HASH, hashEvent } from './audit-chain';
import { AuditKeyring } from './audit-keyring';

export interface AuditEntry {
  actor: Actor;
  /** `<subject type>.<verb>`, e.g. `tenant.create`. */
  action: string;
  subjectType: string;
  /** The subject's name as people use it: a tenant's slug, a host's name, an allocation's id. */
  subject: string;
  /** The subject as the API shows it before and after the change (null when it did not or no longer exists). */
  before?: unknown;
  after?: unknown;
}

/** Only one writer extends the chain at a time: PostgreSQL replicas take this transaction-scoped advisory lock. */
const CHAIN_LOCK = ADVISORY_LOCKS.auditChain;

/**
 * Appends events to the keyed hash chain of the audit log inside the caller's transaction, so that an event exists
 * exactly when its change was committed. Each event's seq and prevHash follow the head of the chain as the transaction
 * sees it; writers are serialised (SQLite has one writer; PostgreSQL takes CHAIN_LOCK until commit), so the chain never
 * forks. Each event carries an HMAC under the keyring's current key, and that key's id.
 */
@Injectable()
export class AuditLog {
  constructor(
    private readonly clock: Clock,
    private readonly keyring: AuditKeyring,
  ) {}

  async record(tx: EntityManager, ...entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const head = await this.lockHead(tx);
    await this.append(tx, head, entries);
  }

  /**
   * Seals a chain written before it was keyed: appends a keyed checkpoint naming its last event and that event's hash,
   * so that from it on nothing can be rewritten without the key. Only the migration that keys the chain calls this
   * (an unkeyed chain found later was written without the key; sealing it would certify it). Returns the last unkeyed
   * seq, or null if there was nothing to seal.
   */
  async sealUnkeyed(tx: EntityManager): Promise<number | null> {
    const head = await this.lockHead(tx);
    if (!head || head.keyId !== null) return null;
    const unkeyedThroughSeq = Number(head.seq);
    const checkpoint: CheckpointRecord & { keyId: string } = { unkeyedThroughSeq, unkeyedHeadHash: head.hash, keyId: this.keyring.current.id };
    await this.append(tx, head, [{ actor: 'system:audit-key', action: CHECKPOINT_ACTION, subjectType: 'audit', subject: 'audit-log', after: checkpoint }]);
    new Logger(AuditLog.name).warn(`audit log: events up to ${unkeyedThroughSeq} were written before the chain was keyed; sealed them with a keyed checkpoint`);
    return unkeyedThroughSeq;
  }

  private async lockHead(tx: EntityManager): Promise<{ seq: unknown; hash: string; keyId: string | null } | undefined> {
    if (dialectOf(tx) === 'postgres') await tx.query('SELECT pg_advisory_xact_lock($1)', [CHAIN_LOCK]);
    const [head] = await rawQuery<{ seq: unknown; hash: string; keyId: string | null }>(
      tx,
      'SELECT seq, hash, key_id AS "keyId" FROM audit_events ORDER BY seq DESC LIMIT 1',
    );
    return head;
  }

  private async append(tx: EntityManager, head: { seq: unknown; hash: string } | undefined, entries: AuditEntry[]): Promise<void> {
    const { id: keyId, secret } = this.keyring.current;
    let seq = head ? Number(head.seq) : 0;
    let prevHash = head?.hash ?? GENESIS_HASH;
    const at = this.clock.now();
    for (const entry of entries) {
      seq += 1;
      const event = {
        seq,
        at,
        actor: entry.actor,
        action: entry.action,
        subjectType: entry.subjectType,
        subject: entry.subject.slice(0, 200),
        before: entry.before === undefined || entry.before === null ? null : JSON.stringify(entry.before),
        after: entry.after === undefined || entry.after === null ? null : JSON.stringify(entry.after),
        prevHash,
        keyId,
      };
      const hash = hashEvent(event, secret);
      await rawQuery(
        tx,
        'INSERT INTO audit_events (seq, at, actor, action, subject_type, subject, "before", "after", prev_hash, hash, key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [seq, at.getTime(), event.actor, event.action, event.subjectType, event.subject, event.before, event.after, prevHash, hash, keyId],
      );
      prevHash = hash;
    }
  }
}
