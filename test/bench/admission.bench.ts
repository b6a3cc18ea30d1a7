/**
 * Admission benchmark: many clients creating and releasing allocations at once, against a facility of 500 tenants and
 * 2,000 hosts, on SQLite, on PostgreSQL with one control replica and with two (one database). Targets: ≥ 1,000
 * admissions/s on SQLite; one PostgreSQL replica ≥ 0.5× SQLite's admissions/s with p99 ≤ 2× SQLite's; two replicas
 * ≥ 0.9× one; zero over-commit (checked by summing the database directly at the end of each run).
 *
 * Control runs in a child process (see support/control-server.ts); this process only generates load. A bare node:http
 * server, driven by the same client at the same concurrency, gives the ceiling to compare against. Each replica first
 * serves unmeasured admit-and-release pairs (see warmUpAdmissions), so that every backend is measured warm.
 *
 * Environment:
 *   BENCH_SECONDS=20            load duration per backend
 *   BENCH_BASELINE_SECONDS=5    baseline duration (default: the smaller of 5 and BENCH_SECONDS)
 *   BENCH_CLIENTS=200           concurrent client loops
 *   BENCH_BACKENDS=sqlite,postgres,postgres-2   postgres-2: two control replicas on one database, clients split across them
 *   BENCH_CLIENT=undici|fetch   HTTP client (default undici when installed)
 *   BENCH_PROFILE=<dir>         write a CPU profile of control during each load phase to <dir> and summarise it
 *   DCM_TEST_POSTGRES_URL       the PostgreSQL server test databases are made on (see test/support/postgres.ts)
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createTestDatabase, TestDatabase } from '../support/postgres';
import { Benchmark, cleanupOnInterrupt, dec, envList, envNumber, inParallel, int, ms, prng } from './support/benchmark';
import { RunningChild, startChild } from './support/child';
import type { ControlServerDetails } from './support/control-server';
import { formatProfileSummary, summariseProfile } from './support/cpuprofile';
import { clientKind, createHttpClient, HttpAnswer, HttpClient } from './support/http-client';
import { closedLoops, Latencies, Timeline } from './support/load';
import { checkOverCommit, DatabaseReader, OverCommitReport, postgresReader, sqliteReader } from './support/overcommit';

const TENANTS = 500;
const HOSTS = 2_000;
const SITES = ['site-a', 'site-b', 'site-c', 'site-d'] as const;
const SEED_CONCURRENCY = 50;
const TARGET_ADMISSIONS_PER_SECOND = 1_000;
/** Hosts that clients name explicitly (10 % of requests): a "pinned" rack that fills early and then refuses. */
const PINNED_HOSTS = 40;
const NAMED_HOST_SHARE = 0.1;
const RELEASE_PROBABILITY = 0.5;
const VCPU_CHOICES = [1, 1, 2, 2, 4, 4, 8];
const MEMORY_GIB_CHOICES = [1, 2, 4, 8, 16];
const GIB = 2 ** 30;

type Tier = 'tight' | 'medium' | 'generous';

interface Facility {
  tenants: { slug: string; tier: Tier; quotas: Record<string, number | string> }[];
  hosts: { name: string; site: string; rack: string; inventories: Record<string, Record<string, number | string>> }[];
  pinned: string[];
}

/**
 * The facility is sized from the run's length so that the last part of the run meets refusals of every kind:
 * - 5 % of tenants have tight quotas (QuotaExceeded within seconds), 10 % medium ones (binding about half-way through
 *   a 20 s run at the target rate), the rest generous ones;
 * - the 2,000 hosts together hold what about 80 % of the run admits at the target rate (each POST adds ~0.5 active
 *   allocations net, since loops release half as often as they ask; ~3.1 vCPU and ~6.2 GiB each), so that placement
 *   starts answering InsufficientCapacity towards the end; the four sites have different shapes, so vCPU binds on
 *   some and memory on others. Runs shorter than 20 s keep the 20 s shapes (the largest request must fit an empty
 *   host), so they meet fewer refusals; the pinned hosts that 10 % of requests name fill within seconds in any run.
 */
