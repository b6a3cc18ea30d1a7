/**
 * `npm run bench -- ingest`: BENCH_AGENTS simulated agents (default 10,000, each enrolled for real with its own token)
 * post realistic reports (4 filesystems, 2 interfaces) to control on SQLite, then on PostgreSQL
 * (BENCH_BACKENDS=sqlite,postgres), in two phases of BENCH_SECONDS (default 20) each:
 *
 * - paced: the agents post at the target rate of 5,000 reports/s (each agent every 2 s), as agents on their interval
 *   do, whether or not earlier reports have been answered (open loop), giving the latency agents see at that rate.
 *   Latency is measured from when each report was due, so falling behind shows (no coordinated omission). The same
 *   paced client against the bare server shows how much of that is the load generator's own;
 * - capacity: 200 connections post as fast as control answers (closed loop), giving the most reports/s control can
 *   take, next to a bare node:http server's POST rate measured in the same run with the same client.
 *
 * Under closed-loop saturation latency is only concurrency ÷ throughput (Little's law), so the latency target is
 * judged in the paced phase. It ends by checking that control stored exactly the reports it acknowledged.
 * Target: capacity ≥ 5,000 reports/s; at 5,000 reports/s, p99 < 50 ms (SQLite); PostgreSQL's capacity ≥ 0.5× SQLite's.
 * BENCH_PROFILE=<dir> writes a CPU profile of control during the capacity phase to <dir> and summarises it.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Client } from 'pg';
import { createTestDatabase } from '../support/postgres';
import { Benchmark, dec, envList, envNumber, int } from './support/benchmark';
import { startChild } from './support/child';
import type { ControlServerDetails } from './support/control-server';
import { formatProfileSummary, summariseProfile } from './support/cpuprofile';
import { closedLoops, Latencies, openLoop } from './support/load';
import { aReport } from '../support/reports';

const CONCURRENCY = 200;
const ENROL_CONCURRENCY = 20;
const REPORTS_TARGET = 5_000;
const P99_TARGET_MS = 50;

interface SimulatedAgent {
  agentId: string;
  token: string;
  seq: number;
}

/** undici's Pool: per-request headers (each agent has its own token) over keep-alive connections. */
export function pool(origin: string) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Pool } = require('undici') as {
    Pool: new (
      origin: string,
      options: object,
    ) => { request(options: object): Promise<{ statusCode: number; body: { text(): Promise<string> } }>; close(): Promise<void> };
  };
  return new Pool(origin, { connections: CONCURRENCY, pipelining: 1 });
}

