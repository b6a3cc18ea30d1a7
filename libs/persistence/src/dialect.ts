import type { Database, Statement } from 'better-sqlite3';
import { DataSource, EntityManager, QueryFailedError, QueryRunner } from 'typeorm';
import { sqliteConnectionOf } from './typeorm-internals';

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

/**
 * Runs raw SQL with portable placeholders, in the transaction of `source` when it has one; resolves to the rows read
 * (nothing for writes).
 *
 * On SQLite the statement runs straight on the one better-sqlite3 connection that TypeORM also uses, so it takes part
 * in TypeORM's transactions exactly as TypeORM's own queries do. Skipping TypeORM's per-query machinery (logger,
 * subscriber broadcasts, promise chain) halves the cost of the short statements that admission and ingest are made
 * of; failures are still TypeORM's QueryFailedError, carrying the driver's error.
 */
export function rawQuery<T = Record<string, unknown>>(source: EntityManager | QueryRunner, sql: string, parameters: unknown[] = []): Promise<T[]> {
  const connection = source instanceof DataSource ? source : source.connection;
  if (connection.options.type === 'better-sqlite3') {
    try {
      return Promise.resolve(runOnSqlite<T>(sqliteConnectionOf(connection), sql, parameters));
    } catch (error) {
      return Promise.reject(new QueryFailedError(sql, parameters, error as Error));
    }
  }
  const client = transactionClient(source);
  if (client) return runOnPostgres<T>(client, sql, parameters);
  return source.query(placeholders(sql, 'postgres'), parameters);
}

/** The subset of node-postgres's client that rawQuery uses. */
interface PostgresClient {
  query(config: { name?: string; text: string; values: unknown[] }): Promise<{ command: string; rows: unknown[]; rowCount: number | null }>;
}

/** The pooled connection a PostgreSQL transaction runs on, when `source` is inside one (else null). */
function transactionClient(source: EntityManager | QueryRunner): PostgresClient | null {
  const runner = (source instanceof EntityManager ? source.queryRunner : source) as
    (QueryRunner & { databaseConnection?: PostgresClient; isReleased: boolean }) | undefined;
  return runner?.isTransactionActive && !runner.isReleased ? (runner.databaseConnection ?? null) : null;
}

/** Statements given a name (prepared once per connection); texts beyond this many run unnamed. */
const PREPARED_LIMIT = 1_000;
const preparedNames = new Map<string, string>();

/**
 * Inside a PostgreSQL transaction, straight on its pooled connection, as a named prepared statement: PostgreSQL then
 * parses and plans each of control's few hundred statements once per connection, not at every call, and TypeORM's
 * per-query machinery is skipped as on SQLite. Answers as TypeORM's query() does (rows; [rows, count] for UPDATE and
 * DELETE), failures as its QueryFailedError. Statements built with variable IN lists would grow the names without
 * bound: past PREPARED_LIMIT distinct texts, new ones run unnamed.
 */
async function runOnPostgres<T>(client: PostgresClient, sql: string, parameters: unknown[]): Promise<T[]> {
  const text = placeholders(sql, 'postgres');
  let name = preparedNames.get(text);
  if (name === undefined && preparedNames.size < PREPARED_LIMIT) preparedNames.set(text, (name = `dcm_${preparedNames.size + 1}`));
  try {
    const result = await client.query({ name, text, values: parameters });
    return (result.command === 'UPDATE' || result.command === 'DELETE' ? [result.rows, result.rowCount] : result.rows) as T[];
  } catch (error) {
    throw new QueryFailedError(text, parameters, error as Error);
  }
}

const STATEMENT_CACHE_SIZE = 500;
const statements = new WeakMap<Database, Map<string, Statement>>();

function runOnSqlite<T>(database: Database, sql: string, parameters: unknown[]): T[] {
  let cache = statements.get(database);
  if (!cache) statements.set(database, (cache = new Map()));
  let statement = cache.get(sql);
  if (!statement) {
    statement = database.prepare(sql);
    // Oldest first out: statements built with variable IN lists must not grow the cache without bound.
    if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(sql, statement);
  }
  // better-sqlite3 binds no booleans: 1 and 0, as TypeORM's driver does.
  const bound = parameters.map((value) => (typeof value === 'boolean' ? (value ? 1 : 0) : value));
  if (statement.reader) return statement.all(...bound) as T[];
  statement.run(...bound);
  return [];
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

/**
 * One write in raw SQL with portable placeholders, for a caller to run on its own or, on PostgreSQL, as one part of a
 * data-modifying statement (`WITH p1 AS (<sql>), p2 AS (…) SELECT …`) that makes several writes one round trip.
 */
export interface SqlWrite {
  sql: string;
  parameters: unknown[];
}

/** Whether a failed write broke a primary key or unique constraint, on either backend. */
export function isUniqueViolation(error: unknown): boolean {
  const code = error instanceof QueryFailedError ? (error.driverError as { code?: string }).code : (error as { code?: string } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/**
 * PostgreSQL error classes and socket errors that mean the database is away (stopped, restarting, refusing or dropping
 * connections), not that the statement was wrong: 08 connection exception, 57P01–57P03 shutdown or cannot connect now,
 * 53300 too many connections.
 */
const UNAVAILABLE_POSTGRES_CODES = new Set(['08000', '08001', '08003', '08004', '08006', '57P01', '57P02', '57P03', '53300']);
const UNAVAILABLE_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);
/** What node-postgres says (without a code) when a connection ends under a query or the pool waits in vain for one. */
const UNAVAILABLE_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error and is not queryable|Client was closed and is not queryable|Query read timeout|Connection terminated unexpectedly)/;

/** Whether an error means the database cannot be reached right now (worth a 503 and a retry), on either backend. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let cause = error, depth = 0; cause && typeof cause === 'object' && depth < 4; depth++) {
    const { code, message, name } = cause as { code?: unknown; message?: unknown; name?: unknown };
    // TypeORM's answers to a query on a transaction whose connection the pool already dropped as broken.
    if (name === 'QueryRunnerProviderAlreadyReleasedError' || name === 'QueryRunnerAlreadyReleasedError') return true;
    if (typeof code === 'string' && (UNAVAILABLE_POSTGRES_CODES.has(code) || UNAVAILABLE_SOCKET_CODES.has(code))) return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message)) return true;
    // TypeORM wraps the driver's error (driverError); Node's errors may carry a cause; AggregateError lists several.
    const next = (cause as { driverError?: unknown; cause?: unknown; errors?: unknown[] }).driverError ?? (cause as { cause?: unknown }).cause;
    const first = (cause as { errors?: unknown[] }).errors?.[0];
    cause = next ?? first;
  }
  return false;
}

/** A nullable numeric column of a raw row (drivers give bigint columns as strings or numbers) as a number or null. */
export function numberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}
