import { hostname } from 'node:os';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ADVISORY_LOCKS, dialectOf, rawQuery, SqlWrite, UnitOfWork } from '@dcm/persistence';
import { Client } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import type { Actor } from '../common/actor';
import { Clock } from '../common/clock';
import { CheckpointRecord, CHECKPOINT_ACTION, ChainedEvent, GENESIS_HASH, hashEvent } from './audit-chain';
import { AuditKeyring } from './audit-keyring';
import { PendingEventSealer, SqlBatch, SqlQuery } from './audit-sealer';

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

/** An event as stored, before the chain gives it its seq and hashes. */
type UnchainedEvent = Omit<ChainedEvent, 'seq' | 'prevHash' | 'hash' | 'keyId'>;
type ChainHead = { seq: unknown; hash: string; keyId?: string | null };

/** Only one writer extends the chain at a time: on PostgreSQL it holds this transaction-scoped advisory lock. */
const CHAIN_LOCK = ADVISORY_LOCKS.auditChain;
/** Pending events one statement of a seal moves at most (a seal takes as many batches as there are). */
const SEAL_BATCH = 2_000;
/** How long a write waits at most for the seal of its events (it then answers; they are sealed later). */
const SEAL_WAIT_MS = 5_000;
const CHAIN_COLUMNS = 'seq, at, actor, action, subject_type, subject, "before", "after", prev_hash, hash, key_id';

/**
 * Writes the keyed hash chain of the audit log. An event exists exactly when its change was committed: it is written
 * in the change's transaction. Each event's seq and prevHash follow the chain's head, and it carries an HMAC under the
 * keyring's current key and that key's id; one writer at a time extends the chain, so it never forks.
 *
 * SQLite: the event is chained at once, in the change's transaction. SQLite has one writer, and the unit of work
 * already commits many changes together (group commit), so chaining there costs no waiting and no extra commit.
 *
 * PostgreSQL: chaining in the change's transaction would mean holding the chain's lock until that transaction
 * commits, so that every auditing write queued behind the one before (admission ran at 0.1–0.2× SQLite's rate). So
 * `record` only inserts the events into `audit_pending` (no lock: they commit, or not, with the change), and once the
 * change has committed, a sealer (one transaction at a time under CHAIN_LOCK, on a connection of its own) moves every
 * committed pending event into `audit_events` in `id` order, chaining many writers' events in one short transaction.
 * The write waits (up to 5 s) for a seal that began after its commit before it answers, so a client reads its own
 * events at once; while a seal runs, the writes that commit meanwhile share the next one. A seal that fails (the
 * database went away) fails no write: the events are durable in `audit_pending`, and the next write, the periodic
 * `audit-seal` job or the next start seals them.
 *
 * Order: events of one subject keep the order of their changes. Two changes to one subject are serialised by the row
 * locks they take before they read it and record (a tenant's row, its quota rows, an allocation's row, a host's
 * inventories), so the second inserts its pending event (and draws its id) only after the first has committed. A seal
 * moves only committed events, taking all it can see at once: so the first is sealed no later than the second, and
 * within one seal ahead of it by id. (A change that read its subject without such a lock could record a `before` that
 * a concurrent change had already replaced, in any design: verify's continuity check names it.) Across subjects, seq
 * follows the seals' order, which no reader depends on.
 */
@Injectable()
export class AuditLog implements OnApplicationShutdown {
  private readonly sealers = new Map<DataSource, PendingEventSealer>();
  /** Transactions that already wait for a seal after their commit. */
  private readonly sealing = new WeakSet<EntityManager>();

  constructor(
    private readonly clock: Clock,
    private readonly keyring: AuditKeyring,
  ) {}

  async record(tx: EntityManager, ...entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const events = this.unchained(entries);
    if (dialectOf(tx) !== 'postgres') {
      await this.append(tx, await this.head(tx), events);
      return;
    }
    const pending = this.pendingInsert(events);
    await rawQuery(tx, pending.sql, pending.parameters);
    await this.afterPending(tx);
  }

  /**
   * PostgreSQL: the insert of these events into `audit_pending`, for the caller to run in `tx` as one part of its own
   * data-modifying statement (one round trip for the change and its events), and their seal arranged after `tx`
   * commits, exactly as `record` does. The caller must run the write in `tx` (or fail the transaction). Null on
   * SQLite, where events are chained in the transaction: the caller then calls `record`.
   */
  pendingWrite(tx: EntityManager, ...entries: AuditEntry[]): SqlWrite | null {
    if (entries.length === 0 || dialectOf(tx) !== 'postgres') return null;
    // Only a unit of work's transaction can be followed to its commit; any other records its events itself.
    if (!this.sealing.has(tx) && !this.arrangeSeal(tx)) return null;
    return this.pendingInsert(this.unchained(entries));
  }