function planFacility(seconds: number): Facility {
  // Hosts never shrink below the 20 s shape, so that the largest request (8 vCPU, 16 GiB) always fits an empty host.
  const f = Math.max(1, seconds / 20);
  const tenants = Array.from({ length: TENANTS }, (_, index) => {
    const slug = `t-${String(index).padStart(3, '0')}`;
    const tier: Tier = index % 20 === 0 ? 'tight' : index % 10 === 5 ? 'medium' : 'generous';
    const quotas: Record<string, number | string> =
      tier === 'tight'
        ? { vcpu: 8, memory: '16GiB', storage: '1TiB' }
        : tier === 'medium'
          ? { vcpu: Math.max(8, Math.round(32 * f)), memory: `${Math.max(16, Math.round(64 * f))}GiB`, storage: '10TiB' }
          : { vcpu: 1_000_000, memory: '1PiB', storage: '1PiB' };
    return { slug, tier, quotas };
  });
  // Per site: physical cores (vCPU allocation ratio 4) and GiB of memory per host, for a 20 s run.
  const shapes: Record<(typeof SITES)[number], { cores: number; memoryGiB: number; reservedGiB: number }> = {
    'site-a': { cores: 3, memoryGiB: 24, reservedGiB: 0 },
    'site-b': { cores: 4, memoryGiB: 17, reservedGiB: 1 },
    'site-c': { cores: 2, memoryGiB: 32, reservedGiB: 0 },
    'site-d': { cores: 3, memoryGiB: 30, reservedGiB: 2 },
  };
  const hosts = Array.from({ length: HOSTS }, (_, index) => {
    const site = SITES[index % SITES.length];
    const shape = shapes[site];
    const memoryGiB = Math.max(2, Math.round(shape.memoryGiB * f));
    const reservedGiB = memoryGiB > 4 * shape.reservedGiB ? shape.reservedGiB : 0;
    return {
      name: `bench-${site.slice(-1)}${String(index).padStart(4, '0')}`,
      site,
      rack: `r${String(Math.floor(index / 40)).padStart(2, '0')}`,
      inventories: {
        vcpu: { total: Math.max(1, Math.round(shape.cores * f)), allocationRatio: 4 },
        memory: { total: `${memoryGiB}GiB`, reserved: `${reservedGiB}GiB` },
        storage: { total: '4TiB', reserved: '100GiB' },
      },
    };
  });
  return { tenants, hosts, pinned: hosts.slice(0, PINNED_HOSTS).map((host) => host.name) };
}

async function seed(api: HttpClient, facility: Facility): Promise<void> {
  const expect = async (method: 'POST' | 'PUT', path: string, body: unknown, status: number) => {
    const answer = await api.request(method, path, body);
    if (answer.status !== status) throw new Error(`seeding: ${method} ${path} answered ${answer.status}: ${answer.body.slice(0, 500)}`);
  };
  await inParallel(facility.tenants, SEED_CONCURRENCY, async (tenant) => {
    await expect('POST', '/v1/tenants', { slug: tenant.slug, name: `Bench tenant ${tenant.slug} (${tenant.tier})` }, 201);
    await expect('PUT', `/v1/tenants/${tenant.slug}/quotas`, tenant.quotas, 200);
  });
  await inParallel(facility.hosts, SEED_CONCURRENCY, async (host) => {
    await expect('POST', '/v1/hosts', host, 201);
  });
}

interface LoadResult {
  /** Wall time until the last answer; rates are per this. */
  seconds: number;
  configuredSeconds: number;
  posts: number;
  admissions: number;
  refusals: Map<string, number>;
  releases: number;
  errors: Map<string, number>;
  post: Latencies;
  admitted: Latencies;
  refused: Latencies;
  release: Latencies;
  timeline: Timeline;
  /** Share of one core that control's process and this load generator used during the load. */
  serverCpu: number;
  clientCpu: number;
  loadAverage: number[];
  /** The slowest POSTs: when they were sent (seconds into the run), how long they took, what they asked. */
  slowest: { sentAt: number; nanos: number; status: number; request: string }[];
  /** Each replica's peak resident memory (VmHWM) in MiB, as the load ends. */
  peakRssMiB: number[];
  /** PostgreSQL: the database connections open as the load ends, by application_name with the pid left out. */
  connections: Map<string, number>;
}

