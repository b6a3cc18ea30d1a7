import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { ApiClient } from './api-client';
import { TEST_AUDIT_KEY } from './postgres';

const ROOT = join(__dirname, '..', '..');

export interface ControlProcess {
  process: ChildProcess;
  /** As the admin whose token the process was started with. */
  api: ApiClient;
  /** Everything it wrote to stdout and stderr so far. */
  output: () => string;
}

/**
 * The real control as its own process, from source (as agent-process.ts runs the agent), so that a test can kill it.
 * `env` adds DCM_* settings to the port, data directory and admin token.
 */
export function spawnControl(options: { port: number; dataDir: string; adminToken: string; env?: Record<string, string> }): ControlProcess {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/control/src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
      DCM_PORT: String(options.port),
      DCM_DATA_DIR: options.dataDir,
      DCM_ADMIN_TOKEN: options.adminToken,
      ...(options.env?.DCM_DATABASE_URL?.startsWith('postgres') ? { DCM_AUDIT_KEY: TEST_AUDIT_KEY } : {}),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return { process: child, api: new ApiClient(`http://127.0.0.1:${options.port}`, options.adminToken), output: () => output };
}