  private unchained(entries: AuditEntry[]): UnchainedEvent[] {
    const at = this.clock.now();
    return entries.map((entry): UnchainedEvent => ({
      at,
      actor: entry.actor,
      action: entry.action,
      subjectType: entry.subjectType,
      subject: entry.subject.slice(0, 200),
      before: entry.before === undefined || entry.before === null ? null : JSON.stringify(entry.before),
      after: entry.after === undefined || entry.after === null ? null : JSON.stringify(entry.after),
    }));
  }

  /** After pending events were inserted in `tx`: their seal once it commits (see the class's comment). */
  private async afterPending(tx: EntityManager): Promise<void> {
    if (this.sealing.has(tx) || this.arrangeSeal(tx)) return;
    // A transaction no unit of work follows (none in control today): its events are chained in it, after every
    // committed pending event, so that per-subject order holds there too.
    await this.sealPendingIn((sql, parameters) => tx.query(sql, parameters), inTurn(tx));
  }

  /** Has the writes of `tx` wait for a seal after it commits; false when no unit of work follows `tx`. */
  private arrangeSeal(tx: EntityManager): boolean {
    const sealer = this.sealerFor(tx.connection);
    if (!UnitOfWork.afterCommit(tx, () => sealer.seal(SEAL_WAIT_MS))) return false;
    this.sealing.add(tx);
    return true;
  }

  /**
   * Seals the pending events committed so far (PostgreSQL; nothing to do on SQLite): at start (events a stopped
   * replica left) and from the periodic job. Answers how many it sealed; rejects if sealing failed.
   */
  async sealPending(dataSource: DataSource): Promise<number> {
    if (dialectOf(dataSource) !== 'postgres') return 0;
    return this.sealerFor(dataSource).sealIfPending();
  }

