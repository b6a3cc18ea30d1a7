import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS } from '@dcm/persistence';
import type { Report } from '@dcm/protocol';
import { Client } from 'pg';
import { startAgent } from './support/agent-process';
import { ApiClient, ApiResponse } from './support/api-client';
import { createHost, createTenant, enrolAgent, expectStatus, hostFacts, setQuotas } from './support/facility';
import { createPgCluster, PgCluster } from './support/pg-cluster';
import { eventually, pause } from './support/eventually';
import { Replica, startReplica, stopReplicas } from './support/replicas';
import { aReport } from './support/reports';

const ADMIN_TOKEN = 'faults-test-admin-token-0123456789';
const TENANTS = ['torfaen', 'blaenau-gwent', 'monmouthshire', 'newport'];
const HOSTS = Array.from({ length: 8 }, (_, i) => `blv-f${String(i + 1).padStart(2, '0')}`);
/** No request may take longer than this, database or no database. */
const REQUEST_TIMEOUT_MS = 30_000;

/** A request that fails the test if it has no answer in REQUEST_TIMEOUT_MS: nothing may hang while the database is away. */
async function bounded<T>(what: string, request: Promise<ApiResponse<T>>): Promise<ApiResponse<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS)),
  );
  try {
    return await Promise.race([request, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What control must answer while the database is away: a 503 problem with a stable code and Retry-After. */
function isUnavailableProblem(response: ApiResponse): boolean {
  return (
    response.status === 503 &&
    response.headers.get('content-type')?.startsWith('application/problem+json') === true &&
    (response.body as { code?: string })?.code === 'Unavailable' &&
    Number(response.headers.get('retry-after')) > 0
  );
}

async function buildFacility(api: ApiClient): Promise<void> {
  for (const slug of TENANTS) {
    await createTenant(api, slug);
    await setQuotas(api, slug, { vcpu: 1_000_000, memory: '1000TiB' });
  }
  for (const name of HOSTS) await createHost(api, name, { vcpu: { total: 100_000 }, memory: { total: '1000TiB' } });
}

interface SchedulerStatus {
  replica: string;
  leading: boolean;
  leader: string | null;
}

interface JobRun {
  job: string;
  replica: string;
  startedAt: string;
  endedAt: string;
  outcome: string;
  leadershipLost: boolean;
}

/** The leader-only job runs a replica logged (at debug: one JSON line per run). */
function jobRuns(output: string): JobRun[] {
  return output
    .split('\n')
    .filter((line) => line.includes('"scheduler job ran"'))
    .map((line) => JSON.parse(line) as JobRun);
}

interface SimulatedAgent {
  id: string;
  api: ApiClient;
  seq: number;
  /** Reports not yet accepted, sent again (as a replay) with the next one. */
  spool: Report[];
  lastSeq: number;
}

describe('two replicas on a PostgreSQL cluster of the test’s own', () => {
  let cluster: PgCluster;
  const replicas: Replica[] = [];
  const agents: ReturnType<typeof startAgent>[] = [];

  beforeAll(async () => {
    cluster = await createPgCluster();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.stop()));
    await stopReplicas(replicas);
    await cluster?.destroy();
  });

  it('migrates an empty database once when both replicas start together', async () => {
    const url = await cluster.createDatabase('dcm_migrations');
    const pair = await Promise.all([startReplica('one', url, ADMIN_TOKEN), startReplica('two', url, ADMIN_TOKEN)]);
    replicas.push(...pair);
    await Promise.all(pair.map((replica) => replica.ready()));

    const applied = await cluster.query<{ name: string; count: string }>(
      'SELECT name, count(*) AS count FROM migrations GROUP BY name ORDER BY name',
      [],
      'dcm_migrations',
    );
    expect(applied.map((row) => row.name).sort()).toEqual(MIGRATIONS.map((migration) => migration.name).sort());
    expect(applied.filter((row) => Number(row.count) !== 1)).toEqual([]);
    // Both serve the same schema.
    await expectStatus(pair[0].api.post('/v1/tenants', { slug: 'migrated', name: 'Migrated' }), 201);
    await expect(expectStatus(pair[1].api.get('/v1/tenants/migrated'), 200)).resolves.toMatchObject({ slug: 'migrated' });
    await stopReplicas(replicas.splice(0));
  }, 120_000);

  it('fences leadership: a replica that loses its database connections recovers by itself, and leader-only runs never overlap', async () => {
    const url = await cluster.createDatabase('dcm_fencing');
    const env = { DCM_LEADER_INTERVAL_S: '1', DCM_REPORT_INTERVAL_S: '1', DCM_LOG_LEVEL: 'debug' };
    const pair = await Promise.all([startReplica('one', url, ADMIN_TOKEN, env), startReplica('two', url, ADMIN_TOKEN, env)]);
    replicas.push(...pair);
    await Promise.all(pair.map((replica) => replica.ready()));
    const status = async (replica: Replica) => (await expectStatus(replica.api.get<SchedulerStatus>('/v1/scheduler'), 200)) as SchedulerStatus;
    const [leader, follower] = await eventually(
      'one replica to lead',
      async () => {
        const [first, second] = await Promise.all(pair.map(status));
        if (first.leading === second.leading) return undefined;
        return first.leading ? pair : [pair[1], pair[0]];
      },
      15_000,
    );
    const [leaderName, followerName] = [(await status(leader)).replica, (await status(follower)).replica];
    const db = (sql: string, parameters: unknown[] = []) => cluster.query(sql, parameters, 'dcm_fencing');

    // Hold the hosts table, so that the leader's liveness sweep (every second) waits inside its transaction.
    const blocker = new Client({ connectionString: url });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE hosts IN SHARE MODE');
    await eventually(
      'the leader’s liveness sweep to wait on the hosts table',
      async () =>
        (
          await db(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock' AND query LIKE 'UPDATE "hosts"%'`, [
            `dcm ${leaderName}`,
          ])
        ).length > 0
          ? true
          : undefined,
      15_000,
    );

    // The leader loses its lock connection while that run is in flight.
    await db('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [`dcm-scheduler ${leaderName}`]);
    // A replica takes the lock again, but leads only once the old run's transaction has ended.
    await pause(2_500); // more than two election ticks
    const holder = (await status(follower)).leader;
    expect([leaderName, followerName]).toContain(holder);
    const next = holder === leaderName ? leader : follower;
    await expect(status(next)).resolves.toMatchObject({ leading: false, leader: holder });
    await expect(status(next === leader ? follower : leader)).resolves.toMatchObject({ leading: false });
    expect(next.output()).toContain('waiting for the previous leader');

    // The old run ends (it proved its leadership while it still held the lock); only then does the new holder lead.
    await blocker.query('COMMIT');
    await blocker.end();
    await eventually('the new holder to lead', async () => ((await status(next)).leading ? true : undefined), 10_000);

    // The first leader now loses every connection at once (its pool and its lock connection), but not its clients.
    await db('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name IN ($1, $2)', [`dcm ${leaderName}`, `dcm-scheduler ${leaderName}`]);
    await eventually('the first leader to serve again', async () => ((await leader.api.get('/v1/tenants')).status === 200 ? true : undefined), 15_000);
    await eventually(
      'the first leader to be ready again',
      async () => ((await leader.api.get('/health/ready', { token: null })).status === 200 ? true : undefined),
      15_000,
    );
    await eventually(
      'exactly one replica to lead',
      async () => ((await Promise.all([status(leader), status(follower)])).filter((replica) => replica.leading).length === 1 ? true : undefined),
      15_000,
    );
    await pause(3_000); // runs on whichever leads now

    // Every leader-only job run either replica made: none of one replica overlaps one of the other's.
    const runs = pair.flatMap((replica) => jobRuns(replica.output()));
    const byReplica = (name: string) => runs.filter((run) => run.replica === name && !run.leadershipLost);
    expect(byReplica(leaderName).length).toBeGreaterThan(0);
    expect(byReplica(followerName).length + (next === leader ? 1 : 0)).toBeGreaterThan(0);
    const overlapping = byReplica(leaderName).flatMap((a) =>
      byReplica(followerName)
        .filter((b) => a.startedAt < b.endedAt && b.startedAt < a.endedAt)
        .map((b) => `${a.job}@${a.replica} ${a.startedAt}..${a.endedAt} overlaps ${b.job}@${b.replica} ${b.startedAt}..${b.endedAt}`),
    );
    expect(overlapping).toEqual([]);
    // The sweep that waited on the hosts table did finish on the first leader, and committed.
    expect(byReplica(leaderName).some((run) => run.job === 'host-liveness' && run.outcome === 'ok' && run.endedAt > run.startedAt)).toBe(true);
    await stopReplicas(replicas.splice(0));
  }, 180_000);

  it('answers 503 with Retry-After while PostgreSQL is stopped for 5 s under load, and serves again without a restart, losing nothing', async () => {
    const url = await cluster.createDatabase('dcm_outage');
    const env = { DCM_LEADER_INTERVAL_S: '1', DCM_REPORT_INTERVAL_S: '1', DCM_LOG_LEVEL: 'warn' };
    const pair = await Promise.all([startReplica('one', url, ADMIN_TOKEN, env), startReplica('two', url, ADMIN_TOKEN, env)]);
    replicas.push(...pair);
    await Promise.all(pair.map((replica) => replica.ready()));
    const admin = pair[0].api;
    await buildFacility(admin);
    const answered: { key: string; id: string }[] = [];
    const tokens: string[] = [];
    for (let i = 0; i < 100; i++)
      tokens.push((await expectStatus(admin.post('/v1/tokens', { kind: 'api', role: 'operator', name: `client ${i}` }), 201)).token);

    // The other replica's placement view of the hosts just registered is up to 5 s old: wait until it places too.
    let warmUps = 0;
    for (const replica of pair) {
      await eventually(
        `${replica.name} to place on the new hosts`,
        async () => {
          // A fresh key each time: a refusal is kept for its key as much as a success is.
          const key = `warm-up-${warmUps++}`;
          const response = await replica.api.post(
            '/v1/allocations',
            { tenant: TENANTS[0], resources: { vcpu: 1, memory: '1GiB' } },
            { headers: { 'idempotency-key': key } },
          );
          if (response.status !== 201) throw new Error(`warm-up on ${replica.name}: ${response.status} ${JSON.stringify(response.body)}`);
          answered.push({ key, id: response.body.id });
          return true;
        },
        15_000,
      );
    }

    // 100 simulated agents, each with a spool it keeps until control accepts it.
    const simulated: SimulatedAgent[] = [];
    for (let i = 0; i < 100; i++) {
      const hostname = `sim-${String(i).padStart(3, '0')}`;
      const enrolled = await enrolAgent(admin, hostname, hostFacts(hostname));
      simulated.push({
        id: enrolled.agentId as string,
        api: pair[i % 2].api.as(enrolled.agentToken),
        seq: 0,
        spool: [] as ReturnType<typeof aReport>[],
        lastSeq: 0,
      });
    }
    // One real agent, with its own spool on disk.
    const agentDir = mkdtempSync(join(tmpdir(), 'dcm-agent-'));
    const join_ = await expectStatus(admin.post('/v1/tokens', { kind: 'join', uses: 1, expiresAt: new Date(Date.now() + 3_600_000).toISOString() }), 201);
    const agent = startAgent(agentDir, { controlUrl: pair[0].api.url, joinToken: join_.token, hostname: 'fault-agent', intervalSeconds: 1, storageMounts: [] });
    agents.push(agent);

    let stopLoad = false;
    let databaseAway = false;
    const unavailable = { admissions: 0, reports: 0 };
    /** Admissions sent while the database was stopped and answered 201 (none may be: nothing can commit then). */
    const admittedWhileAway: string[] = [];
    const otherAnswers: string[] = [];
    const admitting = async (index: number) => {
      const api = pair[index % 2].api.as(tokens[index]);
      for (let n = 0; !stopLoad; n++) {
        const key = `outage-${index}-${n}`;
        const request = { tenant: TENANTS[(index + n) % TENANTS.length], resources: { vcpu: 1, memory: '1GiB' } };
        // A client retries the same key until it has an answer other than 503: Idempotency-Key makes that safe.
        for (;;) {
          const sentWhileAway = databaseAway;
          const response = await bounded(key, api.post('/v1/allocations', request, { headers: { 'idempotency-key': key } }));
          if (response.status === 201) {
            answered.push({ key, id: response.body.id });
            if (sentWhileAway) admittedWhileAway.push(key);
          } else if (isUnavailableProblem(response)) {
            unavailable.admissions++;
            await pause(250);
            continue;
          } else otherAnswers.push(`${response.status} ${JSON.stringify(response.body)}`);
          break;
        }
        await pause(50);
      }
    };
    const reporting = async (agentState: SimulatedAgent) => {
      while (!stopLoad) {
        agentState.spool.push(aReport(++agentState.seq, { collectedAt: new Date().toISOString() }));
        const response = await bounded<{ lastSeq: number; refused?: unknown[] }>(
          `reports of ${agentState.id}`,
          agentState.api.post(`/v1/agents/${agentState.id}/reports`, agentState.spool),
        );
        if (response.status === 200) {
          expect(response.body.refused ?? []).toEqual([]);
          agentState.lastSeq = response.body.lastSeq;
          agentState.spool = agentState.spool.filter((report) => report.seq > response.body.lastSeq);
        } else if (isUnavailableProblem(response)) unavailable.reports++;
        else otherAnswers.push(`report ${response.status} ${JSON.stringify(response.body)}`);
        await pause(500);
      }
    };
    const load = Promise.all([...tokens.map((_, index) => admitting(index)), ...simulated.map(reporting)]);

    try {
      await eventually('the load to get going', async () => (answered.length >= 200 ? true : undefined), 30_000);
      await eventually(
        'the real agent to report',
        async () => (/"lastReportAt":"2/.test(JSON.stringify((await admin.get('/v1/hosts/fault-agent')).body)) ? true : undefined),
        30_000,
      );

      await cluster.stop();
      databaseAway = true;
      const answeredBefore = answered.length;
      // While it is away: readiness fails on both replicas, admissions and reports are 503 problems, nothing hangs.
      for (const replica of pair) {
        const ready = await bounded('ready', replica.api.get('/health/ready', { token: null }));
        expect(ready.status).toBe(503);
      }
      await eventually('503s for admissions and reports', async () => (unavailable.admissions > 0 && unavailable.reports > 0 ? true : undefined), 5_000);
      await pause(5_000);
      // A request that committed just before the stop may still be answered after it (once its audit seal has failed):
      // what must not happen is an admission sent while the database was away being acknowledged.
      expect(admittedWhileAway).toEqual([]);
      await cluster.start();
      databaseAway = false;

      // Both replicas serve again by themselves.
      await Promise.all(
        pair.map((replica) =>
          eventually(
            `${replica.name} ready again`,
            async () => ((await replica.api.get('/health/ready', { token: null })).status === 200 ? true : undefined),
            15_000,
          ),
        ),
      );
      await eventually('admissions after the outage', async () => (answered.length >= answeredBefore + 200 ? true : undefined), 15_000);
    } finally {
      stopLoad = true;
      await load;
    }
    expect(databaseAway).toBe(false);
    expect(otherAnswers).toEqual([]);

    // Every simulated agent's spool is replayed and accepted.
    for (const state of simulated) {
      if (state.spool.length > 0) {
        const replay = await expectStatus(state.api.post(`/v1/agents/${state.id}/reports`, state.spool), 200);
        state.lastSeq = replay.lastSeq;
      }
      expect({ id: state.id, lastSeq: state.lastSeq }).toEqual({ id: state.id, lastSeq: state.seq });
    }
    // The real agent replays its own spool once control answers again.
    await eventually('the real agent to drain its spool', async () => (agent.output().includes('spool drained') ? true : undefined), 30_000);
    await agent.stop();
    rmSync(agentDir, { recursive: true, force: true });

    // Every acknowledged allocation is there, once; nothing is half-written.
    const listed: { id: string; tenant: string; host: string; resources: { vcpu: number; memory: number } }[] = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await expectStatus(pair[1].api.get(`/v1/allocations?limit=1000&offset=${offset}`), 200);
      listed.push(...page);
      if (page.length < 1000) break;
    }
    const ids = new Set(listed.map((allocation) => allocation.id));
    expect(answered.filter(({ id }) => !ids.has(id))).toEqual([]);
    expect(listed.length).toBe(new Set(answered.map(({ key }) => key)).size);
    for (const slug of TENANTS) {
      const { quotas } = await expectStatus(pair[0].api.get(`/v1/tenants/${slug}/quotas`), 200);
      const mine = listed.filter((allocation) => allocation.tenant === slug);
      expect({ slug, vcpu: quotas.vcpu.allocated }).toEqual({ slug, vcpu: mine.reduce((sum, allocation) => sum + allocation.resources.vcpu, 0) });
    }
    await expect(expectStatus(pair[0].api.get('/v1/audit/verify'), 200)).resolves.toMatchObject({ intact: true, firstBroken: null });
    await stopReplicas(replicas.splice(0));
  }, 180_000);
});
