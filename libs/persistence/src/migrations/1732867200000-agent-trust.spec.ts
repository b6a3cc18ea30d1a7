import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../data-source';
import { AgentTrust1732867200000 } from './1732867200000-agent-trust';

const DAY_MS = 86_400_000;

describe(AgentTrust1732867200000.name, () => {
  let directory: string;

  const open = (migrations: typeof MIGRATIONS) =>
    new DataSource({ type: 'better-sqlite3', database: join(directory, 'dcm.sqlite'), migrations, logging: false }).initialize();

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'dcm-migration-'));
  });

  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('adds host-tenant bindings and the clock skew column, and drops samples collected in the future', async () => {
    const index = MIGRATIONS.indexOf(AgentTrust1732867200000);
    expect(index).toBeGreaterThan(0);
    const before = await open(MIGRATIONS.slice(0, index));
    await before.runMigrations();
    await before.query('PRAGMA foreign_keys = OFF'); // samples of a made-up tenant and host
    const now = Math.floor(Date.now() / 60_000) * 60_000;
    const buckets = { past: now - DAY_MS, now, forged: Date.UTC(9999, 11, 31, 23, 59) };
    for (const bucket of Object.values(buckets)) {
      await before.query('INSERT INTO tenant_samples (tenant_id, host_id, bucket, memory_bytes) VALUES (?, ?, ?, ?)', ['t', 'h', bucket, 1]);
      await before.query(
        'INSERT INTO host_samples (host_id, bucket, cpu_usage_ratio, load1, memory_total, memory_available, storage_size, storage_used) VALUES (?, ?, 0, 0, 0, 0, 0, 0)',
        ['h', bucket],
      );
    }
    await before.destroy();

    const after = await open(MIGRATIONS.slice(0, index + 1));
    try {
      await expect(after.runMigrations()).resolves.toEqual([expect.objectContaining({ name: 'AgentTrust1732867200000' })]);
      const kept = [buckets.past, buckets.now];
      await expect(after.query('SELECT bucket FROM tenant_samples ORDER BY bucket')).resolves.toEqual(kept.map((bucket) => ({ bucket })));
      await expect(after.query('SELECT bucket FROM host_samples ORDER BY bucket')).resolves.toEqual(kept.map((bucket) => ({ bucket })));
      await expect(after.query('SELECT * FROM host_tenants')).resolves.toEqual([]);
      await expect(after.query("SELECT name FROM pragma_table_info('hosts') WHERE name = 'clock_skew_ms'")).resolves.toEqual([{ name: 'clock_skew_ms' }]);
    } finally {
      await after.destroy();
    }
  });
});