const SLOWEST_KEPT = 5;

/** Client loop i speaks to apis[i % apis.length] (one per control replica). */
async function generateLoad(apis: HttpClient[], facility: Facility, clients: number, seconds: number): Promise<LoadResult> {
  const result: LoadResult = {
    seconds: 0,
    configuredSeconds: seconds,
    posts: 0,
    admissions: 0,
    refusals: new Map(),
    releases: 0,
    errors: new Map(),
    post: new Latencies(),
    admitted: new Latencies(),
    refused: new Latencies(),
    release: new Latencies(),
    timeline: new Timeline(),
    serverCpu: 0,
    clientCpu: 0,
    loadAverage: [],
    slowest: [],
    peakRssMiB: [],
    connections: new Map(),
  };
  const started = process.hrtime.bigint();
  const error = (what: string, status: number, body: string) => {
    const key = `${what} → ${status} ${body.slice(0, 300)}`;
    result.errors.set(key, (result.errors.get(key) ?? 0) + 1);
    result.timeline.add('errors');
  };
  const loops = Array.from({ length: clients }, (_, loop) => ({ random: prng(0x5eed + loop), held: [] as string[] }));
  const slugs = facility.tenants.map((tenant) => tenant.slug);

  result.seconds = await closedLoops(clients, seconds, async (index) => {
    const { random, held } = loops[index];
    const api = apis[index % apis.length];
    const pick = <T>(choices: readonly T[]) => choices[Math.floor(random() * choices.length)];
    const memoryGiB = pick(MEMORY_GIB_CHOICES);
    const body: { tenant: string; resources: Record<string, number | string>; host?: string } = {
      tenant: pick(slugs),
      // Half the memory amounts as IEC strings, half as plain bytes: both are what clients send.
      resources: { vcpu: pick(VCPU_CHOICES), memory: random() < 0.5 ? `${memoryGiB}GiB` : memoryGiB * GIB },
    };
    if (random() < NAMED_HOST_SHARE) body.host = pick(facility.pinned);

    const sent = process.hrtime.bigint();
    let answer: HttpAnswer;
    try {
      answer = await api.request('POST', '/v1/allocations', body);
    } catch (failure) {
      error('POST /v1/allocations', 0, (failure as Error).message);
      return;
    }
    const nanos = Math.max(1, Number(process.hrtime.bigint() - sent));
    result.post.histogram.record(nanos);
    result.posts++;
    if (result.slowest.length < SLOWEST_KEPT || nanos > result.slowest[result.slowest.length - 1].nanos) {
      const sentAt = Number(sent - started) / 1e9;
      result.slowest.push({ sentAt, nanos, status: answer.status, request: JSON.stringify(body) });
      result.slowest.sort((a, b) => b.nanos - a.nanos);
      result.slowest.length = Math.min(result.slowest.length, SLOWEST_KEPT);
    }
    if (answer.status === 201) {
      result.admissions++;
      result.admitted.histogram.record(nanos);
      result.timeline.add('admissions');
      held.push((JSON.parse(answer.body) as { id: string }).id);
    } else if (answer.status === 409) {
      const code = (JSON.parse(answer.body) as { code?: string }).code ?? '(no code)';
      result.refusals.set(code, (result.refusals.get(code) ?? 0) + 1);
      result.refused.histogram.record(nanos);
      result.timeline.add(`refusals ${code}`);
    } else {
      error('POST /v1/allocations', answer.status, answer.body);
    }

    if (held.length > 0 && random() < RELEASE_PROBABILITY) {
      const at = Math.floor(random() * held.length);
      const id = held[at];
      held[at] = held[held.length - 1];
      held.pop();
      const released = result.release.start();
      let reply: HttpAnswer;
      try {
        reply = await api.request('DELETE', `/v1/allocations/${id}`);
      } catch (failure) {
        error('DELETE /v1/allocations/:id', 0, (failure as Error).message);
        return;
      }
      released();
      if (reply.status === 200) {
        result.releases++;
        result.timeline.add('releases');
      } else {
        error('DELETE /v1/allocations/:id', reply.status, reply.body);
      }
    }
  });
  return result;
}

