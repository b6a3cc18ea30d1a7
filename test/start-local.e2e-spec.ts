import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './support/ports';

// `npm start` runs scripts/start-local.js, which builds only when the sources changed since the last build. Run here
// in a copy of the checkout (sharing node_modules), so that changing a source and rebuilding leaves this one alone.

const ROOT = join(__dirname, '..');
const CHECKOUT_FILES = ['apps', 'libs', 'scripts', 'tsconfig.json', 'nest-cli.json', 'package.json', 'package-lock.json'];
/** What npm prints when it runs the build script. */
const NPM_RUN_BUILD = /^> dcm@\S+ build$/m;
const BUILT_CONTROL = join('dist', 'apps', 'control', 'src', 'main.js');

/** Runs the launcher in `checkout` until control answers /health/ready, then stops it; returns all it printed. */
async function startUntilReady(checkout: string): Promise<string> {
  const port = await freePort();
  const launcher = spawn(process.execPath, ['scripts/start-local.js'], {
    cwd: checkout,
    env: { ...process.env, DCM_DATA_DIR: join(checkout, 'data'), DCM_PORT: String(port), DCM_HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  launcher.stdout.on('data', (chunk) => (output += chunk));
  launcher.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => launcher.once('exit', (code) => resolve(code)));
  try {
    for (;;) {
      if (launcher.exitCode !== null) throw new Error(`npm start exited with ${launcher.exitCode} before control was ready:\n${output}`);
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`).then(
        (response) => response.ok,
        () => false,
      );
      if (ready) return output;
      await new Promise((done) => setTimeout(done, 250));
    }
  } finally {
    launcher.kill('SIGTERM');
    await exited;
  }
}

const node = (cwd: string, ...args: string[]) => execFileSync(process.execPath, args, { cwd, encoding: 'utf8' });
const builtAt = (checkout: string) => statSync(join(checkout, BUILT_CONTROL)).mtimeMs;

describe('npm start (scripts/start-local.js)', () => {
  let checkout: string;

  beforeAll(() => {
    checkout = mkdtempSync(join(tmpdir(), 'dcm-start-'));
    for (const file of CHECKOUT_FILES) cpSync(join(ROOT, file), join(checkout, file), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'));
  });

  afterAll(() => rmSync(checkout, { recursive: true, force: true }));

  it('builds on a first start, does not build again when nothing changed, and rebuilds when a source changed', async () => {
    const first = await startUntilReady(checkout);
    expect(first).toContain(`npm start: building, because ${BUILT_CONTROL} is missing`);
    expect(first).toMatch(NPM_RUN_BUILD);
    const firstBuild = builtAt(checkout);

    const second = await startUntilReady(checkout);
    expect(second).toContain('npm start: dist/ is up to date with the sources, not building');
    expect(second).not.toMatch(NPM_RUN_BUILD);
    expect(builtAt(checkout)).toBe(firstBuild);

    appendFileSync(join(checkout, 'libs', 'domain', 'src', 'index.ts'), '\nexport const CHANGED_SINCE_THE_LAST_BUILD = true;\n');
    const third = await startUntilReady(checkout);
    expect(third).toContain('npm start: building, because the sources changed since the last build');
    expect(third).toMatch(NPM_RUN_BUILD);
    expect(builtAt(checkout)).toBeGreaterThan(firstBuild);

    const fourth = await startUntilReady(checkout);
    expect(fourth).toContain('npm start: dist/ is up to date with the sources, not building');
  }, 600_000);

  it('counts an interrupted build as stale: `npm run build` forgets the last stamp before it starts', () => {
    const stamp = join(checkout, 'dist', '.source-hash');
    expect(statSync(stamp).isFile()).toBe(true);
    expect(node(checkout, 'scripts/build-state.js', '--begin')).toBe('');
    expect(() => statSync(stamp)).toThrow(/ENOENT/);
    expect(node(checkout, '-p', "require('./scripts/build-state').staleBecause('.')")).toBe(
      'dist/.source-hash is missing (dist/ was not built by npm run build)\n',
    );
  });
});
