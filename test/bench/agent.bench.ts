/**
 * `npm run bench -- agent`: the real agent (built, as `npm run start:agent` runs it) reporting every second to a real
 * control for BENCH_AGENT_SECONDS (default 60), sampled from /proc: peak resident memory and CPU share. If Debian's
 * prometheus-node-exporter is installed, it runs beside it under the same sampling, scraped once a second, as the
 * baseline. Target: the agent's peak RSS ≤ 60 MB.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Benchmark, dec, envNumber } from './support/benchmark';
import { REPO_ROOT, startChild } from './support/child';
import type { ControlServerDetails } from './support/control-server';

const RSS_TARGET_MB = 60;
/** As `npm run start:agent` runs it (package.json), so the figure is the deployed agent's. */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS script shared with package.json and npm start
const AGENT_NODE_FLAGS: string[] = require('../../scripts/agent-node-flags').agentNodeFlags();
const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';
const CLOCK_TICKS = 100; // USER_HZ on Linux

interface Sampled {
  peakRssMb: number;
  cpuSeconds: number;
}

function rssMb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : 0;
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime
}

/** Samples a process every 250 ms until `until` resolves. */
async function sample(pid: number, until: Promise<void>): Promise<Sampled> {
  let peakRssMb = 0;
  let done = false;
  void until.then(() => (done = true));
  const startCpu = cpuSeconds(pid);
  while (!done) {
    peakRssMb = Math.max(peakRssMb, rssMb(pid));
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { peakRssMb, cpuSeconds: cpuSeconds(pid) - startCpu };
}

function waitForExit(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
}

export const agent: Benchmark = async () => {
  const seconds = envNumber('BENCH_AGENT_SECONDS', 60);
  console.log('building the agent (nest build agent)…');
  execFileSync('npx', ['nest', 'build', 'agent'], { cwd: REPO_ROOT, stdio: 'ignore' });

  const control = await startChild<ControlServerDetails>('control-server.ts', {}, 'control');
  const agentDir = mkdtempSync(join(tmpdir(), 'dcm-bench-agent-'));
  const processes: ChildProcess[] = [];
  try {
    const response = await fetch(`${control.details.url}/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${control.details.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'join', uses: 1 }),
    });
    const { token } = (await response.json()) as { token: string };
    const config = join(agentDir, 'agent.yaml');
    writeFileSync(config, JSON.stringify({ controlUrl: control.details.url, joinToken: token, dataDir: agentDir, intervalSeconds: 1, logLevel: 'warn' }));
    const agentProcess = spawn(process.execPath, [...AGENT_NODE_FLAGS, join(REPO_ROOT, 'dist/apps/agent/src/main.js'), '--config', config], {
      stdio: 'inherit',
    });
    processes.push(agentProcess);

    let exporter: ChildProcess | null = null;
    if (existsSync(NODE_EXPORTER)) {
      exporter = spawn(NODE_EXPORTER, ['--web.listen-address=127.0.0.1:19100'], { stdio: 'ignore' });
      processes.push(exporter);
    }

    const window = new Promise<void>((resolve) => setTimeout(resolve, seconds * 1000));
    const scrapes = exporter
      ? (async () => {
          let stop = false;
          void window.then(() => (stop = true));
          while (!stop) {
            await fetch('http://127.0.0.1:19100/metrics')
              .then((answer) => answer.text())
              .catch(() => undefined);
            await new Promise((resolve) => setTimeout(resolve, 1000));
          }
        })()
      : Promise.resolve();
    console.log(
      `sampling for ${seconds} s: the agent reports every second${exporter ? '; node_exporter scraped every second beside it' : ' (node_exporter not installed: no baseline)'}`,
    );
    const [agentSample, exporterSample] = await Promise.all([
      sample(agentProcess.pid!, window),
      exporter ? sample(exporter.pid!, window) : Promise.resolve(null),
      scrapes,
    ]);

    const host = (await (await fetch(`${control.details.url}/v1/hosts`, { headers: { authorization: `Bearer ${control.details.adminToken}` } })).json()) as {
      name: string;
      lastReportAt: string | null;
    }[];
    const reported = host.some((entry) => entry.lastReportAt !== null);
    const line = (label: string, sampled: Sampled) =>
      `  ${label.padEnd(14)} peak RSS ${dec(sampled.peakRssMb)} MB   CPU ${dec((sampled.cpuSeconds / seconds) * 100)} % of a core (${dec(sampled.cpuSeconds)} s in ${seconds} s)`;
    console.log(line('dcm agent', agentSample));
    if (exporterSample) console.log(line('node_exporter', exporterSample));
    const withinTarget = agentSample.peakRssMb <= RSS_TARGET_MB;
    console.log(`  target (peak RSS ≤ ${RSS_TARGET_MB} MB): ${withinTarget ? 'MET' : 'MISSED'}; reports reached control: ${reported ? 'yes' : 'NO'}`);
    return reported && withinTarget;
  } finally {
    for (const child of processes) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(processes.map(waitForExit));
    await control.stop();
    rmSync(agentDir, { recursive: true, force: true });
  }
};