/** Admit-then-release pairs each replica serves before the measured load, WARM_UP_LOOPS at a time. */
const WARM_UP_PAIRS = 400;
const WARM_UP_LOOPS = 20;

/**
 * Runs admission and release on every replica before the load is measured, so that each measures warm (its code
 * compiled by V8's optimising tier, its pools and catalog in use), as a replica that has served for a while is, rather
 * than its first second: a second replica started for the run otherwise answered almost nothing in its first second
 * (0–73 admissions against 164–241 for one warm replica), which a 10 s run weighs heavily. Every backend gets the
 * same. Each warm-up allocation is released at once, so the facility and the ledger check are as before; a failure
 * fails the run.
 */
async function warmUpAdmissions(apis: HttpClient[], facility: Facility): Promise<void> {
  const slugs = facility.tenants.map((tenant) => tenant.slug);
  await Promise.all(
    apis.map((api, replica) => {
      let next = 0;
      const random = prng(0xa11ce + replica);
      return Promise.all(
        Array.from({ length: WARM_UP_LOOPS }, async () => {
          while (next++ < WARM_UP_PAIRS) {
            const body = { tenant: slugs[Math.floor(random() * slugs.length)], resources: { vcpu: 1, memory: '1GiB' } };
            const admitted = await api.request('POST', '/v1/allocations', body);
            if (admitted.status === 409) continue;
            if (admitted.status !== 201) throw new Error(`warm-up: POST /v1/allocations answered ${admitted.status} ${admitted.body.slice(0, 300)}`);
            const { id } = JSON.parse(admitted.body) as { id: string };
            const released = await api.request('DELETE', `/v1/allocations/${id}`);
            if (released.status !== 200) throw new Error(`warm-up: DELETE /v1/allocations/${id} answered ${released.status} ${released.body.slice(0, 300)}`);
          }
        }),
      );
    }),
  );
}

interface BackendResult {
  backend: string;
  load: LoadResult;
  overCommit: OverCommitReport;
  ledgerMatches: boolean;
  seedSeconds: number;
  passed: boolean;
}

interface RunningBackend {
  /** The control replicas (one, until startReplicas()). */
  servers: RunningChild<ControlServerDetails>[];
  /** Starts the other replicas on the same database: after seeding, so that each loads the facility at its start. */
  startReplicas(): Promise<void>;
  reader(): Promise<DatabaseReader>;
  /** PostgreSQL: the connections open on the database, by the role their application_name gives (pid left out). */
  connections?(): Promise<Map<string, number>>;
  cleanup(): Promise<void>;
}

interface Backend {
  name: string;
  /** Starts control on this backend; returns how to read its database and how to clean up. */
  start(): Promise<RunningBackend>;
}

/** Starts control in a child process on a fresh data directory (bootstrap token; the SQLite file unless databaseUrl). */
async function startControl(label: string, settings: Record<string, unknown>, cleanups: (() => Promise<void>)[]): Promise<RunningChild<ControlServerDetails>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dcm-bench-'));
  cleanups.unshift(async () => rmSync(dataDir, { recursive: true, force: true }));
  const server = await startChild<ControlServerDetails>(
    'control-server.ts',
    // 200 clients share the admin token at well over the default 1,200 requests a minute: a limit so high it never
    // refuses, so that the limiter's per-request cost stays in the figures.
    { BENCH_CONTROL_SETTINGS: JSON.stringify({ logLevel: 'warn', rateLimitPerMinute: 10_000_000, ...settings, dataDir }) },
    `control (${label})`,
  );
  cleanups.unshift(() => server.stop());
  return server;
}

