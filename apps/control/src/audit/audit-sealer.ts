import type { LoggerService } from '@nestjs/common';
import type { Client } from 'pg';

/** Runs one statement (PostgreSQL placeholders) and answers its rows. */
export type SqlQuery = (sql: string, parameters?: unknown[]) => Promise<unknown[]>;

/** Runs statements without parameters in one round trip (PostgreSQL's simple query protocol); answers each one's rows. */
export type SqlBatch = (statements: string[]) => Promise<unknown[][]>;

/** At most one warning this often while seals keep failing (the database is away: every write would log one). */
const WARN_EVERY_MS = 5_000;
/** How long ending a connection may take before it is left to the garbage collector. */
const END_WAIT_MS = 1_000;

/**
 * Seals pending audit events into the chain (PostgreSQL), one seal at a time per replica, on a connection of its own:
 * a seal must not queue for the pool behind the very requests that wait for it.
 *
 * Seals coalesce: `seal()` answers when a seal that began after the call has ended. While one runs, every caller
 * joins the next, which starts when it ends and takes everything committed by then (group sealing), so that under
 * load one short transaction seals the events of many writers. A failed seal is logged, not thrown: the events stay
 * pending (durable) for the next seal.
 */
export class PendingEventSealer {
  private client: Client | null = null;
  /** The seal under way, and the one that follows it (which callers arriving meanwhile share). */
  private current: Promise<number> | null = null;
  private next: Promise<number> | null = null;
  private failingSince: number | null = null;
  private lastWarning = 0;
  private closed = false;

  constructor(
    private readonly connect: () => Client,
    /** Moves the committed pending events into the chain, inside the transaction `query` runs in; answers how many. */
    private readonly sealIn: (query: SqlQuery, batch: SqlBatch) => Promise<number>,
    private readonly logger: LoggerService,
  ) {}

  /**
   * Resolves (never rejects) once a seal begun after this call has ended, successfully or not, or after `waitMs`: a
   * seal stuck behind another replica's (a half-open connection holding the chain's lock) holds no write up for long.
   */
  async seal(waitMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)));
    await Promise.race([this.nextSeal().catch(() => undefined), waited]);
    clearTimeout(timer);
  }

  /** Seals if any event is pending (the periodic job and start-up); rejects when sealing fails. */
  async sealIfPending(): Promise<number> {
    const [pending] = (await this.query('SELECT EXISTS (SELECT 1 FROM audit_pending) AS "any"')) as { any: boolean }[];
    return pending?.any ? this.nextSeal() : 0;
  }

  /** Waits for the seal under way, then closes the connection. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([this.current, this.next]);
    await this.endClient();
  }

  private nextSeal(): Promise<number> {
    if (this.next) return this.next;
    if (!this.current) return this.begin();
    const after = this.current.catch(() => 0);
    this.next = after.then(() => {
      this.next = null;
      return this.begin();
    });
    return this.next;
  }

  private begin(): Promise<number> {
    const seal = this.sealOnce().finally(() => {
      if (this.current === seal) this.current = null;
    });
    this.current = seal;
    return seal;
  }

  private async sealOnce(): Promise<number> {
    if (this.closed) throw new Error('the audit sealer is closed');
    try {
      // BEGIN goes with the seal's first statements: a seal is then three round trips (lock, head and pending events;
      // the chained events' insert; commit), and every write waits for one or two seals.
      let begun = false;
      const batch: SqlBatch = async (statements) => {
        const rows = await this.batch(begun ? statements : ['BEGIN', ...statements]);
        const opened = !begun;
        begun = true;
        return opened ? rows.slice(1) : rows;
      };
      const sealed = await this.sealIn((sql, parameters) => this.query(sql, parameters), batch);
      await this.query('COMMIT');
      if (this.failingSince !== null) {
        this.logger.log(`audit log: sealing works again; ${sealed} pending event(s) sealed`);
        this.failingSince = null;
      }
      return sealed;
    } catch (error) {
      // A broken or half-open connection is dropped (with its transaction): the next seal opens a new one.
      this.dropClient();
      const now = Date.now();
      this.failingSince ??= now;
      if (now - this.lastWarning >= WARN_EVERY_MS) {
        this.lastWarning = now;
        this.logger.warn(
          `audit log: sealing pending events failed (${(error as Error).message}); they stay in audit_pending, committed, and the next write or the audit-seal job seals them`,
        );
      }
      throw error;
    }
  }

  private async query(sql: string, parameters?: unknown[]): Promise<unknown[]> {
    return (await (await this.connection()).query(sql, parameters)).rows;
  }

  private async batch(statements: string[]): Promise<unknown[][]> {
    const results = (await (await this.connection()).query(statements.join('; '))) as unknown as { rows: unknown[] } | { rows: unknown[] }[];
    return Array.isArray(results) ? results.map((result) => result.rows) : [results.rows];
  }

  private async connection(): Promise<Client> {
    if (!this.client) {
      const client = this.connect();
      // An error between queries (the server went away) only drops the connection; the next seal reconnects.
      client.on('error', () => {
        if (this.client === client) this.dropClient();
      });
      this.client = client;
      try {
        await client.connect();
      } catch (error) {
        this.dropClient();
        throw error;
      }
    }
    if (!this.client) throw new Error('the audit sealer lost its connection');
    return this.client;
  }

  /**
   * Forgets the connection and ends it without waiting: a failed seal answers its writers at once (they committed), and
   * node-postgres's end() may never settle on a connection whose socket the server already closed.
   */
  private dropClient(): void {
    const client = this.client;
    this.client = null;
    void client?.end().catch(() => undefined);
  }

  /** Ends the connection at shutdown, waiting at most END_WAIT_MS. */
  private async endClient(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (!client) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([client.end().catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, END_WAIT_MS)))]);
    clearTimeout(timer);
  }
}
