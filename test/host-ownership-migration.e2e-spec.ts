import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataSourceOptions, MIGRATIONS, openDataSource, rawQuery } from '@dcm/persistence';
import { DataSource } from 'typeorm';
import { createTestDatabase, TestDatabase } from './support/postgres';

const DAY_MS = 86_400_000;

/** An existing facility, written as the schema before HostOwnership1732953600000 held it. */
async function seedBeforeMigration(url: string): Promise<void> {
  const before = new DataSource({
    ...dataSourceOptions({ url }),
    migrations: MIGRATIONS.slice(
      0,
      MIGRATIONS.findIndex((migration) => migration.name === 'HostOwnership1732953600000'),
    ),
  } as ConstructorParameters<typeof DataSource>[0]);
  await before.initialize();
  await before.runMigrations({ transaction: 'each' });
  const manager = before.manager;
  const host = async (name: string, options: { agent: boolean; createdAt?: number; decommissionedAt?: number | null }) => {
    const id = randomUUID();
    await rawQuery(
      manager,
      `INSERT INTO hosts (id, name, site, labels, accreditation, status, agent_id, created_at, updated_at, decommissioned_at)
       VALUES (?, ?, 'hall-a', '{}', 'OFFICIAL', 'up', ?, ?, ?, ?)`,
      [id, name, options.agent ? randomUUID() : null, options.createdAt ?? 1_000, options.createdAt ?? 1_000, options.decommissionedAt ?? null],
    );
    await rawQuery(
      manager,
      `INSERT INTO inventories (host_id, resource_class, total, reserved, allocation_ratio, allocated, updated_at) VALUES (?, 'vcpu', 64, 0, 4, 0, 1000)`,
      [id],
    );
  };
  let seq = 0;
  const audit = async (action: string, subject: string, at: number) => {
    seq++;
    await rawQuery(
      manager,
      `INSERT INTO audit_events (seq, at, actor, action, subject_type, subject, prev_hash, hash) VALUES (?, ?, 'token:x', ?, 'host', ?, ?, ?)`,
      [seq, at, action, subject, 'p'.repeat(64), 'h'.repeat(64)],
    );
  };
  await host('registered', { agent: false });
  await audit('host.create', 'registered', 1_000);
  await host('registered-then-enrolled', { agent: true });
  await audit('host.create', 'registered-then-enrolled', 1_000);
  await audit('agent.enrol', 'registered-then-enrolled', 1_100);
  await host('enrolled-then-sized', { agent: true });
  await audit('agent.enrol', 'enrolled-then-sized', 1_000);
  await audit('inventory.set', 'enrolled-then-sized', 1_200);
  await host('enrolled', { agent: true });
  await audit('agent.enrol', 'enrolled', 1_000);
  // The name of a decommissioned operator's host, enrolled anew by an agent later: the old events are not its own.
  await host('reused', { agent: false, createdAt: 500, decommissionedAt: 900 });
  await audit('host.create', 'reused', 500);
  await host('reused', { agent: true, createdAt: 2_000 });
  await audit('agent.enrol', 'reused', 2_000);
  await rawQuery(manager, `INSERT INTO tokens (id, kind, role, name, secret_hash, uses_left, created_at) VALUES (?, 'join', NULL, 'old join', ?, 1, 1000)`, [
    randomUUID(),
    'j'.repeat(64),
  ]);
  await rawQuery(manager, `INSERT INTO tokens (id, kind, role, name, secret_hash, created_at) VALUES (?, 'api', 'viewer', 'grafana', ?, 1000)`, [
    randomUUID(),
    'a'.repeat(64),
  ]);
  await before.destroy();
}

describe.each([
  ['SQLite', false],
  ['PostgreSQL', true],
])('HostOwnership1732953600000 on %s', (_name, postgres) => {
  let database: TestDatabase | undefined;
  let dataDir: string;
  let after: DataSource;
  /** When the migration ran, bounded by the clock read before and after opening the database. */
  let migrated: { from: number; until: number };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'dcm-migration-'));
    database = postgres ? await createTestDatabase() : undefined;
    const url = database?.url ?? `sqlite:${join(dataDir, 'dcm.sqlite')}`;
    await seedBeforeMigration(url);
    const from = Date.now();
    after = await openDataSource({ url });
    migrated = { from, until: Date.now() };
  });

  afterAll(async () => {
    await after?.destroy();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('classifies existing hosts by who sized them, keeps them placeable, and records agent-owned totals as measured', async () => {
    const rows = await rawQuery<{ name: string; origin: string; accepted: unknown; measured_total: unknown }>(
      after.manager,
      `SELECT h.name, h.origin, h.accepted, i.measured_total FROM hosts h JOIN inventories i ON i.host_id = h.id
        WHERE h.decommissioned_at IS NULL ORDER BY h.name`,
    );
    expect(rows.map((row) => [row.name, row.origin, Boolean(row.accepted), row.measured_total === null ? null : Number(row.measured_total)])).toEqual([
      ['enrolled', 'agent', true, 64],
      ['enrolled-then-sized', 'operator', true, null],
      ['registered', 'operator', true, null],
      ['registered-then-enrolled', 'operator', true, null],
      ['reused', 'agent', true, 64],
    ]);
  });

  it('gives join tokens without an expiry one of 30 days, and leaves other tokens alone', async () => {
    const rows = await rawQuery<{ kind: string; expires_at: unknown; host_name: unknown; accept: unknown }>(
      after.manager,
      'SELECT kind, expires_at, host_name, accept FROM tokens ORDER BY kind',
    );
    expect(rows.map((row) => [row.kind, row.expires_at === null, row.host_name, Boolean(row.accept)])).toEqual([
      ['api', true, null, false],
      ['join', false, null, false],
    ]);
    const expiresAt = Number(rows[1].expires_at);
    expect(expiresAt).toBeGreaterThanOrEqual(migrated.from + 30 * DAY_MS);
    expect(expiresAt).toBeLessThanOrEqual(migrated.until + 30 * DAY_MS);
  });
});
