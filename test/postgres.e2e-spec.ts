import { CapacitySamplingService } from '../apps/control/src/history/capacity-sampling.service';
import { createHost, createTenant, enrolAgent, expectStatus, hostFacts, setQuotas } from './support/facility';
import { aReport } from './support/reports';
import { RunningControl, startControl } from './support/control';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { eventually, StopWaiting } from './support/eventually';

const TIB = 2 ** 40;

describe('control on PostgreSQL', () => {
  let database: TestDatabase;
  let control: RunningControl;

  beforeAll(async () => {
    database = await createTestDatabase();
    control = await startControl({ databaseUrl: database.url });
  });

  afterAll(async () => {
    await control?.close();
    await database?.drop();
  });

  it('stores byte amounts beyond 32 bits and returns them as exact numbers', async () => {
    const { api } = control;
    await createTenant(api, 'gwent-police', { classification: 'OFFICIAL-SENSITIVE', isolation: 'dedicated' });
    await setQuotas(api, 'gwent-police', { vcpu: 64, memory: '2TiB', storage: '800TiB' });
    await createHost(
      api,
      'blv-p01',
      { vcpu: { total: 128, reserved: 8 }, memory: { total: '1.5TiB', reserved: '64GiB' }, storage: { total: '900TiB' } },
      { accreditation: 'SECRET', dedicatedTenant: 'gwent-police' },
    );

    const allocation = await expectStatus(
      api.post('/v1/allocations', { tenant: 'gwent-police', resources: { vcpu: 16, memory: '1TiB', storage: '700TiB' } }),
      201,
    );

    expect(allocation.resources).toEqual({ memory: TIB, storage: 700 * TIB, vcpu: 16 });
    const quotas = await expectStatus(api.get('/v1/tenants/gwent-police/quotas'), 200);
    expect(quotas.quotas.storage).toEqual({
      unit: 'bytes',
      limit: 800 * TIB,
      granted: 0,
      effectiveLimit: 800 * TIB,
      allocated: 700 * TIB,
      used: null,
      available: 100 * TIB,
      state: 'ok',
      since: expect.any(String),
    });
    const host = await expectStatus(api.get('/v1/hosts/blv-p01'), 200);
    expect(host.inventories.memory).toMatchObject({ total: 1.5 * TIB, reserved: 64 * 2 ** 30, capacity: 1.5 * TIB - 64 * 2 ** 30, allocated: TIB });
    expect(host.inventories.vcpu).toMatchObject({ capacity: 480, allocated: 16, allocationRatio: 4 });
    expect(host.dedicatedTenant).toBe('gwent-police');
  });

  it('grants surges of bytes beyond 32 bits, and keeps one unbroken audit chain under concurrent writers', async () => {
    const { api } = control;
    await expectStatus(
      api.post('/v1/tenants/gwent-police/grants', {
        resources: { storage: '100TiB' },
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
        reason: 'evidence import',
      }),
      201,
    );
    await expect(expectStatus(api.get('/v1/tenants/gwent-police/quotas'), 200)).resolves.toMatchObject({
      quotas: { storage: { limit: 800 * TIB, granted: 100 * TIB, effectiveLimit: 900 * TIB, available: 200 * TIB } },
    });
    // Writers on separate pooled connections all append to the one chain: none may fork it.
    const writes = Array.from({ length: 40 }, (_, index) =>
      index % 2 === 0
        ? expectStatus(api.post('/v1/tenants', { slug: `pg-tenant-${index}`, name: `Tenant ${index}` }), 201)
        : expectStatus(api.post('/v1/allocations', { tenant: 'gwent-police', resources: { vcpu: 1 } }), 201),
    );
    await Promise.all(writes);
    const verification = await expectStatus(api.get('/v1/audit/verify'), 200);
    expect(verification).toMatchObject({ intact: true, firstSeq: 1, firstBroken: null });
    expect(verification.checked).toBe(verification.lastSeq);
    expect(verification.checked).toBeGreaterThanOrEqual(45);
  });

  it('stops trusting a token another replica revoked, although this one had it cached', async () => {
    const other = await startControl({ databaseUrl: database.url, adminToken: control.adminToken });
    try {
      const viewer = await expectStatus(control.api.post('/v1/tokens', { kind: 'api', role: 'viewer' }), 201);
      await expectStatus(other.api.as(viewer.token).get('/v1/tenants'), 200); // cached by the other replica now
      await expectStatus(control.api.delete(`/v1/tokens/${viewer.id}`), 200);
      expect((await control.api.as(viewer.token).get('/v1/tenants')).status).toBe(401); // at once where it was revoked
      // The other replica's token-revocations job looks every second.
      await eventually(
        'the other replica to refuse the revoked token',
        async () => (await other.api.as(viewer.token).get('/v1/tenants')).status === 401,
        10_000,
      );
    } finally {
      await other.app.close();
    }
  });

  it('places on a host another replica created a moment before, and on capacity another replica released', async () => {
    // This replica's placement catalog is loaded now, before the host exists.
    const other = await startControl({ databaseUrl: database.url, adminToken: control.adminToken });
    try {
      await createTenant(control.api, 'cardiff-social');
      await setQuotas(control.api, 'cardiff-social', { vcpu: 64, memory: '64GiB' });
      await createHost(control.api, 'blv-p02', { vcpu: { total: 4, allocationRatio: 1 }, memory: { total: '16GiB' } });
      const request = { tenant: 'cardiff-social', resources: { vcpu: 4, memory: '8GiB' } };

      const first = await expectStatus(other.api.post('/v1/allocations', request, { headers: { 'idempotency-key': 'cardiff-1' } }), 201);
      expect(first.host).toBe('blv-p02');
      // The host is full now; the other replica releases the allocation, and this one's catalog has not seen it.
      await expectStatus(control.api.post('/v1/allocations', request), 409);
      await expectStatus(other.api.delete(`/v1/allocations/${first.id}`), 200);
      const second = await expectStatus(control.api.post('/v1/allocations', request, { headers: { 'idempotency-key': 'cardiff-2' } }), 201);
      expect(second.host).toBe('blv-p02');
    } finally {
      await other.app.close();
    }
  });

  describe('placement when another transaction holds a host’s rows', () => {
    let holder: Client;
    let holderPid: number;

    beforeAll(async () => {
      // For the tenant of the test before (quotas of 64 vCPU and 64 GiB): spread prefers blv-p10, the emptiest, and
      // blv-p11 has room for both requests below.
      await createHost(control.api, 'blv-p10', { vcpu: { total: 64, allocationRatio: 1 }, memory: { total: '256GiB' } });
      await createHost(control.api, 'blv-p11', { vcpu: { total: 16, allocationRatio: 1 }, memory: { total: '64GiB' } });
    });

    beforeEach(async () => {
      holder = new Client({ connectionString: database.url });
      await holder.connect();
      holderPid = ((await holder.query('SELECT pg_backend_pid() AS pid')).rows[0] as { pid: number }).pid;
      await holder.query('BEGIN');
    });

    afterEach(async () => {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    });

    /** Locks the named hosts' inventory rows in the holder's transaction, as an admission on another replica would. */
    const holdRows = (...hosts: string[]) =>
      holder.query('SELECT 1 FROM inventories i JOIN hosts h ON h.id = i.host_id WHERE h.name = ANY($1) ORDER BY i.host_id, i.resource_class FOR UPDATE OF i', [
        hosts,
      ]);
    /** Resolves once a backend waits for a lock the holder has. */
    const queuedBehindHolder = (stop: { stopped: boolean }) =>
      eventually('an admission to wait for the rows the test holds', async () => {
        if (stop.stopped) throw new StopWaiting('no longer watching');
        const { rows } = await holder.query('SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))', [holderPid]);
        return (rows[0] as { waiting: number }).waiting > 0;
      });

    it('admits on the next host, on both replicas at once, without waiting for the held one', async () => {
      const other = await startControl({ databaseUrl: database.url, adminToken: control.adminToken });
      try {
        await holdRows('blv-p10');
        const request = { tenant: 'cardiff-social', resources: { vcpu: 2, memory: '4GiB' } };
        const admissions = Promise.all([control.api.post('/v1/allocations', request), other.api.post('/v1/allocations', request)]);
        // Before, both replicas picked blv-p10 and queued behind its row lock until the holder ended.
        const watch = { stopped: false };
        const outcome = await Promise.race([admissions.then(() => 'answered' as const), queuedBehindHolder(watch).then(() => 'queued' as const)]);
        watch.stopped = true;
        await holder.query('ROLLBACK');
        const answers = await admissions;
        expect(outcome).toBe('answered');
        expect(answers.map((answer) => [answer.status, (answer.body as { host?: string }).host])).toEqual([
          [201, 'blv-p11'],
          [201, 'blv-p11'],
        ]);
      } finally {
        await other.app.close();
      }
      const verification = await expectStatus(control.api.get('/v1/audit/verify'), 200);
      expect(verification).toMatchObject({ intact: true, firstBroken: null });
    });

    it('waits for a held host rather than refusing when every host that could take the request is held', async () => {
      await holdRows('blv-p10', 'blv-p11');
      const admission = control.api.post('/v1/allocations', { tenant: 'cardiff-social', resources: { vcpu: 2, memory: '4GiB' } });
      await queuedBehindHolder({ stopped: false });
      await holder.query('COMMIT');
      const answer = await admission;
      expect(answer.status).toBe(201);
      expect(['blv-p10', 'blv-p11']).toContain((answer.body as { host?: string }).host);
    });
  });

  it('refuses to start a replica whose audit key, trusted proxies or console session key differ from a running replica’s', async () => {
    const otherKey = `other:${'ab'.repeat(32)}`;
    await expect(startControl({ databaseUrl: database.url, adminToken: control.adminToken, auditKey: otherKey })).rejects.toThrow(
      /^DCM_AUDIT_KEY differs from the one of the replicas running on this database: every replica must share it/,
    );
    await expect(startControl({ databaseUrl: database.url, adminToken: control.adminToken, auditKey: otherKey, trustedProxies: ['10.0.0.1'] })).rejects.toThrow(
      /^DCM_AUDIT_KEY and DCM_TRUSTED_PROXIES differ from those of the replicas running on this database/,
    );
    await expect(startControl({ databaseUrl: database.url, adminToken: control.adminToken, consoleSessionKey: 'cd'.repeat(32) })).rejects.toThrow(
      /^DCM_CONSOLE_SESSION_KEY differs/,
    );
    // Nothing of the refused replicas stayed: a replica with the same settings starts, and the chain verifies.
    const same = await startControl({ databaseUrl: database.url, adminToken: control.adminToken });
    try {
      await expect(expectStatus(same.api.get('/v1/audit/verify'), 200)).resolves.toMatchObject({ intact: true });
    } finally {
      await same.app.close();
    }
  });

  it('keeps capacity history when hosts are measured using a fraction of a core', async () => {
    await createHost(control.api, 'blv-p03', { vcpu: { total: 16 }, memory: { total: '64GiB' } }, { site: 'hall-frac' });
    const agent = await enrolAgent(control.api, 'blv-p03', hostFacts('blv-p03', { logicalCores: 16 }), { host: 'blv-p03' });
    const report = aReport(1, { collectedAt: new Date().toISOString(), cpu: { usageRatio: 1 / 3, load1: 1, load5: 1, load15: 1, logicalCores: 16 } });
    await expectStatus(control.api.post(`/v1/agents/${agent.agentId}/reports`, report, { token: agent.agentToken }), 200);

    // 16 cores a third busy: 5.33 cores in use, kept as whole cores (the samples' columns are integers, as on SQLite).
    const samples = await control.app.get(CapacitySamplingService).sample();
    expect(samples.find((sample) => sample.site === 'hall-frac' && sample.resourceClass === 'vcpu')).toMatchObject({ used: 5 });
  });

  it('answers /health/ready while every pooled connection is busy: a busy replica is not a down one', async () => {
    // Every pooled connection waits on a lock this test holds, as behind a burst of clients; a load balancer that
    // found readiness waiting behind them would take the replica out and end its clients' sessions.
    const holder = new Client({ connectionString: database.url });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock(4242999)');
    const dataSource = control.app.get(DataSource);
    const waiting = Array.from({ length: 25 }, () => dataSource.query('SELECT pg_advisory_xact_lock(4242999)'));
    let released = false;
    try {
      await eventually(
        'every pooled connection to wait on the lock',
        async () => {
          const [{ count }] = (
            await holder.query("SELECT count(*)::int AS count FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = 4242999")
          ).rows as { count: number }[];
          return count >= 20 ? true : undefined;
        },
        10_000,
      );
      const ready = control.api.get('/health/ready', { token: null }).then((answer) => ({ status: answer.status, released }));
      // Released only once readiness has answered, or after 15 s (then too late: readiness waited for the pool).
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([ready, new Promise((resolve) => (timer = setTimeout(resolve, 15_000)))]);
      clearTimeout(timer);
      released = true;
      await holder.query('SELECT pg_advisory_unlock(4242999)');
      await expect(ready).resolves.toEqual({ status: 200, released: false });
    } finally {
      if (!released) await holder.query('SELECT pg_advisory_unlock(4242999)');
      await Promise.all(waiting);
      await holder.end();
    }
  });

  it('leaves room on the pages of the rows every report rewrites, and stores a report as a HOT update there', async () => {
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ relname: string; reloptions: string[] }>(
        "SELECT relname, reloptions FROM pg_class WHERE relname IN ('agents', 'hosts', 'host_measurements') ORDER BY relname",
      );
      expect(rows).toEqual([
        { relname: 'agents', reloptions: ['fillfactor=70'] },
        { relname: 'host_measurements', reloptions: ['fillfactor=50'] },
        { relname: 'hosts', reloptions: ['fillfactor=70'] },
      ]);
      // Twelve hosts' latest measurements fill two full pages at the default fill factor (about 1.4 KB each, five a page).
      const agents: { agentId: string; agentToken: string }[] = [];
      for (let index = 0; index < 12; index++) {
        const name = `blv-hot${String(index).padStart(2, '0')}`;
        await createHost(control.api, name, { vcpu: { total: 16 } });
        agents.push(await enrolAgent(control.api, name, hostFacts(name, { logicalCores: 16 }), { host: name }));
      }
      // A HOT update writes the row's new version on the page of the old one: no row changes page.
      const pages = async () => {
        const rows = await client.query<{ host_id: string; page: string }>(
          "SELECT host_id, (ctid::text::point)[0]::text AS page FROM host_measurements WHERE host_id IN (SELECT id FROM hosts WHERE name LIKE 'blv-hot%') ORDER BY host_id",
        );
        return rows.rows;
      };
      const report = (seq: number) =>
        Promise.all(
          agents.map((agent) =>
            expectStatus(
              control.api.post(`/v1/agents/${agent.agentId}/reports`, aReport(seq, { collectedAt: new Date().toISOString() }), { token: agent.agentToken }),
              200,
            ),
          ),
        );
      await report(1);
      const first = await pages();
      expect(first).toHaveLength(12);
      // One report more: its row's new version fits beside the old one at once. Later ones fit once the page is pruned,
      // which waits for every snapshot older than the update before (another transaction's, not this test's to order).
      await report(2);
      expect(await pages()).toEqual(first);
    } finally {
      await client.end();
    }
  });

  it('survives a restart: migrations are not re-applied and the bootstrap token still works', async () => {
    await control.app.close();
    control = await startControl({ databaseUrl: database.url, adminToken: control.adminToken });
    const tenants = await expectStatus(control.api.get('/v1/tenants'), 200);
    expect(tenants.map((tenant: { slug: string }) => tenant.slug)).toHaveLength(22);
    expect(tenants.map((tenant: { slug: string }) => tenant.slug)).toContain('gwent-police');
    const ready = await control.api.get('/health/ready', { token: null });
    expect(ready.status).toBe(200);
  });
});
