import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort } from './ports';

const run = promisify(execFile);

/** The newest PostgreSQL server installed the Debian way (/usr/lib/postgresql/<major>/bin). */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((name) => existsSync(join(root, name, 'bin', 'initdb'))) : [];
  if (majors.length === 0) throw new Error(`no PostgreSQL server under ${root}: apt-get install postgresql (CI has it)`);
  return join(root, majors.sort((a, b) => Number(b) - Number(a))[0], 'bin');
}

/**
 * A PostgreSQL cluster of the test's own (initdb into a temporary folder, its own port, trust auth on 127.0.0.1), so
 * that a fault test can stop, start or kill it without touching the machine's shared server. initdb refuses root:
 * as root (CI), the cluster belongs to the `postgres` user.
 */
export interface PgCluster {
  port: number;
  /** A database URL on this cluster (database `postgres` unless named). */
  url(database?: string): string;
  start(): Promise<void>;
  /** pg_ctl stop -m fast: sessions are ended (57P01), the server stops cleanly. */
  stop(): Promise<void>;
  /** Creates a database and answers its URL. */
  createDatabase(name: string): Promise<string>;
  /** Runs one statement as the superuser on `database`; answers the rows. */
  query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, parameters?: unknown[], database?: string): Promise<T[]>;
  /** The server log so far. */
  log(): string;
  /** Stops the server (immediately) and removes its folder. */
  destroy(): Promise<void>;
}

export async function createPgCluster(): Promise<PgCluster> {
  const bin = binDir();
  const folder = mkdtempSync(join(tmpdir(), 'dcm-pg-'));
  const dataDir = join(folder, 'data');
  const logFile = join(folder, 'server.log');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chownSync(folder, Number((await run('id', ['-u', 'postgres'])).stdout), Number((await run('id', ['-g', 'postgres'])).stdout));
  const as = (command: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, command), ...args]) : run(join(bin, command), args);
  const port = await freePort();

  await as('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8']);
  // Loopback only, its own socket folder, and nothing a throwaway cluster needs to keep across a power cut.
  const options = `-p ${port} -k ${folder} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  const pgCtl = (...args: string[]) => as('pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', '60', ...args]);

  const cluster: PgCluster = {
    port,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    start: async () => void (await pgCtl('-o', options, 'start')),
    stop: async () => void (await pgCtl('-m', 'fast', 'stop')),
    async createDatabase(name) {
      await cluster.query(`CREATE DATABASE ${name}`);
      return cluster.url(name);
    },
    async query(sql, parameters = [], database = 'postgres') {
      const client = new Client({ connectionString: cluster.url(database) });
      await client.connect();
      try {
        return (await client.query(sql, parameters)).rows;
      } finally {
        await client.end();
      }
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    async destroy() {
      if (existsSync(join(dataDir, 'postmaster.pid'))) await pgCtl('-m', 'immediate', 'stop').catch(() => undefined);
      rmSync(folder, { recursive: true, force: true });
    },
  };
  await cluster.start();
  return cluster;
}
