import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { forgetEndedTransaction, sqliteConnectionOf } from './typeorm-internals';

/** The contract dcm relies on with TypeORM's internals: an upgrade that breaks one of them fails here, not in production. */
describe('TypeORM internals', () => {
  let directory: string;
  let dataSource: DataSource;
  let statements: string[];

  beforeEach(async () => {
    directory = mkdtempSync(join(tmpdir(), 'dcm-typeorm-'));
    statements = [];
    const ignore = () => undefined;
    dataSource = await new DataSource({
      type: 'better-sqlite3',
      database: join(directory, 'test.sqlite'),
      logging: ['query'],
      logger: {
        logQuery: (query) => void statements.push(query),
        logQueryError: ignore,
        logQuerySlow: ignore,
        logSchemaBuild: ignore,
        logMigration: ignore,
        log: ignore,
      },
    }).initialize();
    await dataSource.query('CREATE TABLE entries (id INTEGER PRIMARY KEY)');
  });

  afterEach(async () => {
    await dataSource.destroy();
    rmSync(directory, { recursive: true, force: true });
  });

  it("gives the better-sqlite3 connection TypeORM itself runs on, inside TypeORM's transactions", async () => {
    const connection = sqliteConnectionOf(dataSource);
    expect(typeof connection.prepare).toBe('function');
    expect(connection.inTransaction).toBe(false);
    const runner = dataSource.createQueryRunner();
    await runner.startTransaction();
    try {
      expect(connection.inTransaction).toBe(true);
      connection.prepare('INSERT INTO entries (id) VALUES (1)').run();
      await expect(runner.query('SELECT id FROM entries')).resolves.toEqual([{ id: 1 }]);
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
    await expect(dataSource.query('SELECT id FROM entries')).resolves.toEqual([]);
  });

  it('keeps the record of its transaction where forgetEndedTransaction corrects it, so that the next one begins afresh', async () => {
    const runner = dataSource.createQueryRunner();
    try {
      await runner.startTransaction();
      expect(runner).toMatchObject({ isTransactionActive: true, transactionDepth: 1 });
      sqliteConnectionOf(dataSource).exec('ROLLBACK'); // as SQLite does by itself after a disk-full or I/O error
      forgetEndedTransaction(runner);
      expect(runner).toMatchObject({ isTransactionActive: false, transactionDepth: 0 });

      statements.length = 0;
      await runner.startTransaction();
      await runner.query('INSERT INTO entries (id) VALUES (2)');
      await runner.commitTransaction();
      // A fresh BEGIN, not a savepoint inside a transaction TypeORM still believed open.
      expect(statements.filter((statement) => /BEGIN|SAVEPOINT|COMMIT|RELEASE/i.test(statement))).toEqual(['BEGIN TRANSACTION', 'COMMIT']);
    } finally {
      await runner.release();
    }
    await expect(dataSource.query('SELECT id FROM entries')).resolves.toEqual([{ id: 2 }]);
  });
});
