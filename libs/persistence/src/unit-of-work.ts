import { DataSource, EntityManager } from 'typeorm';
import { dialectOf } from './dialect';

const RETRYABLE_POSTGRES_CODES = new Set(['40001', '40P01']); // serialization failure, deadlock detected
const MAX_ATTEMPTS = 5;

/**
 * Runs a piece of work in one database transaction.
 *
 * SQLite: TypeORM's better-sqlite3 driver shares one connection (and one query runner) across the process, so two
 * concurrent transactions would silently nest as savepoints. Write transactions are therefore queued here and run
 * one at a time; that is what makes check-then-write sequences atomic, and it costs little because SQLite admits a
 * single writer anyway.
 *
 * PostgreSQL: each transaction has its own pooled connection; atomicity comes from the row locks the work takes
 * (see AllocationsRepository). Deadlocks and serialization failures are retried.
 */
export class UnitOfWork {
  private readonly dialect;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly dataSource: DataSource) {
    this.dialect = dialectOf(dataSource);
  }

  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (this.dialect === 'sqlite') {
      const result = this.queue.then(() => this.dataSource.transaction(work));
      this.queue = result.catch(() => undefined);
      return result;
    }
    return this.withRetry(work);
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
