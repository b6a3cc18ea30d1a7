import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './ports';
import { eventually, StopWaiting } from './eventually';

export const HAPROXY = '/usr/sbin/haproxy';
/** The load balancer configuration the project ships, used here unchanged. */
export const HAPROXY_CONFIG = join(__dirname, '..', '..', 'config', 'haproxy', 'haproxy.cfg');

export interface RunningHaproxy {
  url: string;
  output(): string;
  close(): Promise<void>;
}

/** Starts Debian's haproxy on the shipped configuration in front of the given control ports (127.0.0.1), on a free port. */
export async function startHaproxy(controlPorts: [number, number]): Promise<RunningHaproxy> {
  if (!existsSync(HAPROXY)) throw new Error(`${HAPROXY} is missing: apt-get install --no-install-recommends haproxy (CI installs it)`);
  const port = await freePort();
  let output = '';
  const child: ChildProcess = spawn(HAPROXY, ['-db', '-f', HAPROXY_CONFIG], {
    env: {
      PATH: process.env.PATH,
      DCM_LB_BIND: `127.0.0.1:${port}`,
      DCM_CONTROL_1: `127.0.0.1:${controlPorts[0]}`,
      DCM_CONTROL_2: `127.0.0.1:${controlPorts[1]}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const close = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  const url = `http://127.0.0.1:${port}`;
  try {
    await eventually(
      () => `haproxy to listen: ${output}`,
      async () => {
        if (child.exitCode !== null) throw new StopWaiting(`haproxy exited with ${child.exitCode}: ${output}`);
        return (await fetch(`${url}/health/live`)) !== undefined;
      },
      15_000,
    );
  } catch (error) {
    await close();
    throw error;
  }
  return { url, output: () => output, close };
}
