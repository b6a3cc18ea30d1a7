import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './support/ports';

// `npm start` runs scripts/start-local.js, which builds only when the sources changed since the last build. Run here
// in a copy of the checkout (sharing node_modules, starting from this checkout's dist/), so that changing a source
// and rebuilding leaves this one alone.

const ROOT = join(__dirname, '..');
const CHECKOUT_FILES = ['apps', 'libs', 'scripts', 'tsconfig.json', 'tsconfig.build.json', 'nest-cli.json', 'package.json', 'package-lock.json'];
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
/** What the launcher decides for `root` (scripts/build-state.js, asked as the launcher asks it). */
const staleBecause = (root: string): string | null =>
  JSON.parse(node(ROOT, '-p', `JSON.stringify(require('./scripts/build-state').staleBecause(${JSON.stringify(root)}))`));
const isStale = (root: string) => staleBecause(root) !== null;
const builtAt = (checkout: string) => statSync(join(checkout, BUILT_CONTROL)).mtimeMs;

describe('npm start (scripts/start-local.js)', () => {
  let checkout: string;

  beforeAll(() => {
    checkout = mkdtempSync(join(tmpdir(), 'dcm-start-'));
    for (const file of CHECKOUT_FILES) cpSync(join(ROOT, file), join(checkout, file), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'));
    // This checkout's build, when it is of these sources (as after `npm run build`), saves the copy one build.
    if (existsSync(join(ROOT, 'dist'))) cpSync(join(ROOT, 'dist'), join(checkout, 'dist'), { recursive: true });
    if (isStale(checkout)) execFileSync('npm', ['run', 'build'], { cwd: checkout, stdio: 'ignore' });
  }, 600_000);

  afterAll(() => rmSync(checkout, { recursive: true, force: true }));

  it('does not build when nothing changed since the last build, and rebuilds when a source changed', async () => {
    const built = builtAt(checkout);
    const unchanged = await startUntilReady(checkout);
    expect(unchanged).toContain('npm start: dist/ is up to date with the sources, not building');
    expect(unchanged).not.toMatch(NPM_RUN_BUILD);
    expect(builtAt(checkout)).toBe(built);

    appendFileSync(join(checkout, 'libs', 'domain', 'src', 'index.ts'), '\nexport const CHANGED_SINCE_THE_LAST_BUILD = true;\n');
    const changed = await startUntilReady(checkout);
    expect(changed).toContain('npm start: building, because the sources changed since the last build');
    expect(changed).toMatch(NPM_RUN_BUILD);
    expect(builtAt(checkout)).toBeGreaterThan(built);

    const again = await startUntilReady(checkout);
    expect(again).toContain('npm start: dist/ is up to date with the sources, not building');
    expect(again).not.toMatch(NPM_RUN_BUILD);
  }, 600_000);

  it('counts an interrupted build as stale: `npm run build` forgets the last stamp before it starts', () => {
    const stamp = join(checkout, 'dist', '.source-hash');
    expect(statSync(stamp).isFile()).toBe(true);
    expect(node(checkout, 'scripts/build-state.js', '--begin')).toBe('');
    expect(() => statSync(stamp)).toThrow(/ENOENT/);
    expect(staleBecause(checkout)).toBe('dist/.source-hash is missing (dist/ was not built by npm run build)');
  });

  it('builds a checkout that was never built', () => {
    const fresh = mkdtempSync(join(tmpdir(), 'dcm-start-fresh-'));
    try {
      expect(staleBecause(fresh)).toBe(`${BUILT_CONTROL} is missing`);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});
