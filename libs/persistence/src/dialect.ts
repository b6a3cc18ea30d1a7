import { DataSource, EntityManager, QueryRunner } from 'typeorm';

export type Dialect = 'sqlite' | 'postgres';

export function dialectOf(source: DataSource | EntityManager | QueryRunner): Dialect {
  const connection = source instanceof DataSource ? source : source.connection;
  return connection.options.type === 'postgres' ? 'postgres' : 'sqlite';
}

const cache = new Map<string, string>();

/** Raw SQL is written with `?` placeholders; PostgreSQL wants `$1, $2, …`. */
export function placeholders(sql: string, dialect: Dialect): string {
  if (dialect === 'sqlite') return sql;
  let converted = cache.get(sql);
  if (converted === undefined) {
    let index = 0;
    converted = sql.replace(/\?/g, () => `$${++index}`);
    cache.set(sql, converted);
  }
  return converted;
}

/** Runs raw SQL through TypeORM with portable placeholders. */
export function rawQuery<T = Record<string, unknown>>(source: EntityManager | QueryRunner, sql: string, parameters: unknown[] = []): Promise<T[]> {
  return source.query(placeholders(sql, dialectOf(source)), parameters);
}

/** A row lock for read-then-write inside a transaction: FOR UPDATE on PostgreSQL; SQLite's writer queue already serialises. */
export function writeLock(manager: EntityManager): { mode: 'pessimistic_write' } | undefined {
  return dialectOf(manager) === 'postgres' ? { mode: 'pessimistic_write' } : undefined;
}

/**
 * The row-lock clause for raw SELECTs: `FOR UPDATE [OF alias]` on PostgreSQL (with `of`, only that table's rows of a
 * join are locked), nothing on SQLite (its writer queue serialises).
 */
export function forUpdate(manager: EntityManager, of?: string): string {
  if (dialectOf(manager) !== 'postgres') return '';
  return of ? ` FOR UPDATE OF ${of}` : ' FOR UPDATE';
}
