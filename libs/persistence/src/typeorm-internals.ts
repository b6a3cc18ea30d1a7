import type { Database } from 'better-sqlite3';
import type { DataSource, QueryRunner } from 'typeorm';
import { flushEdges, forgetTransaction, openTransaction, PostgresClient } from './postgres-transaction';

/**
 * Every use dcm makes of TypeORM's internals, behind one small surface: the better-sqlite3 connection that TypeORM's
 * driver holds (raw statements run on it, see rawQuery; the unit of work asks it whether SQLite still has a transaction
 * open), and the query runner's own record of its transaction, to correct after SQLite ended one by itself.
 * typeorm-internals.spec.ts holds each of them to the TypeORM that is installed: an upgrade that moves one fails there
 * (the PostgreSQL ones, a runner's pooled client and its record of a transaction, in
 * test/integration/postgres-unit-of-work.e2e-spec.ts, which needs a PostgreSQL server).
 */

/** The better-sqlite3 connection of a better-sqlite3 data source (TypeORM's driver keeps it as databaseConnection). */
export function sqliteConnectionOf(dataSource: Pick<DataSource, 'driver'>): Database {
  return (dataSource.driver as unknown as { databaseConnection: Database }).databaseConnection;
}

/**
 * Tells a query runner that its transaction is over when SQLite ended it on its own (after a disk-full or I/O error):
 * TypeORM would otherwise roll back or nest savepoints on a transaction that no longer exists.
 */
export function forgetEndedTransaction(runner: QueryRunner): void {
  Object.assign(runner, { isTransactionActive: false, transactionDepth: 0 });
}

/** The pooled node-postgres client a connected PostgreSQL query runner holds (TypeORM keeps it as databaseConnection). */
export function postgresClientOf(runner: QueryRunner): PostgresClient {
  return (runner as unknown as { databaseConnection: PostgresClient }).databaseConnection;
}

/**
 * Puts a connected PostgreSQL query runner in a transaction whose BEGIN rides on its first statement (see
 * openTransaction): TypeORM's record says a transaction is open (so that its manager runs in it, and a nested
 * transaction is a savepoint), and the runner's own statements (TypeORM's find, save…) first send what the
 * transaction holds back. endEdgedTransaction undoes both.
 */
export function beginEdgedTransaction(runner: QueryRunner): PostgresClient {
  const client = postgresClientOf(runner);
  openTransaction(client);
  Object.assign(runner, { isTransactionActive: true, transactionDepth: 1 });
  const query = runner.query.bind(runner);
  runner.query = (async (...args: Parameters<QueryRunner['query']>) => {
    await flushEdges(client);
    return query(...args);
  }) as QueryRunner['query'];
  return client;
}

/** Ends what beginEdgedTransaction set up, before the runner is released. */
export function endEdgedTransaction(runner: QueryRunner, client: PostgresClient): void {
  forgetTransaction(client);
  forgetEndedTransaction(runner);
  delete (runner as { query?: unknown }).query;
}
