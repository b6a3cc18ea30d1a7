#!/usr/bin/env node
// `npm start`: control on embedded SQLite plus an agent that enrols this machine, so a newcomer sees real numbers.
// Production runs the two separately (config/systemd/); this only wires them together on one machine.
// It builds first only when the sources changed since the last `npm run build` (see build-state.js).
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const { existsSync, mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join, resolve } = require('node:path');
const { staleBecause } = require('./build-state');

const dataDir = resolve(process.env.DCM_DATA_DIR ?? './data');
const host = process.env.DCM_HOST ?? '127.0.0.1';
const port = process.env.DCM_PORT ?? '3000';
// Control listening on every address is reached on loopback; the agent talks to this same machine either way.
const agentHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
const controlUrl = `http://${agentHost.includes(':') ? `[${agentHost}]` : agentHost}:${port}`;
const agentDir = join(dataDir, 'agent');
const agentConfig = join(dataDir, 'agent.yaml');
const children = [];

// The agent's V8 flags, as in `npm run start:agent` and the systemd unit: they keep it under 60 MB resident.
const AGENT_NODE_FLAGS = require('./agent-node-flags').agentNodeFlags();

function run(script, args = [], nodeFlags = []) {
  const child = spawn(process.execPath, [...nodeFlags, script, ...args], { stdio: 'inherit', env: { ...process.env, DCM_DATA_DIR: dataDir } });
  children.push(child);
  return child;
}

async function waitUntilReady() {
  for (let attempt = 0; attempt < 120; attempt++) {
    try {
      if ((await fetch(`${controlUrl}/health/ready`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 500));
  }
  throw new Error(`control did not become ready at ${controlUrl}`);
}

async function writeAgentConfig() {
  if (existsSync(join(agentDir, 'credentials.json')) && existsSync(agentConfig)) return;
  const adminToken = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  const response = await fetch(`${controlUrl}/v1/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    // accept: the machine a newcomer runs this on is placeable at once (other enrolled hosts wait for an operator).
    body: JSON.stringify({ kind: 'join', uses: 1, accept: true, name: 'local agent (npm start)', expiresAt: new Date(Date.now() + 3_600_000).toISOString() }),
  });
  if (!response.ok) throw new Error(`could not create a join token: ${response.status} ${await response.text()}`);
  const { token } = await response.json();
  mkdirSync(agentDir, { recursive: true, mode: 0o700 });
  writeFileSync(
    agentConfig,
    [
      `controlUrl: ${controlUrl}`,
      `joinToken: "${token}"`,
      `dataDir: ${agentDir}`,
      'intervalSeconds: 15',
      'storageMounts: [/]',
      // Plain HTTP to one of this machine's own addresses: the traffic never leaves it.
      ...(isLoopback(agentHost) ? [] : ['allowInsecureHttp: true']),
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
}

function isLoopback(address) {
  return address === 'localhost' || address === '::1' || address.startsWith('127.');
}

function stopAll(signal) {
  for (const child of children) if (child.exitCode === null) child.kill(signal);
}

function buildIfStale() {
  const reason = staleBecause(process.cwd());
  if (reason === null) {
    process.stdout.write('npm start: dist/ is up to date with the sources, not building\n');
    return;
  }
  process.stdout.write(`npm start: building, because ${reason}\n`);
  const build = spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error(`npm run build failed (${build.error?.message ?? `exit ${build.status ?? build.signal}`})`);
}

async function main() {
  buildIfStale();
  let stopping = false;
  const control = run('dist/apps/control/src/main.js');
  control.on('exit', async (code) => {
    stopAll('SIGTERM');
    // The agent's last lines come before the prompt does.
    await Promise.all(children.map((child) => child.exitCode !== null || child.signalCode !== null || new Promise((done) => child.once('exit', done))));
    // Control ends a stop asked for by re-raising the signal (no exit code): that is a clean stop, not a failure.
    process.exit(code ?? (stopping ? 0 : 1));
  });
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      stopping = true;
      stopAll(signal);
    });
  }
  await waitUntilReady();
  await writeAgentConfig();
  run('dist/apps/agent/src/main.js', ['--config', agentConfig], AGENT_NODE_FLAGS);
}

main().catch((error) => {
  process.stderr.write(`npm start: ${error.message}\n`);
  stopAll('SIGTERM');
  process.exit(1);
});
