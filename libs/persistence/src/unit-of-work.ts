import { DataSource, EntityManager } from 'typeorm';
import { dialectOf } from './dialect';

const RETRYABLE_POSTGRES_CODES = new Set(['40001', '40P01']); // serialization failure, deadlock detected
const MAX_ATTEMPTS = 5;

/** How many queued pieces of work one SQLite transaction takes at most. */
const MAX_GROUP = 256;

interface QueuedWork {
  work: (manager: EntityManager) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Runs a piece of work in one database transaction.
 *
 * SQLite: TypeORM's better-sqlite3 driver shares one connection (and one query runner) across the process, so two
 * concurrent transactions would silently nest as savepoints. Work is therefore queued here and run one piece at a
 * time; that is what makes check-then-write sequences atomic, and it costs little because SQLite admits a single
 * writer anyway. The queue is committed in groups: what arrived during one turn of the event loop runs in one
 * transaction, each piece inside its own savepoint, so that a piece that fails is rolled back alone and the others
 * share one commit. Every piece runs after the ones before it exactly as it would have in a transaction of its own,
 * and none is answered before the commit that makes it durable, so an answer (success or refusal) is never given for
 * work that is then lost.
 *
 * PostgreSQL: each transaction has its own pooled connection; atomicity comes from the row locks the work takes
 * (see AllocationsRepository). Deadlocks and serialization failures are retried.
 */
export class UnitOfWork {
  private readonly dialect;
  private readonly queued: QueuedWork[] = [];
  private scheduled = false;
  private running = false;

  constructor(private readonly dataSource: DataSource) {
    this.dialect = dialectOf(dataSource);
  }

  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (this.dialect !== 'sqlite') return this.withRetry(work);
    return new Promise<T>((resolve, reject) => {
      this.queued.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Starts the next group after the event loop's I/O, so that the requests read in this turn join it. */
  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.runGroup();
    });
  }

  private async runGroup(): Promise<void> {
    this.running = true;
    const group = this.queued.splice(0, MAX_GROUP);
    let outcomes: Outcome[];
    try {
      outcomes = await this.transact(group);
    } catch (error) {
      // The group's transaction failed as a whole (its commit, say): nothing of it was kept.
      outcomes = group.map(() => ({ ok: false, error }));
    }
    this.running = false;
    if (this.queued.length > 0) this.schedule();
    group.forEach((queued, index) => {
      const outcome = outcomes[index];
      if (outcome.ok) queued.resolve(outcome.value);
      else queued.reject(outcome.error);
    });
  }

  private async transact(group: QueuedWork[]): Promise<Outcome[]> {
    const runner = this.dataSource.createQueryRunner();
    const outcomes: Outcome[] = [];
    await runner.startTransaction();
    try {
      if (group.length === 1) {
        // Alone in its transaction, a piece needs no savepoint: its failure rolls back the transaction.
        outcomes.push({ ok: true, value: await group[0].work(runner.manager) });
      } else {
        for (const { work } of group) {
          await runner.startTransaction(); // a savepoint
          try {
            const value = await work(runner.manager);
            await runner.commitTransaction(); // releases the savepoint
            outcomes.push({ ok: true, value });
          } catch (error) {
            await runner.rollbackTransaction(); // back to the savepoint: this piece alone is undone
            outcomes.push({ ok: false, error });
          }
        }
      }
      await runner.commitTransaction();
      return outcomes;
    } catch (error) {
      // Unwinds whatever savepoints are open, then the transaction (bounded, in case a rollback itself fails).
      for (let attempt = 0; runner.isTransactionActive && attempt <= MAX_GROUP; attempt++) await runner.rollbackTransaction().catch(() => undefined);
      if (group.length === 1) return [{ ok: false, error }];
      throw error;
    } finally {
      await runner.release();
    }
  }
  private async withRetry<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.dataSource.transaction('READ COMMITTED', work);
      } catch (error) {
        const code = (error as { driverError?: { code?: string }; code?: string }).driverError?.code ?? (error as { code?: string }).code;
        if (attempt >= MAX_ATTEMPTS || !code || !RETRYABLE_POSTGRES_CODES.has(code)) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
      }
    }
  }
}