export async function post(client: ReturnType<typeof pool>, path: string, body: unknown, token?: string): Promise<{ status: number; text: string }> {
  const answer = await client.request({
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: answer.statusCode, text: await answer.body.text() };
}

export async function enrolAll(client: ReturnType<typeof pool>, count: number, adminToken: string): Promise<SimulatedAgent[]> {
  const join = JSON.parse((await post(client, '/v1/tokens', { kind: 'join', uses: count }, adminToken)).text) as { token: string };
  const agents: SimulatedAgent[] = new Array(count);
  const { inventory } = aReport(1);
  let next = 0;
  await Promise.all(
    Array.from({ length: ENROL_CONCURRENCY }, async () => {
      while (next < count) {
        const index = next++;
        const hostname = `sim-${String(index).padStart(5, '0')}`;
        const facts = {
          hostname,
          os: 'Debian GNU/Linux 12',
          kernel: '6.1.0',
          cpuModel: 'simulated',
          // What a real agent enrols with: the totals its reports then carry.
          logicalCores: inventory.vcpu,
          memoryTotalBytes: inventory.memoryBytes,
          storage: [{ mountpoint: '/srv', sizeBytes: inventory.storageBytes }],
        };
        const answer = await post(client, '/v1/agents/enrol', { joinToken: join.token, hostname, facts });
        if (answer.status !== 201) throw new Error(`enrolment ${hostname}: ${answer.status} ${answer.text}`);
        const { agentId, agentToken } = JSON.parse(answer.text) as { agentId: string; agentToken: string };
        agents[index] = { agentId, token: agentToken, seq: 0 };
      }
    }),
  );
  return agents;
}

/** A pool with every connection open: agents keep theirs alive, and a busy Node server accepts about one new connection per event-loop turn. */
export async function warmPool(origin: string) {
  const client = pool(origin);
  await Promise.all(
    Array.from({ length: CONCURRENCY }, () => client.request({ method: 'GET', path: '/health/live', headers: {} }).then((answer) => answer.body.text())),
  );
  return client;
}

async function postRate(origin: string, seconds: number, next: () => { path: string; body: unknown; token?: string }) {
  const client = await warmPool(origin);
  const latencies = new Latencies();
  let ok = 0;
  let errors = 0;
  const elapsed = await closedLoops(CONCURRENCY, seconds, async () => {
    const request = next();
    const done = latencies.start();
    const answer = await post(client, request.path, request.body, request.token).catch(() => ({ status: 0, text: '' }));
    done();
    if (answer.status >= 200 && answer.status < 300) ok++;
    else errors++;
  });
  await client.close();
  return { rate: ok / elapsed, seconds: elapsed, ok, errors, latencies };
}

async function pacedRate(origin: string, rate: number, seconds: number, next: () => { path: string; body: unknown; token?: string }) {
  const client = await warmPool(origin);
  const latencies = new Latencies();
  let ok = 0;
  let errors = 0;
  const { achievedRate } = await openLoop(
    rate,
    seconds,
    async () => {
      const request = next();
      const answer = await post(client, request.path, request.body, request.token).catch(() => ({ status: 0, text: '' }));
      if (answer.status >= 200 && answer.status < 300) ok++;
      else errors++;
    },
    latencies,
  );
  await client.close();
  return { achievedRate, ok, errors, latencies };
}

interface IngestResult {
  backend: string;
  capacity: number;
  capacityP99: number;
  pacedP99: number;
  microsPerReport: number;
  consistent: boolean;
}

/** Where control stores, and how to sum what it stored (the agents' last acknowledged seq). */
interface IngestBackend {
  name: string;
  settings(): Promise<{ settings: Record<string, unknown>; storedReports(dataDir: string): Promise<number>; cleanup(): Promise<void> }>;
}

const BACKENDS: Record<string, IngestBackend> = {
  sqlite: {
    name: 'SQLite',
    settings: async () => ({
      settings: {},
      async storedReports(dataDir) {
        const db = new Database(join(dataDir, 'dcm.sqlite'), { readonly: true });
        try {
          return (db.prepare('SELECT SUM(last_seq) AS total FROM agents').get() as { total: number }).total;
        } finally {
          db.close();
        }
      },
      cleanup: async () => undefined,
    }),
  },
  postgres: {
    name: 'PostgreSQL',
    async settings() {
      const database = await createTestDatabase();
      return {
        settings: { databaseUrl: database.url },
        async storedReports() {
          const client = new Client({ connectionString: database.url });
          await client.connect();
          try {
            return Number((await client.query<{ total: string }>('SELECT SUM(last_seq) AS total FROM agents')).rows[0].total);
          } finally {
            await client.end();
          }
        },
        cleanup: () => database.drop(),
      };
    },
  },
};

export const ingest: Benchmark = async () => {
  const seconds = envNumber('BENCH_SECONDS', 20);
  const agentCount = envNumber('BENCH_AGENTS', 10_000);
  const backendNames = envList('BENCH_BACKENDS', ['sqlite', 'postgres']);
  const unknown = backendNames.filter((name) => !BACKENDS[name]);
  if (unknown.length) throw new Error(`BENCH_BACKENDS: unknown backend(s) ${unknown.join(', ')}; known: ${Object.keys(BACKENDS).join(', ')}`);

  const bare = await startChild<{ url: string }>('bare-server.ts', {}, 'bare node:http server');
  const baseline = await postRate(bare.details.url, Math.min(seconds, 5), () => ({ path: '/', body: aReport(1) }));
  // The same paced client against the bare server: how much of the paced latency is the load generator's own.
  const bareLatencies = (await pacedRate(bare.details.url, REPORTS_TARGET, Math.min(seconds, 5), () => ({ path: '/', body: aReport(1) }))).latencies;
  await bare.stop();
  console.log(`bare node:http  ${int(baseline.rate)} POST/s; at ${int(REPORTS_TARGET)}/s: ${bareLatencies.summary()}`);

  const results: IngestResult[] = [];
  for (const name of backendNames) {
    console.log(`\n${BACKENDS[name].name}:`);
    results.push(await ingestOn(BACKENDS[name], seconds, agentCount, baseline.rate));
  }

  const sqlite = results.find((result) => result.backend === BACKENDS.sqlite.name);
  const postgres = results.find((result) => result.backend === BACKENDS.postgres.name);
  console.log(`\ningest summary (${seconds} s per phase, ${int(agentCount)} agents):`);
  for (const result of results) {
    console.log(
      `  ${result.backend.padEnd(10)} capacity ${int(result.capacity).padStart(6)} reports/s (p99 ${dec(result.capacityP99)} ms), ` +
        `${dec(result.microsPerReport)} µs of control CPU a report; paced p99 ${dec(result.pacedP99)} ms; stored ${result.consistent ? 'PASS' : 'FAIL'}`,
    );
  }
  if (sqlite && postgres) {
    const ratio = postgres.capacity / sqlite.capacity;
    console.log(`  target (PostgreSQL's capacity ≥ 0.5× SQLite's): ${ratio >= 0.5 ? 'MET' : 'MISSED'} (${ratio.toFixed(2)}×)`);
  }
  return results.every((result) => result.consistent);
};

async function ingestOn(backend: IngestBackend, seconds: number, agentCount: number, bareRate: number): Promise<IngestResult> {
  const store = await backend.settings();
  // Each agent reports far below the per-token limit, but the 10,000 enrolments all come from this one address: a limit
  // so high it never refuses, so that the limiter's per-request cost stays in the figures.
  const control = await startChild<ControlServerDetails>(
    'control-server.ts',
    { BENCH_CONTROL_SETTINGS: JSON.stringify({ rateLimitPerMinute: 10_000_000, ...store.settings }) },
    `control (${backend.name})`,
  );
  try {
    const client = pool(control.details.url);
    const started = performance.now();
    const agents = await enrolAll(client, agentCount, control.details.adminToken);
    await client.close();
    console.log(`enrolled ${int(agentCount)} simulated agents in ${dec((performance.now() - started) / 1000)} s`);

    let cursor = 0;
    const nextReport = () => {
      // Agents take turns: with 10,000 agents no two requests of one agent are ever in flight.
      const agent = agents[cursor++ % agents.length];
      agent.seq += 1;
      return { path: `/v1/agents/${agent.agentId}/reports`, body: aReport(agent.seq, { collectedAt: new Date().toISOString() }), token: agent.token };
    };

    // Paced first: the steady state of agents on their interval, which the latency target is about (a saturation
    // phase first would leave its backlog and garbage to the paced one). Steady state means agents that have reported
    // before: each agent's first report after enrolment creates its host's rows, once in the host's life, so one
    // round of first reports at the same rate warms up first, unmeasured.
    const rate = envNumber('BENCH_PACED_RATE', REPORTS_TARGET);
    const warmUp = await pacedRate(control.details.url, rate, agents.length / rate, nextReport);
    console.log(`  warm-up: every agent's first report at ${int(rate)}/s: ${warmUp.latencies.summary()}, errors ${int(warmUp.errors)}`);
    console.log(`  posting at ${int(rate)} reports/s for ${seconds} s…`);
    const pacedCpuBefore = await control.cpuMicros();
    const paced = await pacedRate(control.details.url, rate, seconds, nextReport);
    const pacedCpuMicros = (await control.cpuMicros()) - pacedCpuBefore;

    console.log(`  posting as fast as control answers for ${seconds} s…`);
    const profileDir = process.env.BENCH_PROFILE;
    if (profileDir) await control.startProfile();
    const cpuBefore = await control.cpuMicros();
    const capacity = await postRate(control.details.url, seconds, nextReport);
    const cpuMicros = (await control.cpuMicros()) - cpuBefore;
    if (profileDir) {
      const profile = await control.stopProfile(join(profileDir, `ingest-${backend.name.toLowerCase()}.cpuprofile`));
      console.log(`  CPU profile of control during the capacity phase: ${profile}`);
      for (const line of formatProfileSummary(summariseProfile(profile, 25))) console.log(`    ${line}`);
    }

    // Stopped first: control answers nothing more while the stored reports are summed.
    await control.stop();
    const stored = await store.storedReports(control.details.dataDir);
    const sent = agents.reduce((total, agent) => total + agent.seq, 0);
    const acknowledged = warmUp.ok + capacity.ok + paced.ok;
    const consistent = stored === acknowledged && warmUp.errors === 0 && capacity.errors === 0 && paced.errors === 0;

    const p99 = paced.latencies.histogram.percentile(99) / 1e6;
    const met = capacity.rate >= REPORTS_TARGET && p99 < P99_TARGET_MS && paced.achievedRate >= REPORTS_TARGET * 0.98;
    console.log(
      `  capacity        ${int(capacity.rate)} reports/s, ${capacity.latencies.summary()}, errors ${int(capacity.errors)}, ÷ bare ${dec(capacity.rate / bareRate)}`,
    );
    console.log(`  control CPU     ${dec(cpuMicros / Math.max(1, capacity.ok))} µs per report (${dec(cpuMicros / 1e4 / capacity.seconds)} % of a core)`);
    console.log(`  paced           ${int(paced.achievedRate)} reports/s offered ${int(rate)}/s: ${paced.latencies.summary()}, errors ${int(paced.errors)}`);
    console.log(
      `  control CPU     ${dec(pacedCpuMicros / Math.max(1, paced.ok))} µs per report at that rate (${dec(pacedCpuMicros / 1e4 / seconds)} % of a core)`,
    );
    console.log(`  stored          ${int(stored)} of ${int(sent)} sent, ${int(acknowledged)} acknowledged: ${consistent ? 'PASS' : 'FAIL'}`);
    console.log(
      `  target (capacity ≥ ${int(REPORTS_TARGET)} reports/s; at ${int(REPORTS_TARGET)}/s p99 < ${P99_TARGET_MS} ms): ${met ? 'MET' : `MISSED (${int(capacity.rate)}/s, p99 ${dec(p99)} ms)`}`,
    );
    return {
      backend: backend.name,
      capacity: capacity.rate,
      capacityP99: capacity.latencies.histogram.percentile(99) / 1e6,
      pacedP99: p99,
      microsPerReport: cpuMicros / Math.max(1, capacity.ok),
      consistent,
    };
  } finally {
    await control.stop();
    await store.cleanup();
  }
}
