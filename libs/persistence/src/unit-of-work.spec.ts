import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, EntityManager } from 'typeorm';
import { NestedUnitOfWorkError, UnitOfWork } from './unit-of-work';

describe(UnitOfWork.name, () => {
  let directory: string;
  let dataSource: DataSource;
  let unitOfWork: UnitOfWork;
  let statements: string[];

  beforeEach(async () => {
    directory = mkdtempSync(join(tmpdir(), 'dcm-uow-'));
    statements = [];
    const record = (query: string) => void statements.push(query);
    const ignore = () => undefined;
    dataSource = await new DataSource({
      type: 'better-sqlite3',
      database: join(directory, 'test.sqlite'),
      prepareDatabase: (db) => db.pragma('journal_mode = WAL'),
      logging: ['query'],
      logger: { logQuery: record, logQueryError: ignore, logQuerySlow: ignore, logSchemaBuild: ignore, logMigration: ignore, log: ignore },
    }).initialize();
    await dataSource.query('PRAGMA foreign_keys = ON');
    await dataSource.query('CREATE TABLE parents (id INTEGER PRIMARY KEY)');
    await dataSource.query('CREATE TABLE entries (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parents(id) DEFERRABLE INITIALLY DEFERRED)');
    await dataSource.query('INSERT INTO parents (id) VALUES (1)');
    unitOfWork = new UnitOfWork(dataSource);
  });

  afterEach(async () => {
    await dataSource.destroy();
    rmSync(directory, { recursive: true, force: true });
  });

  const insert =
    (id: number, parent = 1) =>
    (manager: EntityManager) =>
      manager.query('INSERT INTO entries (id, parent_id) VALUES (?, ?)', [id, parent]);
  const ids = async () => ((await dataSource.query('SELECT id FROM entries ORDER BY id')) as { id: number }[]).map((row) => row.id);
  const settle = <T>(promises: Promise<T>[]) => Promise.allSettled(promises);

  it('runs work queued in one turn of the event loop in one transaction, in order', async () => {
    const seen: number[][] = [];
    const work = Array.from({ length: 5 }, (_, index) =>
      unitOfWork.run(async (manager) => {
        // Each piece sees what the pieces before it wrote, exactly as if it had had a transaction of its own.
        seen.push(((await manager.query('SELECT id FROM entries ORDER BY id')) as { id: number }[]).map((row) => row.id));
        await insert(index + 1)(manager);
        return index;
      }),
    );
    statements.length = 0;
    expect(await Promise.all(work)).toEqual([0, 1, 2, 3, 4]);
    expect(statements.filter((statement) => /^(BEGIN|COMMIT)/.test(statement))).toEqual(['BEGIN TRANSACTION', 'COMMIT']);
    expect(seen).toEqual([[], [1], [1, 2], [1, 2, 3], [1, 2, 3, 4]]);
    expect(await ids()).toEqual([1, 2, 3, 4, 5]);
  });

  it('rolls back only the piece that fails, with its in-memory effects, and keeps the others', async () => {
    const undone: string[] = [];
    const work = ['a', 'b', 'c'].map((name, index) =>
      unitOfWork.run(async (manager) => {
        await insert(index + 1)(manager);
        unitOfWork.onRollback(manager, () => undone.push(name));
        if (name === 'b') throw new Error('b refused');
        return name;
      }),
    );
    const outcomes = await settle(work);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toEqual(new Error('b refused'));
    expect(undone).toEqual(['b']);
    expect(await ids()).toEqual([1, 3]);
  });

  it('answers no piece of a group whose commit fails as having succeeded, and undoes every piece', async () => {
    const undone: number[] = [];
    // The deferred foreign key is checked at COMMIT only: piece 2's orphan fails the whole group there.
    const work = [insert(1), insert(2, 99), insert(3)].map((write, index) =>
      unitOfWork.run(async (manager) => {
        await write(manager);
        unitOfWork.onRollback(manager, () => undone.push(index));
      }),
    );
    const outcomes = await settle(work);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(undone).toEqual([2, 1, 0]);
    expect(await ids()).toEqual([]);
    // The queue goes on working after a failed group.
    await unitOfWork.run(insert(4));
    expect(await ids()).toEqual([4]);
  });

  it('fails the group with the cause when SQLite has itself ended the transaction, and goes on working after', async () => {
    const work = [insert(1), insert(2), insert(3)].map((write, index) =>
      unitOfWork.run(async (manager) => {
        await write(manager);
        if (index === 1) {
          // What SQLite does after a disk-full or I/O error: the whole transaction is rolled back under the writer.
          await manager.query('ROLLBACK');
          throw new Error('disk full');
        }
      }),
    );
    const outcomes = await settle(work);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toEqual(new Error('disk full'));
    expect(await ids()).toEqual([]);
    // TypeORM's view of the shared connection was corrected: later work gets transactions of its own again.
    statements.length = 0;
    await Promise.all([unitOfWork.run(insert(4)), unitOfWork.run(insert(5))]);
    expect(statements.filter((statement) => /^(BEGIN|COMMIT)/.test(statement))).toEqual(['BEGIN TRANSACTION', 'COMMIT']);
    expect(await ids()).toEqual([4, 5]);
  });

  it('rolls back a piece that runs alone when it fails', async () => {
    const undone: string[] = [];
    await expect(
      unitOfWork.run(async (manager) => {
        await insert(1)(manager);
        unitOfWork.onRollback(manager, () => undone.push('alone'));
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(undone).toEqual(['alone']);
    expect(await ids()).toEqual([]);
  });

  it('takes work queued while a group runs into the next group', async () => {
    const order: string[] = [];
    let running!: () => void;
    const groupRuns = new Promise<void>((resolve) => (running = resolve));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = unitOfWork.run(async (manager) => {
      await insert(1)(manager);
      order.push('first');
      running();
      await held;
    });
    await groupRuns;
    // Queued while the first group runs: it must wait for the next one, not nest in it.
    const second = unitOfWork.run(async (manager) => {
      await insert(2)(manager);
      order.push('second');
    });
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
    expect(await ids()).toEqual([1, 2]);
  });

  it('refuses at once a run inside the work of another, which would otherwise wait for itself for ever', async () => {
    await expect(unitOfWork.run(async (manager) => [await insert(1)(manager), await unitOfWork.run(insert(2))])).rejects.toThrow(NestedUnitOfWorkError);
    expect(await ids()).toEqual([]);
  });

  it('lets work that a finished piece left behind (a timer it set) run a unit of its own', async () => {
    const later = new Promise<unknown>((resolve) => {
      void unitOfWork.run(async () => {
        setTimeout(() => resolve(unitOfWork.run(insert(3))), 10);
      });
    });
    await later;
    expect(await ids()).toEqual([3]);
  });

  it('refuses onRollback outside of a unit of work', () => {
    expect(() => unitOfWork.onRollback(dataSource.manager, () => undefined)).toThrow('inside UnitOfWork.run');
  });

  it('runs after-commit tasks of the pieces that committed, after the commit and before answering them', async () => {
    const seen: string[] = [];
    const piece = (id: number, fail: boolean) =>
      unitOfWork.run(async (manager) => {
        await insert(id)(manager);
        expect(UnitOfWork.afterCommit(manager, async () => void seen.push(`after ${id}: ${(await ids()).join(',')}`))).toBe(true);
        if (fail) throw new Error(`piece ${id} fails`);
        return id;
      });
    const outcomes = await settle([piece(1, false), piece(2, true), piece(3, false)]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    // Each task saw the committed rows (it ran after the commit), and ran before its piece was answered.
    expect(seen).toEqual(['after 1: 1,3', 'after 3: 1,3']);
  });

  it('says no after-commit task can follow a transaction that is not a unit of work', () => {
    expect(UnitOfWork.afterCommit(dataSource.manager, async () => undefined)).toBe(false);
  });
});
