import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './support/ports';
import { eventually, pause, StopWaiting } from './support/eventually';

const ROOT = join(__dirname, '..');
const PINO_INFO = 30;

/** The keys of a JSON object's top level, each as often as the text has it (JSON.parse would keep only the last). */
function topLevelKeys(json: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let index = 0; index < json.length; index++) {
    const char = json[index];
    if (char === '"') {
      const start = index;
      for (index++; json[index] !== '"'; index++) if (json[index] === '\\') index++;
      if (depth === 1 && /^\s*:/.test(json.slice(index + 1, index + 3))) keys.push(JSON.parse(json.slice(start, index + 1)));
    } else if (char === '{' || char === '[') depth++;
    else if (char === '}' || char === ']') depth--;
  }
  return keys;
}

/**
 * `npm start` as a newcomer runs it (scripts/start-local.js over the built code, so `npm run build` first): control,
 * an agent that enrols and reports, then Ctrl-C — SIGINT to the whole process group, as a terminal sends it. A clean
 * start and stop print nothing above info, nothing on stderr, and no log line with a key twice.
 */
describe('npm start, then Ctrl-C', () => {
  let dataDir: string;

  beforeAll(() => (dataDir = mkdtempSync(join(tmpdir(), 'dcm-start-'))));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('logs nothing above info and writes nothing to stderr', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['scripts/start-local.js'], {
      cwd: ROOT,
      env: { ...process.env, DCM_DATA_DIR: dataDir, DCM_HOST: '127.0.0.1', DCM_PORT: String(port), DCM_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, which the test signals as a terminal would
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    // 'close': every process holding the pipes (control and agent inherit them) has gone.
    const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    try {
      // The first report goes right after enrolment; "spooled":0 at stop shows it was delivered.
      await eventually(
        () => `the agent to enrol:\n${stdout.slice(-2000)}\n${stderr}`,
        () => {
          if (child.exitCode !== null) throw new StopWaiting(`the agent did not enrol:\n${stdout.slice(-2000)}\n${stderr}`);
          return stdout.includes('enrolled with control');
        },
        { timeoutMs: 90_000, intervalMs: 200 },
      );
      await pause(2_000);
    } finally {
      process.kill(-child.pid!, 'SIGINT');
    }
    await expect(closed).resolves.toBe(0);

    expect(stderr).toBe('');
    // The launcher's own notes ("npm start: …", whether it builds) are plain text; everything else is a JSON log line.
    const notes = stdout.split('\n').filter((line) => line.startsWith('npm start: '));
    expect(notes.filter((note) => /warn|error|fail/i.test(note))).toEqual([]);
    const lines = stdout.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('npm start: '));
    const entries = lines.map((line) => ({ line, entry: JSON.parse(line) as { level: number; msg: string } }));
    expect(entries.filter(({ entry }) => entry.level > PINO_INFO).map(({ line }) => line)).toEqual([]);
    expect(lines.filter((line) => new Set(topLevelKeys(line)).size !== topLevelKeys(line).length)).toEqual([]);
    const messages = entries.map(({ entry }) => entry.msg);
    expect(messages).toEqual(expect.arrayContaining(['dcm agent starting', 'enrolled with control', 'stopping', 'stopped; unsent reports stay in the spool']));
    expect(entries.find(({ entry }) => entry.msg === 'stopped; unsent reports stay in the spool')!.entry).toMatchObject({ spooled: 0 });
  }, 120_000);
});