/** Runs the cleanups in order (each even when an earlier one failed), once, also on Ctrl-C; rethrows the first failure. */
function cleanupAll(cleanups: (() => Promise<void>)[]): () => Promise<void> {
  let running: Promise<void> | undefined;
  const run = () =>
    (running ??= (async () => {
      forget();
      let firstFailure: unknown;
      for (const cleanup of cleanups) {
        try {
          await cleanup();
        } catch (failure) {
          firstFailure ??= failure;
        }
      }
      if (firstFailure !== undefined) throw firstFailure;
    })());
  const forget = cleanupOnInterrupt(run);
  return run;
}

const BACKENDS: Record<string, Backend> = {
  sqlite: {
    name: 'SQLite',
    async start() {
      const cleanups: (() => Promise<void>)[] = [];
      const cleanup = cleanupAll(cleanups);
      try {
        const server = await startControl('SQLite', {}, cleanups);
        return {
          servers: [server],
          startReplicas: async () => undefined,
          reader: async () => sqliteReader(join(server.details.dataDir, 'dcm.sqlite')),
          cleanup,
        };
      } catch (error) {
        await cleanup();
        throw error;
      }
    },
  },
  postgres: postgresBackend('PostgreSQL', 1),
  'postgres-2': postgresBackend('PostgreSQL ×2', 2),
};

/** Control on a fresh PostgreSQL database, as `replicas` processes sharing it (each with its own pool and sealer). */
function postgresBackend(name: string, replicas: number): Backend {
  return {
    name,
    async start() {
      const cleanups: (() => Promise<void>)[] = [];
      const cleanup = cleanupAll(cleanups);
      try {
        const database: TestDatabase = await createTestDatabase();
        cleanups.unshift(() => database.drop());
        const first = await startControl(name, { databaseUrl: database.url }, cleanups);
        const servers = [first];
        const startReplicas = async () => {
          for (let replica = 2; replica <= replicas; replica++) {
            servers.push(await startControl(`${name}, replica ${replica}`, { databaseUrl: database.url, adminToken: first.details.adminToken }, cleanups));
          }
        };
        const connections = async () => {
          const reader = await postgresReader(database.url);
          try {
            const rows = await reader.query<{ role: string; count: string }>(
              `SELECT regexp_replace(application_name, ' .*', '') AS role, count(*) AS count FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid() GROUP BY 1 ORDER BY 1`,
            );
            return new Map(rows.map((row) => [row.role, Number(row.count)]));
          } finally {
            await reader.close();
          }
        };
        return { servers, startReplicas, reader: () => postgresReader(database.url), connections, cleanup };
      } catch (error) {
        await cleanup();
        throw error;
      }
    },
  };
}

