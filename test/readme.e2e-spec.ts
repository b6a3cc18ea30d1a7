import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlProcess, spawnControl } from './support/control-process';
import { requireBuiltCli } from './support/cli';
import { freePort } from './support/ports';

// The README's walk-through, run as written: every ```sh doctest block, in order, in one `bash -euo pipefail`, from a
// directory laid out like a checkout after `npm start` (package.json, dist, node_modules and config from this one, and
// data/admin.token of a fresh control), with DCM_URL pointing at that control.

const ROOT = join(__dirname, '..');
const FROM_THE_CHECKOUT = ['package.json', 'dist', 'node_modules', 'config', 'scripts'];
const ADMIN_TOKEN = 'dcm_readme-walk-through-admin-token-0123456789';

interface RunnableBlock {
  /** 1-based line of README.md the block's opening fence is on. */
  line: number;
  script: string;
}

function runnableBlocks(markdown: string): RunnableBlock[] {
  return [...markdown.matchAll(/^```sh doctest\n([\s\S]*?)^```$/gm)].map((match) => ({
    line: markdown.slice(0, match.index).split('\n').length,
    script: match[1],
  }));
}

/** One bash for all blocks, so that variables carry over; the ERR trap names the block that failed. */
function walkThroughScript(blocks: RunnableBlock[]): string {
  return [
    `trap 'echo "doctest: the block at README.md line $DOCTEST_LINE failed (exit $?)" >&2' ERR`,
    ...blocks.map((block) => `DOCTEST_LINE=${block.line}\n${block.script}`),
  ].join('\n');
}

async function waitUntilReady(control: ControlProcess, url: string): Promise<void> {
  for (;;) {
    if (control.process.exitCode !== null) throw new Error(`control exited with ${control.process.exitCode}:\n${control.output()}`);
    if (
      await fetch(`${url}/health/ready`).then(
        (response) => response.ok,
        () => false,
      )
    )
      return;
    await new Promise((done) => setTimeout(done, 250));
  }
}

/**
 * Runs `script` in its own process group and, once bash has exited, ends whatever it left running there (the
 * walk-through starts an agent), saying whether there was anything.
 */
function runBash(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string; leftRunning: boolean }> {
  const bash = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  bash.stdout.on('data', (chunk) => (output += chunk));
  bash.stderr.on('data', (chunk) => (output += chunk));
  return new Promise((resolve) =>
    bash.once('close', (code) => {
      let leftRunning = true;
      try {
        process.kill(-bash.pid!, 'SIGTERM');
      } catch {
        leftRunning = false; // ESRCH: nothing of the group is left
      }
      resolve({ code, output, leftRunning });
    }),
  );
}

describe('README.md', () => {
  const blocks = runnableBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  let checkout: string;
  let control: ControlProcess;
  let url: string;

  beforeAll(async () => {
    requireBuiltCli();
    checkout = mkdtempSync(join(tmpdir(), 'dcm-readme-'));
    for (const file of FROM_THE_CHECKOUT) symlinkSync(join(ROOT, file), join(checkout, file));
    mkdirSync(join(checkout, 'data'));
    mkdirSync(join(checkout, 'config-home'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    control = spawnControl({ port, dataDir: join(checkout, 'data'), adminToken: ADMIN_TOKEN });
    await waitUntilReady(control, url);
  }, 120_000);

  afterAll(async () => {
    if (control?.process.exitCode === null) {
      const exited = new Promise((resolve) => control.process.once('exit', resolve));
      control.process.kill('SIGTERM');
      await exited;
    }
    rmSync(checkout, { recursive: true, force: true });
  });

  it('marks a complete onboarding as runnable: join token, agent, tenant, quotas, allocation, apply, showback, audit', () => {
    const walkThrough = blocks.map((block) => block.script).join('\n');
    for (const step of [
      'npx dcm login',
      'npx dcm tokens create --kind join',
      'dist/apps/agent/src/main.js --config',
      'npx dcm tenants create',
      'npx dcm quotas set',
      'npx dcm allocations create',
      'npx dcm apply -f config/facilities/blaenavon.yaml',
      'npx dcm showback',
      'npx dcm audit verify',
    ])
      expect(walkThrough).toContain(step);
  });

  it('runs the walk-through against a fresh control, every command succeeding', async () => {
    expect(blocks.length).toBeGreaterThan(0);
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('DCM_') && !name.startsWith('npm_')));
    const { code, output, leftRunning } = await runBash(walkThroughScript(blocks), checkout, {
      ...env,
      DCM_URL: url,
      XDG_CONFIG_HOME: join(checkout, 'config-home'),
      TZ: 'UTC',
    });
    if (code !== 0) throw new Error(`${output.match(/^doctest: .*$/m)?.[0] ?? `the walk-through exited with ${code}`}\n${output}`);
    expect(leftRunning).toBe(false); // it stops the agent it started

    // What the walk-through did, as control saw it.
    const api = control.api;
    await expect(api.get('/v1/hosts/blv-c13')).resolves.toMatchObject({ status: 200, body: { site: 'blv-hall-a', rack: 'a03' } });
    const allocations = await api.get('/v1/allocations?tenant=newport');
    expect(allocations).toMatchObject({ status: 200, body: [{ tenant: 'newport', description: 'Democratic services' }] });
    await expect(api.get('/v1/audit/verify')).resolves.toMatchObject({ status: 200, body: { intact: true } });
  }, 300_000);
});
