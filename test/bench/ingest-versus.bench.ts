/**
 * `BENCH_VERSUS=<checkout> npm run bench -- ingest-versus`: this checkout's control against another checkout's (an
 * earlier commit, say, with its own node_modules), under the same ingest load in the same run, to tell what a change
 * costs on a machine whose speed varies by 2× from run to run (and within one, with whatever else it is doing).
 *
 * Each control runs in its own process, from its own sources and on its own SQLite database, with BENCH_AGENTS
 * (default 10,000) simulated agents enrolled and one unmeasured round of first reports. Then BENCH_SLICES (default
 * 12) slices of BENCH_SLICE_SECONDS (default 3) each post as fast as a control answers over 200 connections, to one
 * control and then the other, in the order A B B A A B B A… so that a drift in the machine's speed weighs on both
 * alike. For each: reports/s, control CPU per report (what the change costs, less sensitive to what else runs) and
 * the ratio of this checkout to the other. It ends by checking that each control stored exactly the reports it
 * acknowledged. BENCH_PROFILE=<dir> writes a CPU profile of each control over the slices to <dir> and summarises it.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { aReport } from '../support/reports';
import { Benchmark, dec, envNumber, int } from './support/benchmark';
import { REPO_ROOT, RunningChild, startChild } from './support/child';
import type { ControlServerDetails } from './support/control-server';
import { formatProfileSummary, summariseProfile } from './support/cpuprofile';
import { closedLoops } from './support/load';
import { enrolAll, pool, post, warmPool } from './ingest.bench';

const CONCURRENCY = 200;

interface Side {
  label: string;
  control: RunningChild<ControlServerDetails>;
  agents: { agentId: string; token: string; seq: number }[];
  cursor: number;
  ok: number;
  errors: number;
  seconds: number;
  cpuMicros: number;
}

function nextReport(side: Side) {
  // Agents take turns: with 10,000 agents no two requests of one agent are ever in flight.
  const agent = side.agents[side.cursor++ % side.agents.length];
  agent.seq += 1;
  return { path: `/v1/agents/${agent.agentId}/reports`, body: aReport(agent.seq, { collectedAt: new Date().toISOString() }), token: agent.token };
}

async function start(label: string, root: string, agentCount: number): Promise<Side> {
  // As in the ingest benchmark: a limit so high it never refuses, so that the limiter's per-request cost is measured.
  const control = await startChild<ControlServerDetails>(
    'control-server.ts',
    { BENCH_CONTROL_SETTINGS: JSON.stringify({ rateLimitPerMinute: 10_000_000 }) },
    `control (${label})`,
    root,
  );
  const client = pool(control.details.url);
  const agents = await enrolAll(client, agentCount, control.details.adminToken);
  await client.close();
  return { label, control, agents, cursor: 0, ok: 0, errors: 0, seconds: 0, cpuMicros: 0 };
}

/** Every agent's first report (it creates the host's rows once in its life), unmeasured. */
async function firstReports(side: Side): Promise<void> {
  const client = await warmPool(side.control.details.url);
  let sent = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (sent++ < side.agents.length) {
        const request = nextReport(side);
        const answer = await post(client, request.path, request.body, request.token);
        if (answer.status !== 200) throw new Error(`${side.label}: first report answered ${answer.status} ${answer.text}`);
      }
    }),
  );
  await client.close();
}

async function slice(side: Side, client: ReturnType<typeof pool>, seconds: number): Promise<void> {
  const cpuBefore = await side.control.cpuMicros();
  side.seconds += await closedLoops(CONCURRENCY, seconds, async () => {
    const request = nextReport(side);
    const answer = await post(client, request.path, request.body, request.token).catch(() => ({ status: 0, text: '' }));
    if (answer.status === 200) side.ok++;
    else side.errors++;
  });
  side.cpuMicros += (await side.control.cpuMicros()) - cpuBefore;
}

function storedMatches(side: Side): boolean {
  const db = new Database(join(side.control.details.dataDir, 'dcm.sqlite'), { readonly: true });
  const stored = (db.prepare('SELECT SUM(last_seq) AS total FROM agents').get() as { total: number }).total;
  db.close();
  const acknowledged = side.agents.length + side.ok;
  console.log(`  ${side.label.padEnd(10)} stored ${int(stored)} reports, ${int(acknowledged)} acknowledged, errors ${int(side.errors)}`);
  return stored === acknowledged && side.errors === 0;
}

export const ingestVersus: Benchmark = async () => {
  const versus = process.env.BENCH_VERSUS;
  if (!versus || !existsSync(join(resolve(versus), 'test/bench/support/control-server.ts')) || !existsSync(join(resolve(versus), 'node_modules'))) {
    console.log('  set BENCH_VERSUS to another checkout of dcm with its node_modules installed (git worktree add --detach <dir> <commit>)');
    return false;
  }
  const agentCount = envNumber('BENCH_AGENTS', 10_000);
  const slices = envNumber('BENCH_SLICES', 12);
  const sliceSeconds = envNumber('BENCH_SLICE_SECONDS', 3);
  const sides: Side[] = [];
  try {
    sides.push(await start('this', REPO_ROOT, agentCount));
    sides.push(await start('versus', resolve(versus), agentCount));
    console.log(`  ${int(agentCount)} agents enrolled on each control; first reports…`);
    for (const side of sides) await firstReports(side);
    const clients = await Promise.all(sides.map((side) => warmPool(side.control.details.url)));
    const profileDir = process.env.BENCH_PROFILE;
    if (profileDir) for (const side of sides) await side.control.startProfile();
    console.log(`  ${slices} slices of ${sliceSeconds} s as fast as each control answers, in the order A B B A…`);
    for (let index = 0; index < slices; index++) {
      const order = index % 2 === 0 ? [0, 1] : [1, 0];
      for (const which of order) await slice(sides[which], clients[which], sliceSeconds);
    }
    await Promise.all(clients.map((client) => client.close()));
    if (profileDir) {
      for (const side of sides) {
        const profile = await side.control.stopProfile(join(profileDir, `ingest-${side.label}.cpuprofile`));
        console.log(`  CPU profile of control (${side.label}) over the slices: ${profile}`);
        for (const line of formatProfileSummary(summariseProfile(profile, 30))) console.log(`    ${line}`);
      }
    }

    const [self, other] = sides;
    const rate = (side: Side) => side.ok / side.seconds;
    const cpu = (side: Side) => side.cpuMicros / Math.max(1, side.ok);
    for (const side of sides) {
      console.log(`  ${side.label.padEnd(10)} ${int(rate(side))} reports/s, control CPU ${dec(cpu(side))} µs per report`);
    }
    console.log(
      `  this ÷ versus: ${(rate(self) / rate(other)).toFixed(3)}× the reports/s, ${(cpu(self) / cpu(other)).toFixed(3)}× the CPU per report (${process.env.BENCH_VERSUS})`,
    );
    return sides.every(storedMatches);
  } finally {
    for (const side of sides) await side.control.stop();
  }
};
