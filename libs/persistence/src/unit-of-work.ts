import { AsyncLocalStorage } from 'node:async_hooks';
import { DataSource, EntityManager } from 'typeorm';
import { Dialect, dialectOf, rawQuery } from './dialect';
import { forgetEndedTransaction, sqliteConnectionOf } from './typeorm-internals';

const RETRYABLE_POSTGRES_CODES = new Set(['40001', '40P01']); // serialization failure, deadlock detected
const MAX_ATTEMPTS = 5;

/**
 * A group smaller than this waits GATHER_MS for more work before it starts: under a steady trickle of requests (agents
 * reporting on their interval) a transaction per request or two would cost more than the requests themselves.
 */
const GATHER_BELOW = 16;
const GATHER_MS = 2;

/** How many queued pieces of work one SQLite transaction takes at most. */
const MAX_GROUP = 256;

interface QueuedWork {
  work: (manager: EntityManager) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** What undoes the work's in-memory effects, should its writes be rolled back (see onRollback). */
  undo: (() => void)[];
  /** What runs once the work's writes have committed, before it is answered (see afterCommit). */
  afterCommit: AfterCommitTask[];
}

/** Work to do once a transaction has committed; its failure is not the transaction's (which committed): it must not throw. */
export type AfterCommitTask = () => Promise<void>;

/** The unit of work whose transaction an entity manager belongs to, while that transaction runs. */
const owners = new WeakMap<EntityManager, UnitOfWork>();

/**
 * A check that every PostgreSQL transaction started inside `UnitOfWork.guarded` runs first, in that transaction: a
 * scheduler job run proves there that its replica still leads, so that a run which lost leadership commits nothing.
 */
export type TransactionGuard = (manager: EntityManager) => Promise<void>;

const guards = new AsyncLocalStorage<TransactionGuard>();

/** The piece of work running in this async context, if any: a run inside it would wait for itself (see run). */
const runningWork = new AsyncLocalStorage<{ settled: boolean }>();
/**
 * Whether runs check for nesting. On Node 24 and later AsyncLocalStorage costs next to nothing (it rides on the async
 * context frame); on Node 20 it hooks every promise while enabled, and with SQLite's queue busy under load it is enabled
 * nearly always: it cost ingest 12 % of its reports/s (`npm run bench -- ingest-versus`: 0.857× the code before
 * the trust checks with it, 0.973× without). There it checks under test (Jest sets
 * NODE_ENV=test, for the app it starts and the processes those start), where a nested run is written and caught.
 */
const CHECK_NESTING = Number(process.versions.node.split('.')[0]) >= 24 || process.env.NODE_ENV === 'test';
/** Pieces of work under way: as with guards, the storage is enabled only while there are some. */
let runningPieces = 0;

