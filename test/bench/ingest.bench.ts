/**
 * `npm run bench -- ingest`: BENCH_AGENTS simulated agents (default 10,000, each enrolled for real with its own token)
 * post realistic reports (4 filesystems, 2 interfaces) with 200 concurrent connections for BENCH_SECONDS (default 20)
 * to control on SQLite, printing reports/s and latency, next to a bare node:http server's POST rate measured in the
 * same run. It ends by checking that control stored exactly the reports it acknowledged. Target: ≥ 5,000 reports/s,
 * p99 < 50 ms. BENCH_PROFILE=<dir> writes a CPU profile of control during the load to <dir> and summarises it.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Benchmark, dec, envNumber, int } from './support/benchmark';
import { startChild } from './support/child';
import type { ControlServerDetails } from './support/control-server';
import { formatProfileSummary, summariseProfile } from './support/cpuprofile';
import { closedLoops, Latencies } from './support/load';
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
function pool(origin: string) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Pool } = require('undici') as {
    Pool: new (
      origin: string,
      options: object,
    ) => { request(options: object): Promise<{ statusCode: number; body: { text(): Promise<string> } }>; close(): Promise<void> };
  };
  return new Pool(origin, { connections: CONCURRENCY, pipelining: 1 });
}

async function post(client: ReturnType<typeof pool>, path: string, body: unknown, token?: string): Promise<{ status: number; text: string }> {
  const answer = await client.request({
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: answer.statusCode, text: await answer.body.text() };
}

async function enrolAll(client: ReturnType<typeof pool>, count: number, adminToken: string): Promise<SimulatedAgent[]> {
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

async function postRate(origin: string, seconds: number, next: () => { path: string; body: unknown; token?: string }) {
  const client = pool(origin);
  // Open every connection before timing: a saturated Node server accepts about one new connection per event-loop turn.
  await Promise.all(
    Array.from({ length: CONCURRENCY }, () => client.request({ method: 'GET', path: '/health/live', headers: {} }).then((answer) => answer.body.text())),
  );
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
  return { rate: ok / elapsed, ok, errors, latencies };
}

export const ingest: Benchmark = async () => {
  const seconds = envNumber('BENCH_SECONDS', 20);
  const agentCount = envNumber('BENCH_AGENTS', 10_000);

  const bare = await startChild<{ url: string }>('bare-server.ts', {}, 'bare node:http server');
  const baseline = await postRate(bare.details.url, Math.min(seconds, 5), () => ({ path: '/', body: aReport(1) }));
  await bare.stop();

  const control = await startChild<ControlServerDetails>('control-server.ts', {}, 'control');
  try {
    const client = pool(control.details.url);
    const started = performance.now();
    const agents = await enrolAll(client, agentCount, control.details.adminToken);
    await client.close();
    console.log(`enrolled ${int(agentCount)} simulated agents in ${dec((performance.now() - started) / 1000)} s; posting reports for ${seconds} s…`);

    const profileDir = process.env.BENCH_PROFILE;
    if (profileDir) await control.startProfile();
    const cpuBefore = await control.cpuMicros();
    let cursor = 0;
    const result = await postRate(control.details.url, seconds, () => {
      // Agents take turns: with 10,000 agents and 200 connections no two requests of one agent are ever in flight.
      const agent = agents[cursor++ % agents.length];
      agent.seq += 1;
      return { path: `/v1/agents/${agent.agentId}/reports`, body: aReport(agent.seq, { collectedAt: new Date().toISOString() }), token: agent.token };
    });

    const cpuMicros = (await control.cpuMicros()) - cpuBefore;
    if (profileDir) {
      const profile = await control.stopProfile(join(profileDir, 'ingest.cpuprofile'));
      console.log(`  CPU profile of control during the load: ${profile}`);
      for (const line of formatProfileSummary(summariseProfile(profile, 25))) console.log(`    ${line}`);
    }

    const db = new Database(join(control.details.dataDir, 'dcm.sqlite'), { readonly: true });
    const stored = (db.prepare('SELECT SUM(last_seq) AS total FROM agents').get() as { total: number }).total;
    db.close();
    const sent = agents.reduce((total, agent) => total + agent.seq, 0);
    const consistent = stored === result.ok && result.errors === 0;

    const p99 = result.latencies.histogram.percentile(99) / 1e6;
    console.log(`  bare node:http  ${int(baseline.rate)} POST/s`);
    console.log(
      `  ingest          ${int(result.rate)} reports/s, ${result.latencies.summary()}, errors ${int(result.errors)}, ÷ bare ${dec(result.rate / baseline.rate)}`,
    );
    console.log(`  control CPU     ${dec(cpuMicros / Math.max(1, result.ok))} µs per report (${dec(cpuMicros / 1e4 / seconds)} % of a core)`);
    console.log(`  stored          ${int(stored)} of ${int(sent)} sent, ${int(result.ok)} acknowledged: ${consistent ? 'PASS' : 'FAIL'}`);
    console.log(
      `  target (≥ ${int(REPORTS_TARGET)} reports/s, p99 < ${P99_TARGET_MS} ms): ${result.rate >= REPORTS_TARGET && p99 < P99_TARGET_MS ? 'MET' : `MISSED (${int(result.rate)}/s, p99 ${dec(p99)} ms)`}`,
    );
    return consistent;
  } finally {
    await control.stop();
  }
};
