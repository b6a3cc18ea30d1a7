import { ControlProcess, spawnControl } from './control-process';
import { freePort } from './ports';
import { createDataDir, removeDataDir } from './restartable-control';
import { eventually, StopWaiting } from './eventually';

/** What every replica of one deployment shares (DESIGN.md: the audit key is required on PostgreSQL, the same everywhere). */
export const SHARED_AUDIT_KEY = 'a1'.repeat(32);

export interface Replica extends ControlProcess {
  name: string;
  port: number;
  dataDir: string;
  /** Waits until /health/ready answers 200; fails at once if the process exits. */
  ready(timeoutMs?: number): Promise<void>;
  /** Sends the signal and waits for the exit (at once when it already exited). */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** One control replica as its own process on a shared PostgreSQL database, with its own data directory. */
export async function startReplica(name: string, databaseUrl: string, adminToken: string, env: Record<string, string> = {}): Promise<Replica> {
  const port = await freePort();
  const dataDir = createDataDir();
  const control = spawnControl({
    port,
    dataDir,
    adminToken,
    env: { DCM_DATABASE_URL: databaseUrl, DCM_AUDIT_KEY: SHARED_AUDIT_KEY, DCM_LOG_LEVEL: 'info', ...env },
  });
  const exited = () => control.process.exitCode !== null || control.process.signalCode !== null;
  return {
    ...control,
    name,
    port,
    dataDir,
    async ready(timeoutMs = 90_000) {
      await eventually(
        () => `replica ${name} to be ready:\n${control.output()}`,
        async () => {
          if (exited()) throw new StopWaiting(`replica ${name} exited with ${control.process.exitCode ?? control.process.signalCode}:\n${control.output()}`);
          return (await control.api.get('/health/ready', { token: null })).status === 200;
        },
        { timeoutMs, intervalMs: 200 },
      );
    },
    stop(signal = 'SIGTERM') {
      return new Promise<void>((resolve) => {
        if (exited()) return resolve();
        control.process.once('exit', () => resolve());
        control.process.kill(signal);
      });
    },
  };
}

/** Stops every replica still running and removes their data directories. */
export async function stopReplicas(replicas: Replica[]): Promise<void> {
  await Promise.all(replicas.map((replica) => replica.stop('SIGKILL')));
  for (const replica of replicas) removeDataDir(replica.dataDir);
}