/** Thrown by a UnitOfWork.run called from inside the work of another run. */
export class NestedUnitOfWorkError extends Error {
  constructor() {
    super(
      'UnitOfWork.run was called inside the work of another run: on SQLite it would wait for itself for ever. Pass the ' +
        "outer run's EntityManager down instead, or run the second piece of work after the first.",
    );
  }
}
/** Guarded calls under way: the storage is enabled only while there are some (on Node 20 it costs every promise). */
let guardedCalls = 0;

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
  /** The database the work runs on. */
  readonly dialect: Dialect;
  private readonly queued: QueuedWork[] = [];
  private scheduled = false;
  private running = false;
  /** SQLite: the piece of work running now (pieces run one at a time). */
  private current: QueuedWork | null = null;
  /** PostgreSQL: the undo and after-commit lists of the transactions in flight, by their entity manager. */
  private readonly byManager = new WeakMap<EntityManager, Pick<QueuedWork, 'undo' | 'afterCommit'>>();

  constructor(private readonly dataSource: DataSource) {
    this.dialect = dialectOf(dataSource);
  }

  /**
   * Runs `work` in a transaction of its own. Not from inside another run's work: SQLite would queue the inner run behind
   * the outer one, which waits for it, for ever; such a call is refused at once (NestedUnitOfWorkError), on PostgreSQL
   * too, where it would silently be a second transaction. Work the outer piece merely started and left running (not
   * awaited) may call run once that piece has finished.
   */
  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const outer = runningWork.getStore();
    if (outer && !outer.settled) return Promise.reject(new NestedUnitOfWorkError());
    if (this.dialect !== 'sqlite') return this.withRetry(work);
    return new Promise<T>((resolve, reject) => {
      this.queued.push({ work, resolve: resolve as (value: unknown) => void, reject, undo: [], afterCommit: [] });
      this.schedule();
    });
  }

  /**
   * Runs `work` so that every PostgreSQL transaction it starts through any UnitOfWork first passes `guard` (inside the
   * transaction, so that the check and the writes commit together). SQLite has one process and needs no guard.
   */
  static async guarded<T>(guard: TransactionGuard, work: () => Promise<T>): Promise<T> {
    guardedCalls++;
    try {
      return await guards.run(guard, work);
    } finally {
      if (--guardedCalls === 0) guards.disable();
    }
  }

  /**
   * Registers what undoes an in-memory effect of the running work (a cache kept in step with its writes, say) if
   * those writes are rolled back: by the work's own failure, or on SQLite by the failure of the group it committed
   * with. Lets caches follow writes at once rather than after the commit, so that the next piece of work sees them.
   */
  onRollback(manager: EntityManager, undo: () => void): void {
    const list = this.dialect === 'sqlite' ? this.current?.undo : this.byManager.get(manager)?.undo;
    if (!list) throw new Error('onRollback must be called from inside UnitOfWork.run');
    list.push(undo);
  }

  /**
   * Registers `task` to run once the transaction of `manager` has committed (never if it rolls back), before `run`
   * answers: `run` resolves when the task has ended. Answers false when `manager` is not a transaction of a unit of
   * work (the caller must then do the task's work inside the transaction). A static method, so that code which cannot
   * depend on the unit of work (the audit chain's writer, which migrations use) can still follow its transactions.
   */
  static afterCommit(manager: EntityManager, task: AfterCommitTask): boolean {
    const owner = owners.get(manager);
    const list = owner?.dialect === 'sqlite' ? owner.current?.afterCommit : owner?.byManager.get(manager)?.afterCommit;
    if (!list) return false;
    list.push(task);
    return true;
  }

  /** Starts the next group after the event loop's I/O, so that the requests read in this turn join it. */
  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    const start = () => {
      this.scheduled = false;
      void this.runGroup();
    };
    if (this.queued.length >= GATHER_BELOW) setImmediate(start);
    else setTimeout(start, GATHER_MS);
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
    for (let index = group.length - 1; index >= 0; index--) if (!outcomes[index].ok) undoAll(group[index].undo);
    this.running = false;
    if (this.queued.length > 0) this.schedule();
    group.forEach((queued, index) => {
      const outcome = outcomes[index];
      if (!outcome.ok) queued.reject(outcome.error);
      else if (queued.afterCommit.length === 0) queued.resolve(outcome.value);
      else void runAfterCommit(queued.afterCommit).then(() => queued.resolve(outcome.value));
    });
  }

  private async transact(group: QueuedWork[]): Promise<Outcome[]> {
    const runner = this.dataSource.createQueryRunner();
    const outcomes: Outcome[] = [];
    owners.set(runner.manager, this);
    await runner.startTransaction();
    try {
      if (group.length === 1) {
        // Alone in its transaction, a piece needs no savepoint: its failure rolls back the transaction.
        this.current = group[0];
        outcomes.push({ ok: true, value: await runAsWork(group[0].work, runner.manager) });
      } else {
        for (const piece of group) {
          this.current = piece;
          // Savepoints in plain SQL (TypeORM's nested transactions cost as much again as the work they wrap). The
          // pieces never nest, and TypeORM still sees the group's transaction as the active one.
          await rawQuery(runner.manager, 'SAVEPOINT unit_of_work');
          try {
            const value = await runAsWork(piece.work, runner.manager);
            await rawQuery(runner.manager, 'RELEASE unit_of_work');
            outcomes.push({ ok: true, value });
          } catch (error) {
            // After some errors (disk full, I/O) SQLite has already rolled back the whole transaction: the group then
            // fails, with this cause.
            if (!this.sqliteInTransaction()) throw error;
            // Back to the savepoint: this piece alone is undone.
            await rawQuery(runner.manager, 'ROLLBACK TO unit_of_work');
            await rawQuery(runner.manager, 'RELEASE unit_of_work');
            undoAll(piece.undo.splice(0));
            piece.afterCommit.length = 0;
            outcomes.push({ ok: false, error });
          }
        }
      }
      await runner.commitTransaction();
      return outcomes;
    } catch (error) {
      if (this.sqliteInTransaction()) {
        // Rolls the whole group back (bounded, in case a rollback itself fails).
        for (let attempt = 0; runner.isTransactionActive && attempt <= MAX_GROUP; attempt++) await runner.rollbackTransaction().catch(() => undefined);
      } else {
        // SQLite ended the transaction itself: only TypeORM's view of the shared query runner is left to correct.
        forgetEndedTransaction(runner);
      }
      if (group.length === 1) return [{ ok: false, error }];
      throw error;
    } finally {
      this.current = null;
      owners.delete(runner.manager);
      await runner.release();
    }
  }

  /** Whether SQLite itself still has the group's transaction open (it ends it on its own after some errors). */
  private sqliteInTransaction(): boolean {
    return sqliteConnectionOf(this.dataSource).inTransaction;
  }

  private async withRetry<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const undo: (() => void)[] = [];
      const afterCommit: AfterCommitTask[] = [];
      try {
        const guard = guardedCalls > 0 ? guards.getStore() : undefined;
        // READ COMMITTED, the connections' default (see dataSourceOptions): naming it here would cost a round trip.
        const value = await this.dataSource.transaction(async (manager) => {
          this.byManager.set(manager, { undo, afterCommit });
          owners.set(manager, this);
          if (guard) await guard(manager);
          return runAsWork(work, manager);
        });
        // Outside any guard: what follows the commit is no part of a leader-only job run's effects.
        if (afterCommit.length > 0) await guards.exit(() => runAfterCommit(afterCommit));
        return value;
      } catch (error) {
        undoAll(undo);
        const code = (error as { driverError?: { code?: string }; code?: string }).driverError?.code ?? (error as { code?: string }).code;
        if (attempt >= MAX_ATTEMPTS || !code || !RETRYABLE_POSTGRES_CODES.has(code)) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
      }
    }
  }
}

/** Runs a piece of work marked as running in its async context, so that a run nested inside it is refused (see run). */
async function runAsWork<T>(work: (manager: EntityManager) => Promise<T>, manager: EntityManager): Promise<T> {
  if (!CHECK_NESTING) return work(manager);
  const marker = { settled: false };
  runningPieces++;
  try {
    return await runningWork.run(marker, () => work(manager));
  } finally {
    marker.settled = true;
    if (--runningPieces === 0) runningWork.disable();
  }
}

/** Runs after-commit tasks together; a failing one (which should not throw) does not fail the committed work. */
async function runAfterCommit(tasks: AfterCommitTask[]): Promise<void> {
  await Promise.all(tasks.map((task) => task().catch(() => undefined)));
}

/** Runs undo actions newest first. */
function undoAll(undo: (() => void)[]): void {
  for (let index = undo.length - 1; index >= 0; index--) undo[index]();
}
