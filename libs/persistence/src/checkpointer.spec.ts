import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { SqliteCheckpointer } from './checkpointer';

describe(SqliteCheckpointer.name, () => {
  let directory: string;
  let dataSource: DataSource;

  beforeEach(async () => {
    directory = mkdtempSync(join(tmpdir(), 'dcm-checkpoint-'));
    dataSource = await new DataSource({ type: 'better-sqlite3', database: join(directory, 'test.sqlite'), enableWAL: true }).initialize();
    await dataSource.query('CREATE TABLE entries (id INTEGER PRIMARY KEY, body TEXT)');
  });

  afterEach(async () => {
    if (dataSource.isInitialized) await dataSource.destroy();
    rmSync(directory, { recursive: true, force: true });
  });

  const autocheckpoint = async () => ((await dataSource.query('PRAGMA wal_autocheckpoint')) as { wal_autocheckpoint: number }[])[0].wal_autocheckpoint;

  async function until<T>(read: () => T | null, what: string): Promise<T> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const value = read();
      if (value !== null) return value;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  it('copies the log into the database file from its own thread, with automatic checkpoints off on the main connection', async () => {
    const checkpointer = new SqliteCheckpointer(dataSource, 50);
    await checkpointer.start();
    expect(await autocheckpoint()).toBe(0);
    const databaseFile = join(directory, 'test.sqlite');
    const sizeBefore = statSync(databaseFile).size;
    // Well past the 1,000 pages at which the main connection would otherwise have checkpointed by itself.
    const body = 'x'.repeat(4_000);
    for (let batch = 0; batch < 20; batch++) {
      await dataSource.transaction(async (manager) => {
        for (let row = 0; row < 100; row++) await manager.query('INSERT INTO entries (body) VALUES (?)', [body]);
      });
    }
    const result = await until(() => {
      const { last } = checkpointer.status();
      return last && last.checkpointed >= 2_000 ? last : null;
    }, 'a checkpoint of the whole log');
    expect(result.checkpointed).toBe(result.log);
    expect(statSync(databaseFile).size).toBeGreaterThan(sizeBefore + 2_000 * 4_000);
    expect(checkpointer.status().lastError).toBeNull();
    await checkpointer.stop();
    expect(await autocheckpoint()).toBe(1000);
  });

  it('gives checkpoints back to the main connection when its worker dies, and stops cleanly after', async () => {
    const checkpointer = new SqliteCheckpointer(dataSource, 50);
    await checkpointer.start();
    expect(await autocheckpoint()).toBe(0);
    // As if the worker had crashed: it must not take the process down, nor leave the log to grow unchecked.
    await (checkpointer as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await until(() => (checkpointer.status().running ? null : true), 'the checkpointer to notice its worker is gone');
    for (let attempt = 0; attempt < 100 && (await autocheckpoint()) !== 1000; attempt++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await autocheckpoint()).toBe(1000);
    await checkpointer.stop();
    expect(await autocheckpoint()).toBe(1000);
  });

  it('does nothing on a database other than SQLite', async () => {
    const postgres = { options: { type: 'postgres' }, query: jest.fn() } as unknown as DataSource;
    const checkpointer = new SqliteCheckpointer(postgres);
    await checkpointer.start();
    await checkpointer.stop();
    expect(postgres.query).not.toHaveBeenCalled();
  });
});
