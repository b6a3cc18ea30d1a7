import { DataSource, EntityManager } from 'typeorm';
import { isUniqueViolation, rawQuery, UnitOfWork, writeAtCommit } from '../../libs/persistence/src';
import { postgresClientOf } from '../../libs/persistence/src/typeorm-internals';
import { createTestDatabase, TestDatabase } from '../support/postgres';

/**
 * A unit of work's transaction on PostgreSQL sends BEGIN with its first statement and COMMIT with a write deferred to
 * it (writeAtCommit): each is one round trip less, with the same atomicity.
 */
describe(`${UnitOfWork.name} on PostgreSQL`, () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let sut: UnitOfWork;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await new DataSource({ type: 'postgres', url: database.url, extra: { max: 2 } }).initialize();
    await dataSource.query('CREATE TABLE items (id integer PRIMARY KEY, label text NOT NULL)');
    sut = new UnitOfWork(dataSource);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  beforeEach(() => dataSource.query('DELETE FROM items'));

  const labels = async () => ((await dataSource.query('SELECT label FROM items ORDER BY id')) as { label: string }[]).map((row) => row.label);

  /** Counts the round trips of the transaction `manager` runs in from now on (the server's ReadyForQuery answers). */
  function countRoundTrips(manager: EntityManager): { count: number; stop(): void } {
    const connection = (postgresClientOf(manager.queryRunner!) as unknown as { connection: NodeJS.EventEmitter }).connection;
    const counter = { count: 0, stop: () => connection.off('readyForQuery', count) };
    const count = () => counter.count++;
    connection.on('readyForQuery', count);
    return counter;
  }

  it('sends BEGIN with the first statement and COMMIT with the write deferred to it', async () => {
    let roundTrips: { count: number; stop(): void } | undefined;
    await sut.run(async (tx) => {
      roundTrips = countRoundTrips(tx);
      await rawQuery(tx, 'INSERT INTO items (id, label) VALUES (?, ?)', [1, 'first']);
      await rawQuery(tx, 'SELECT id FROM items WHERE id = ? FOR UPDATE', [1]);
      await writeAtCommit(tx, 'INSERT INTO items (id, label) VALUES (?, ?)', [2, 'last']);
    });
    roundTrips!.stop();
    // BEGIN + INSERT, SELECT, INSERT + COMMIT: three, where BEGIN and COMMIT of their own made five.
    expect(roundTrips!.count).toBe(3);
    expect(await labels()).toEqual(['first', 'last']);
  });

  it('rolls the whole transaction back when the deferred write fails, and rejects with its error', async () => {
    const run = sut.run(async (tx) => {
      await rawQuery(tx, 'INSERT INTO items (id, label) VALUES (?, ?)', [1, 'first']);
      await writeAtCommit(tx, 'INSERT INTO items (id, label) VALUES (?, ?)', [1, 'duplicate']);
    });
    const error = await run.then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(isUniqueViolation(error)).toBe(true);
    expect(await labels()).toEqual([]);
    // The connection went back to the pool outside any transaction.
    await sut.run((tx) => rawQuery(tx, 'INSERT INTO items (id, label) VALUES (?, ?)', [3, 'after']));
    expect(await labels()).toEqual(['after']);
  });

  it('sends a deferred write before any statement that follows it, raw or through TypeORM', async () => {
    const seen = await sut.run(async (tx) => {
      await writeAtCommit(tx, 'INSERT INTO items (id, label) VALUES (?, ?)', [1, 'deferred']);
      const raw = await rawQuery<{ n: number }>(tx, 'SELECT count(*)::int AS n FROM items');
      await writeAtCommit(tx, 'INSERT INTO items (id, label) VALUES (?, ?)', [2, 'second']);
      const typeorm = (await tx.query('SELECT count(*)::int AS n FROM items')) as { n: number }[];
      return [raw[0].n, typeorm[0].n];
    });
    expect(seen).toEqual([1, 2]);
    expect(await labels()).toEqual(['deferred', 'second']);
  });

  it('runs TypeORM’s own statements inside the transaction (BEGIN first), and rolls them back with it', async () => {
    const run = sut.run(async (tx) => {
      await tx.query('INSERT INTO items (id, label) VALUES ($1, $2)', [1, 'through TypeORM']);
      await rawQuery(tx, 'INSERT INTO items (id, label) VALUES (?, ?)', [2, 'raw']);
      throw new Error('the work failed');
    });
    await expect(run).rejects.toThrow('the work failed');
    expect(await labels()).toEqual([]);
  });

  it('makes a TypeORM transaction nested in the work a savepoint of it', async () => {
    await sut.run(async (tx) => {
      await rawQuery(tx, 'INSERT INTO items (id, label) VALUES (?, ?)', [1, 'outer']);
      await tx
        .transaction(async (inner) => {
          await inner.query('INSERT INTO items (id, label) VALUES ($1, $2)', [2, 'inner']);
          throw new Error('the inner work failed');
        })
        .catch(() => undefined);
    });
    expect(await labels()).toEqual(['outer']);
  });

  it('costs no round trip for work that sends no statement', async () => {
    let roundTrips: { count: number; stop(): void } | undefined;
    await sut.run(async (tx) => {
      roundTrips = countRoundTrips(tx);
    });
    roundTrips!.stop();
    expect(roundTrips!.count).toBe(0);
  });
});
