import { Worker } from 'node:worker_threads';
import { DataSource } from 'typeorm';

/** How often the checkpointer copies the write-ahead log back into the database file. */
const DEFAULT_INTERVAL_MS = 1_000;

// The worker is plain JavaScript run from a string, so that it loads the same way from the built code and under ts-jest.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
const checkpoint = () => {
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ type: 'checkpoint', result });
  } catch (error) {
    parentPort.postMessage({ type: 'error', message: error.message });
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

export interface CheckpointResult {
  /** SQLite's answer to wal_checkpoint: whether a writer held it off, frames in the log, frames copied. */
  busy: number;
  log: number;
  checkpointed: number;
}

/**
 * SQLite's write-ahead log is copied back into the database file by a checkpoint. By default the connection that
 * commits does that itself whenever the log passes 1,000 pages, and with `synchronous = normal` the checkpoint is
 * where the file is fsynced: so every few dozen commits one request would wait for a disk flush on the event loop,
 * which is where admission's and ingest's slowest answers came from. Here automatic checkpoints are turned off on the
 * main connection and a worker thread with its own connection checkpoints every second instead (PASSIVE: it never
 * blocks the writer). Commits then only append to the log; durability is unchanged (the log is the database's).
 */
export class SqliteCheckpointer {
  private worker: Worker | null = null;
  private stopped: Promise<void> | null = null;
  private last: CheckpointResult | null = null;
  private lastError: string | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly intervalMs = DEFAULT_INTERVAL_MS,
  ) {}

  /** Starts checkpointing (SQLite only; a no-op on PostgreSQL). */
  async start(): Promise<void> {
    if (this.dataSource.options.type !== 'better-sqlite3' || this.worker) return;
    const file = this.dataSource.options.database as string;
    await this.dataSource.query('PRAGMA wal_autocheckpoint = 0');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, intervalMs: this.intervalMs, driver: require.resolve('better-sqlite3') } });
    this.worker = worker;
    this.stopped = null;
    worker.unref();
    worker.on('message', (message: { type: 'checkpoint'; result: CheckpointResult } | { type: 'error'; message: string }) => {
      if (message.type === 'checkpoint') this.last = message.result;
      else this.lastError = message.message;
    });
    // A worker that fails must neither take control down nor leave the log to grow: the main connection then
    // checkpoints by itself again, as SQLite does by default.
    worker.on('error', (error) => {
      this.lastError = error.message;
    });
    worker.once('exit', () => {
      if (this.worker !== worker) return;
      this.worker = null;
      void this.restoreAutomaticCheckpoints();
    });
  }

  /** What the last checkpoint did, and the last error (null when none), for health reporting and tests. */
  status(): { running: boolean; last: CheckpointResult | null; lastError: string | null } {
    return { running: this.worker !== null, last: this.last, lastError: this.lastError };
  }

  /** Stops the worker after a last checkpoint, and gives checkpoints back to the main connection. */
  stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return this.stopped ?? Promise.resolve();
    this.worker = null;
    this.stopped = new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
      worker.postMessage('stop');
    }).then(() => this.restoreAutomaticCheckpoints());
    return this.stopped;
  }

  private async restoreAutomaticCheckpoints(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.query('PRAGMA wal_autocheckpoint = 1000').catch(() => undefined);
  }
}