async function runBackend(backend: Backend, clients: number, seconds: number, profileDir: string | undefined): Promise<BackendResult> {
  const running = await backend.start();
  try {
    const { servers } = running;
    const [server] = servers;
    const facility = planFacility(seconds);
    const seedClient = createHttpClient(server.details.url, server.details.adminToken, SEED_CONCURRENCY);
    const seedStarted = performance.now();
    try {
      await seed(seedClient, facility);
    } finally {
      await seedClient.close();
    }
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    await running.startReplicas();
    console.log(
      `  seeded ${int(TENANTS)} tenants with quotas and ${int(HOSTS)} hosts in ${dec(seedSeconds)} s; loading for ${seconds} s` +
        (servers.length > 1 ? ` across ${servers.length} replicas…` : '…'),
    );

    const perReplica = Math.ceil(clients / servers.length);
    const apis = servers.map((replica) => createHttpClient(replica.details.url, server.details.adminToken, perReplica));
    const cpuOfServers = async () => (await Promise.all(servers.map((replica) => replica.cpuMicros()))).reduce((sum, micros) => sum + micros, 0);
    let load: LoadResult;
    try {
      for (const api of apis) await api.warmUp(perReplica, '/health/live');
      await warmUpAdmissions(apis, facility);
      if (profileDir) for (const replica of servers) await replica.startProfile();
      const serverCpuBefore = await cpuOfServers();
      const clientCpuBefore = process.cpuUsage();
      load = await generateLoad(apis, facility, clients, seconds);
      const clientCpu = process.cpuUsage(clientCpuBefore);
      load.serverCpu = ((await cpuOfServers()) - serverCpuBefore) / (load.seconds * 1e6);
      load.clientCpu = (clientCpu.user + clientCpu.system) / (load.seconds * 1e6);
      load.loadAverage = loadavg();
      load.peakRssMiB = servers.map((replica) => peakRssMiB(replica.pid));
      load.connections = (await running.connections?.()) ?? new Map();
    } finally {
      await Promise.all(apis.map((api) => api.close()));
    }
    let profile: string | undefined;
    const profileName = backend.name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    if (profileDir) {
      for (const [index, replica] of servers.entries()) {
        const path = await replica.stopProfile(join(profileDir, `admission-${profileName}${index > 0 ? `-replica-${index + 1}` : ''}.cpuprofile`));
        profile ??= path;
      }
    }

    // Stop control before reading: nothing can be written any more while the sums are taken.
    for (const replica of servers) await replica.stop();
    const reader = await running.reader();
    let overCommit: OverCommitReport;
    try {
      overCommit = await checkOverCommit(reader);
    } finally {
      await reader.close();
    }
    const ledgerMatches = overCommit.activeAllocations === load.admissions - load.releases;
    const result: BackendResult = {
      backend: backend.name,
      load,
      overCommit,
      ledgerMatches,
      seedSeconds,
      passed: overCommit.passed && ledgerMatches && load.errors.size === 0,
    };
    printBackend(result);
    if (profile) {
      console.log(`  CPU profile of control during the load: ${profile}`);
      for (const line of formatProfileSummary(summariseProfile(profile, 25))) console.log(`    ${line}`);
    }
    return result;
  } finally {
    await running.cleanup();
  }
}

function printBackend({ load, overCommit, ledgerMatches }: BackendResult): void {
  const rate = (count: number) => `${dec(count / load.seconds)}/s`;
  const refusals = [...load.refusals].sort((a, b) => b[1] - a[1]);
  const refusedTotal = refusals.reduce((sum, [, count]) => sum + count, 0);
  const errorTotal = [...load.errors.values()].reduce((sum, count) => sum + count, 0);
  console.log(`  POSTs         ${int(load.posts)} in ${dec(load.seconds)} s = ${rate(load.posts)}`);
  console.log(`  admissions    ${rate(load.admissions)}  (${int(load.admissions)} × 201)`);
  console.log(
    `  refusals      ${rate(refusedTotal)}  (${refusals.length ? refusals.map(([code, count]) => `${code} ${rate(count)} = ${int(count)}`).join(', ') : 'none'})`,
  );
  console.log(`  releases      ${rate(load.releases)}  (${int(load.releases)} × DELETE 200)`);
  console.log(`  POST latency  ${load.post.summary()}`);
  console.log(`    201 only    ${load.admitted.summary()}`);
  console.log(`    409 only    ${load.refused.summary()}`);
  console.log(`  DELETE        ${load.release.summary()}`);
  console.log(`  slowest POSTs (sent at, took, answer, request):`);
  for (const slow of load.slowest) console.log(`    ${dec(slow.sentAt).padStart(6)} s  ${ms(slow.nanos).padStart(9)}  ${slow.status}  ${slow.request}`);
  console.log(
    `  CPU           control ${(load.serverCpu * 100).toFixed(0)} % of a core, load generator ${(load.clientCpu * 100).toFixed(0)} %; ` +
      `machine load average ${load.loadAverage.map((value) => value.toFixed(2)).join(' ')} on ${availableParallelism()} cores`,
  );
  console.log(
    `  per replica   peak RSS ${load.peakRssMiB.map((mib) => `${dec(mib)} MiB`).join(', ')}` +
      (load.connections.size
        ? `; database connections at the end of the load: ${[...load.connections].map(([role, count]) => `${role} ${count}`).join(', ')}`
        : ''),
  );
  console.log(`  errors        ${int(errorTotal)}`);
  for (const [what, count] of [...load.errors].slice(0, 10)) console.log(`    ${int(count)} × ${what}`);
  console.log(`  per second of the run (after "|": answers that came after the deadline):`);
  for (const line of load.timeline.lines(load.configuredSeconds)) console.log(`    ${line}`);
  console.log(
    `  over-commit check: ${overCommit.passed ? 'PASS' : 'FAIL'} — ${int(overCommit.quotaRows)} quota rows and ${int(overCommit.inventoryRows)} inventory rows ` +
      `summed against ${int(overCommit.activeAllocations)} active allocations (${int(overCommit.activeItems)} items)` +
      (overCommit.passed ? '' : `; ${int(overCommit.violationCount)} violation(s):`),
  );
  for (const violation of overCommit.violations) console.log(`    ${violation}`);
  console.log(
    `  ledger check:      ${ledgerMatches ? 'PASS' : 'FAIL'} — ${int(load.admissions)} admitted − ${int(load.releases)} released = ${int(load.admissions - load.releases)}, ` +
      `database holds ${int(overCommit.activeAllocations)} active`,
  );
}

