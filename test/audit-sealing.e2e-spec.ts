import { Client } from 'pg';
import { ADVISORY_LOCKS } from '@dcm/persistence';
import { createHost, createTenant, expectStatus, setQuotas } from './support/facility';
import { RunningControl, startControl } from './support/control';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { eventually } from './support/eventually';

/**
 * On PostgreSQL audit events are written pending in their change's transaction and sealed into the chain after the
 * commit (see apps/control/src/audit/audit-log.ts). These tests hold that design to its promises: one unbroken,
 * continuous chain under many writers on two replicas, every acknowledged change's event readable at once, and events
 * whose seal failed after their commit sealed later.
 */
describe('audit log on PostgreSQL: events sealed after commit', () => {
  const ADMIN_TOKEN = 'audit-sealing-test-admin-token-0123456789';
  let database: TestDatabase;
  let db: Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = new Client({ connectionString: database.url });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await database?.drop();
  });

  const pendingCount = async () => Number((await db.query<{ count: string }>('SELECT count(*) AS count FROM audit_pending')).rows[0].count);
  const sealedFor = async (subject: string) =>
    (await db.query<{ seq: string; action: string }>('SELECT seq, action FROM audit_events WHERE subject = $1 ORDER BY seq', [subject])).rows;

  it('keeps one chain without gaps or forks under many writers on two replicas, each acknowledged change sealed before its answer', async () => {
    const replicas: RunningControl[] = [];
    try {
      replicas.push(await startControl({ databaseUrl: database.url, adminToken: ADMIN_TOKEN }));
      const one = replicas[0].api;
      await createTenant(one, 'cardiff');
      await setQuotas(one, 'cardiff', { vcpu: 100_000, memory: '100TiB' });
      await createHost(one, 'blv-s01', { vcpu: { total: 10_000 }, memory: { total: '100TiB' } });
      // Started once the host exists, so that its placement catalog has it from the start.
      replicas.push(await startControl({ databaseUrl: database.url, adminToken: ADMIN_TOKEN }));
      const two = replicas[1].api;

      // 40 writers, half on each replica, each making 7 changes; every change's event must be readable on the other
      // replica as soon as it is acknowledged (the write waited for its seal).
      const acknowledged: { subject: string; action: string }[] = [];
      const writer = async (index: number) => {
        const api = index % 2 === 0 ? one : two;
        const other = index % 2 === 0 ? two : one;
        const expectSealed = async (subject: string, action: string) => {
          acknowledged.push({ subject, action });
          const events = await expectStatus(other.get(`/v1/audit?subject=${encodeURIComponent(subject)}&limit=100`), 200);
          expect(events.map((event: { action: string }) => event.action)).toContain(action);
        };
        for (let round = 0; round < 2; round++) {
          const allocation = await expectStatus(api.post('/v1/allocations', { tenant: 'cardiff', resources: { vcpu: 1, memory: '1GiB' } }), 201);
          await expectSealed(allocation.id, 'allocation.create');
          await expectStatus(api.delete(`/v1/allocations/${allocation.id}`), 200);
          await expectSealed(allocation.id, 'allocation.release');
        }
        const slug = `writer-${index}`;
        await createTenant(api, slug);
        await expectSealed(slug, 'tenant.create');
        // Both replicas change one subject in turn: its events must keep the changes' order (continuity).
        await expectStatus(api.patch('/v1/tenants/cardiff', { name: `Cardiff (writer ${index})` }), 200);
        await expectSealed('cardiff', 'tenant.update');
        await expectStatus(api.patch('/v1/hosts/blv-s01', { rack: `r${index}`, labels: { writer: String(index) } }), 200);
        await expectSealed('blv-s01', 'host.update');
      };
      await Promise.all(Array.from({ length: 40 }, (_, index) => writer(index)));

      expect(await pendingCount()).toBe(0);
      for (const api of [one, two]) {
        const verification = await expectStatus(api.get('/v1/audit/verify'), 200);
        expect(verification).toMatchObject({ intact: true, continuous: true, firstSeq: 1, firstBroken: null, firstDiscontinuity: null });
        expect(verification.checked).toBe(verification.lastSeq);
      }
      // No gap and no fork: seq runs 1…n, and each prevHash is the hash of exactly the event before it.
      const { rows } = await db.query<{ seq: string; prev_hash: string; hash: string }>('SELECT seq, prev_hash, hash FROM audit_events ORDER BY seq');
      rows.forEach((row, index) => {
        expect(Number(row.seq)).toBe(index + 1);
        if (index > 0) expect(row.prev_hash).toBe(rows[index - 1].hash);
      });
      expect(new Set(rows.map((row) => row.prev_hash)).size).toBe(rows.length);
      // Every acknowledged change has exactly its event.
      const stored = await db.query<{ subject: string; action: string }>('SELECT subject, action FROM audit_events');
      const count = (list: { subject: string; action: string }[]) =>
        list.reduce((counts, { subject, action }) => counts.set(`${action} ${subject}`, (counts.get(`${action} ${subject}`) ?? 0) + 1), new Map());
      const storedCounts = count(stored.rows);
      for (const [key, times] of count(acknowledged)) expect([key, storedCounts.get(key)]).toEqual([key, times]);
      expect(acknowledged).toHaveLength(40 * 7);
    } finally {
      await Promise.all(replicas.map((replica) => replica.close()));
    }
  }, 180_000);

  it('answers a write whose seal failed after its commit, and seals its event later: by the periodic job, or at the next start', async () => {
    let control = await startControl({ databaseUrl: database.url, adminToken: ADMIN_TOKEN });
    // The test holds the chain's lock, so that the replica's seal waits for it; then its connection is terminated.
    const holder = new Client({ connectionString: database.url });
    await holder.connect();
    try {
      const failSealsFor = async (write: () => Promise<unknown>) => {
        await holder.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCKS.auditChain]);
        const written = write();
        const sealer = await eventually(
          "the replica's sealer waiting for the chain's lock",
          async () =>
            (
              await db.query<{ pid: number }>(
                "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'dcm-audit %' AND datname = current_database() AND wait_event_type = 'Lock'",
              )
            ).rows[0],
          10_000,
        );
        await db.query('SELECT pg_terminate_backend($1)', [sealer.pid]);
        await written;
        await holder.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCKS.auditChain]);
      };

      // The write is answered as committed although its seal failed; its event waits, committed, in audit_pending.
      await failSealsFor(() => createTenant(control.api, 'swansea'));
      await expect(expectStatus(control.api.get('/v1/tenants/swansea'), 200)).resolves.toMatchObject({ slug: 'swansea' });
      expect(await sealedFor('swansea')).toEqual([]);
      expect(await pendingCount()).toBe(1);
      // The periodic audit-seal job (every 5 s) seals it, and the chain verifies.
      await eventually('the pending event sealed by the job', async () => ((await pendingCount()) === 0 ? true : undefined), 15_000);
      expect(await sealedFor('swansea')).toEqual([expect.objectContaining({ action: 'tenant.create' })]);

      // Again, and the replica stops before any job runs: the next start seals what it left, ahead of any new event.
      await failSealsFor(() => expectStatus(control.api.patch('/v1/tenants/swansea', { name: 'Swansea Council' }), 200));
      expect(await pendingCount()).toBe(1);
      await control.close();
      control = await startControl({ databaseUrl: database.url, adminToken: ADMIN_TOKEN });
      expect(await pendingCount()).toBe(0);
      await expectStatus(control.api.patch('/v1/tenants/swansea', { name: 'City and County of Swansea' }), 200);
      const events = await sealedFor('swansea');
      expect(events.map((event) => event.action)).toEqual(['tenant.create', 'tenant.update', 'tenant.update']);
      await expect(expectStatus(control.api.get('/v1/audit/verify'), 200)).resolves.toMatchObject({ intact: true, continuous: true, firstBroken: null });
    } finally {
      await holder.end();
      await control.close();
    }
  }, 60_000);
});