  /**
   * Seals a chain written before it was keyed: appends a keyed checkpoint naming its last event and that event's hash,
   * so that from it on nothing can be rewritten without the key. Only the migration that keys the chain calls this
   * (an unkeyed chain found later was written without the key; sealing it would certify it). Returns the last unkeyed
   * seq, or null if there was nothing to seal.
   */
  async sealUnkeyed(tx: EntityManager): Promise<number | null> {
    const head = await this.head(tx);
    if (!head || head.keyId !== null) return null;
    const unkeyedThroughSeq = Number(head.seq);
    const checkpoint: CheckpointRecord & { keyId: string } = { unkeyedThroughSeq, unkeyedHeadHash: head.hash, keyId: this.keyring.current.id };
    const event: UnchainedEvent = {
      at: this.clock.now(),
      actor: 'system:audit-key',
      action: CHECKPOINT_ACTION,
      subjectType: 'audit',
      subject: 'audit-log',
      before: null,
      after: JSON.stringify(checkpoint),
    };
    await this.append(tx, head, [event]);
    new Logger(AuditLog.name).warn(`audit log: events up to ${unkeyedThroughSeq} were written before the chain was keyed; sealed them with a keyed checkpoint`);
    return unkeyedThroughSeq;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.sealers.values()].map((sealer) => sealer.close()));
    this.sealers.clear();
  }

  /** The chain's head, under CHAIN_LOCK on PostgreSQL (held until the transaction ends). */
  private async head(tx: EntityManager): Promise<ChainHead | undefined> {
    if (dialectOf(tx) === 'postgres') await tx.query('SELECT pg_advisory_xact_lock($1)', [CHAIN_LOCK]);
    const [head] = await rawQuery<ChainHead>(tx, 'SELECT seq, hash, key_id AS "keyId" FROM audit_events ORDER BY seq DESC LIMIT 1');
    return head;
  }

  /** Gives events their seq, prevHash and keyed hash, following `head`. */
  private chain(head: ChainHead | undefined, events: UnchainedEvent[]): ChainedEvent[] {
    const { id: keyId, secret } = this.keyring.current;
    let seq = head ? Number(head.seq) : 0;
    let prevHash = head?.hash ?? GENESIS_HASH;
    return events.map((event) => {
      const fields = { ...event, seq: ++seq, prevHash, keyId };
      const chained = { ...fields, hash: hashEvent(fields, secret) };
      prevHash = chained.hash;
      return chained;
    });
  }

  /** Chains events after `head` in the transaction that holds the head. */
  private async append(tx: EntityManager, head: ChainHead | undefined, events: UnchainedEvent[]): Promise<void> {
    for (const event of this.chain(head, events)) {
      await rawQuery(tx, `INSERT INTO audit_events (${CHAIN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
        event.seq,
        event.at.getTime(),
        event.actor,
        event.action,
        event.subjectType,
        event.subject,
        event.before,
        event.after,
        event.prevHash,
        event.hash,
        event.keyId,
      ]);
    }
  }

  /** The insert of events into `audit_pending` (portable placeholders). */
  private pendingInsert(events: UnchainedEvent[]): SqlWrite {
    return {
      sql: `INSERT INTO audit_pending (at, actor, action, subject_type, subject, "before", "after") VALUES ${events.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      parameters: events.flatMap((event) => [event.at.getTime(), event.actor, event.action, event.subjectType, event.subject, event.before, event.after]),
    };
  }

  /** One multi-row INSERT of chained events (PostgreSQL). */
  private async insertChained(events: ChainedEvent[], query: SqlQuery): Promise<void> {
    const column = <T>(pick: (event: ChainedEvent) => T) => events.map(pick);
    await query(
      `INSERT INTO audit_events (${CHAIN_COLUMNS}) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::varchar[], $4::varchar[], $5::varchar[], ` +
        '$6::varchar[], $7::text[], $8::text[], $9::varchar[], $10::varchar[], $11::varchar[])',
      [
        column((event) => event.seq),
        column((event) => event.at.getTime()),
        column((event) => event.actor),
        column((event) => event.action),
        column((event) => event.subjectType),
        column((event) => event.subject),
        column((event) => event.before),
        column((event) => event.after),
        column((event) => event.prevHash),
        column((event) => event.hash),
        column((event) => event.keyId),
      ],
    );
  }

  /**
   * Inside a transaction (`query` and `batch` run in it): takes CHAIN_LOCK, then moves every committed pending event
   * into the chain in id order. Answers how many it moved. Each statement after the lock sees what committed before it
   * (READ COMMITTED), so no pending event committed before the lock was taken is left behind. The lock, the head and
   * the first batch of pending events are one round trip (`batch`), the chained events' insert another.
   */
  private async sealPendingIn(query: SqlQuery, batch: SqlBatch): Promise<number> {
    const take =
      `DELETE FROM audit_pending WHERE id IN (SELECT id FROM audit_pending ORDER BY id LIMIT ${SEAL_BATCH}) ` +
      'RETURNING id, at, actor, action, subject_type AS "subjectType", subject, "before", "after"';
    type PendingRow = Omit<UnchainedEvent, 'at'> & { id: string; at: string };
    const [, heads, taken] = await batch([`SELECT pg_advisory_xact_lock(${CHAIN_LOCK})`, 'SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1', take]);
    let head = heads[0] as ChainHead | undefined;
    let rows = taken as PendingRow[];
    let sealed = 0;
    while (rows.length > 0) {
      rows.sort((a, b) => Number(a.id) - Number(b.id));
      const events = this.chain(
        head,
        rows.map(({ id: _id, at, ...event }) => ({ ...event, at: new Date(Number(at)) })),
      );
      await this.insertChained(events, query);
      head = events[events.length - 1];
      sealed += events.length;
      if (rows.length < SEAL_BATCH) break;
      rows = (await batch([take]))[0] as PendingRow[];
    }
    return sealed;
  }

  private sealerFor(dataSource: DataSource): PendingEventSealer {
    let sealer = this.sealers.get(dataSource);
    if (!sealer) {
      const options = dataSource.options as { url?: string };
      const connect = () =>
        new Client({
          connectionString: options.url,
          // Named so that pg_stat_activity shows which replica's sealer a connection is.
          application_name: `dcm-audit ${hostname()}/${process.pid}`.slice(0, 63),
          keepAlive: true,
          connectionTimeoutMillis: 5_000,
          // A seal that hangs (a half-open connection) fails, and its events wait for the next one.
          query_timeout: 30_000,
        });
      sealer = new PendingEventSealer(connect, (query, batch) => this.sealPendingIn(query, batch), new Logger(AuditLog.name));
      this.sealers.set(dataSource, sealer);
    }
    return sealer;
  }
}

/** Statements without parameters, one after the other in `tx` (TypeORM cannot answer several in one round trip). */
function inTurn(tx: EntityManager): SqlBatch {
  return async (statements) => {
    const rows: unknown[][] = [];
    for (const statement of statements) {
      const answer: unknown[] = await tx.query(statement);
      // TypeORM answers a DELETE on PostgreSQL as [rows, affected count].
      rows.push(/^DELETE/.test(statement) ? (answer[0] as unknown[]) : answer);
    }
    return rows;
  };
}
