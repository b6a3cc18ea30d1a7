import { ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** Runs the real agent (apps/agent) as its own process, from source, with the YAML settings given. */
export function startAgent(
  dataDir: string,
  settings: Record<string, unknown>,
): { process: ChildProcess; output: () => string; stop(): Promise<number | null> } {
  const configPath = join(dataDir, 'agent.yaml');
  writeFileSync(configPath, JSON.stringify({ dataDir, logLevel: 'info', ...settings })); // JSON is YAML
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/agent/src/main.ts', '--config', configPath],
    {
      cwd: ROOT,
      env: { ...process.env, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return {
    process: child,
    output: () => output,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}
