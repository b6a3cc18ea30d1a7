import type { Database } from 'better-sqlite3';
import type { DataSource, QueryRunner } from 'typeorm';

/**
 * Every use dcm makes of TypeORM's internals, behind one small surface: the better-sqlite3 connection that TypeORM's
 * driver holds (raw statements run on it, see rawQuery; the unit of work asks it whether SQLite still has a transaction
 * open), and the query runner's own record of its transaction, to correct after SQLite ended one by itself.
 * typeorm-internals.spec.ts holds each of them to the TypeORM that is installed: an upgrade that moves one fails there.
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