/** A process's peak resident memory so far (VmHWM), in MiB; 0 when /proc does not say. */
function peakRssMiB(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

interface BaselineResult {
  seconds: number;
  posts: number;
  errors: number;
  latency: Latencies;
  serverCpu: number;
  clientCpu: number;
}

/** The same client and concurrency against a bare node:http server, POST only. */
async function runBaseline(clients: number, seconds: number): Promise<BaselineResult> {
  const server = await startChild<{ url: string }>('bare-server.ts', {}, 'bare node:http server');
  try {
    const api = createHttpClient(server.details.url, 'bench', clients);
    await api.warmUp(clients, '/');
    const latency = new Latencies();
    let posts = 0;
    let errors = 0;
    const body = { tenant: 't-001', resources: { vcpu: 2, memory: '4GiB' } };
    const serverCpuBefore = await server.cpuMicros();
    const clientCpuBefore = process.cpuUsage();
    try {
      const elapsed = await closedLoops(clients, seconds, async () => {
        const done = latency.start();
        const answer = await api.request('POST', '/v1/allocations', body);
        done();
        if (answer.status === 201) posts++;
        else errors++;
      });
      const clientCpu = process.cpuUsage(clientCpuBefore);
      return {
        seconds: elapsed,
        posts,
        errors,
        latency,
        serverCpu: ((await server.cpuMicros()) - serverCpuBefore) / (elapsed * 1e6),
        clientCpu: (clientCpu.user + clientCpu.system) / (elapsed * 1e6),
      };
    } finally {
      await api.close();
    }
  } finally {
    await server.stop();
  }
}

export const admission: Benchmark = async () => {
  const seconds = envNumber('BENCH_SECONDS', 20);
  const baselineSeconds = envNumber('BENCH_BASELINE_SECONDS', Math.min(5, seconds));
  const clients = Math.round(envNumber('BENCH_CLIENTS', 200));
  const backendNames = envList('BENCH_BACKENDS', ['sqlite', 'postgres', 'postgres-2']);
  const unknown = backendNames.filter((name) => !BACKENDS[name]);
  if (unknown.length) throw new Error(`BENCH_BACKENDS: unknown backend(s) ${unknown.join(', ')}; known: ${Object.keys(BACKENDS).join(', ')}`);
  const profileDir = process.env.BENCH_PROFILE ? resolve(process.env.BENCH_PROFILE) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const kind = clientKind();

  console.log(
    `admission: ${clients} concurrent clients, ${int(TENANTS)} tenants, ${int(HOSTS)} hosts, ${seconds} s per backend; client ${kind}; ` +
      `target ≥ ${int(TARGET_ADMISSIONS_PER_SECOND)} admissions/s on SQLite with no over-commit`,
  );

  const baseline = await runBaseline(clients, baselineSeconds);
  const bareRate = baseline.posts / baseline.seconds;
  console.log(
    `\nbaseline: bare node:http server, same client (${kind}) and concurrency, POST only, ${dec(baseline.seconds)} s: ` +
      `${dec(bareRate)} POST/s, ${baseline.latency.summary()}, errors ${int(baseline.errors)}; ` +
      `CPU: server ${(baseline.serverCpu * 100).toFixed(0)} %, load generator ${(baseline.clientCpu * 100).toFixed(0)} % of a core`,
  );

  const results: BackendResult[] = [];
  let passed = baseline.errors === 0;
  for (const name of backendNames) {
    const backend = BACKENDS[name];
    console.log(`\n${backend.name}:`);
    try {
      const result = await runBackend(backend, clients, seconds, profileDir);
      results.push(result);
      passed &&= result.passed;
    } catch (error) {
      console.log(`  FAILED to run: ${(error as Error).stack ?? error}`);
      passed = false;
    }
  }

  console.log(`\nadmission summary (${seconds} s, ${clients} clients, client ${kind}, bare node:http ${dec(bareRate)} POST/s):`);
  for (const { backend, load, overCommit, ledgerMatches } of results) {
    const admissionRate = load.admissions / load.seconds;
    const refused = [...load.refusals.values()].reduce((sum, count) => sum + count, 0);
    const errors = [...load.errors.values()].reduce((sum, count) => sum + count, 0);
    console.log(
      `  ${backend.padEnd(10)} ${dec(admissionRate).padStart(8)} admissions/s  ${dec(refused / load.seconds).padStart(7)} refusals/s  ` +
        `${dec(load.releases / load.seconds).padStart(7)} releases/s  POST p50 ${(load.post.histogram.percentile(50) / 1e6).toFixed(1)} ms ` +
        `p99 ${(load.post.histogram.percentile(99) / 1e6).toFixed(1)} ms  errors ${errors}  over-commit ${overCommit.passed ? 'PASS' : 'FAIL'}  ` +
        `ledger ${ledgerMatches ? 'PASS' : 'FAIL'}  ÷ bare ${(admissionRate / bareRate).toFixed(3)}`,
    );
  }
  const byName = (name: string) => results.find((result) => result.backend === name);
  const rateOf = (result: BackendResult) => result.load.admissions / result.load.seconds;
  const p99Of = (result: BackendResult) => result.load.post.histogram.percentile(99) / 1e6;
  const met = (ok: boolean) => (ok ? 'MET' : 'MISSED');
  const sqlite = byName('SQLite');
  const postgres = byName(BACKENDS.postgres.name);
  const postgresTwo = byName(BACKENDS['postgres-2'].name);
  if (sqlite) {
    const rate = rateOf(sqlite);
    console.log(`  target (SQLite ≥ ${int(TARGET_ADMISSIONS_PER_SECOND)} admissions/s): ${met(rate >= TARGET_ADMISSIONS_PER_SECOND)} (${dec(rate)}/s)`);
  }
  if (sqlite && postgres) {
    const rateRatio = rateOf(postgres) / rateOf(sqlite);
    const p99Ratio = p99Of(postgres) / p99Of(sqlite);
    console.log(`  target (one PostgreSQL replica ≥ 0.5× SQLite's admissions/s): ${met(rateRatio >= 0.5)} (${rateRatio.toFixed(2)}×)`);
    console.log(`  target (one PostgreSQL replica's POST p99 ≤ 2× SQLite's): ${met(p99Ratio <= 2)} (${p99Ratio.toFixed(2)}×)`);
  }
  if (postgres && postgresTwo) {
    const ratio = rateOf(postgresTwo) / rateOf(postgres);
    console.log(`  target (two PostgreSQL replicas ≥ 0.9× one): ${met(ratio >= 0.9)} (${ratio.toFixed(2)}×)`);
  }
  console.log(`  over-commit and errors: ${passed ? 'PASS' : 'FAIL'}`);
  return passed;
};
