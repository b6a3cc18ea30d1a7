import { ChildProcess, fork } from 'node:child_process';
import { join, resolve } from 'node:path';
import { interrupted } from './benchmark';

/**
 * Servers under benchmark run in a child process of their own: in the load generator's process they would share its
 * event loop (and one of the machine's cores), and the figures would measure the two together.
 *
 * Protocol (over the IPC channel): the child sends { type: 'ready', ...details } once it listens, or { type: 'error',
 * message } and exits. The parent may send { type: 'profile-start' } / { type: 'profile-stop', path } (answered with
 * { type: 'profile-written', path }), { type: 'usage' } (answered with { type: 'usage', micros }: CPU time used so far)
 * and finally { type: 'stop' }, after which the child closes and exits 0. A child
 * whose parent goes away exits too.
 */

export const REPO_ROOT = resolve(__dirname, '../../..');

/** The same TypeScript loaders `npm run bench` uses, so that children run the sources as they are. */
const TS_EXEC_ARGV = ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'];

const STARTUP_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 30_000;

export type ChildMessage =
  | ({ type: 'ready' } & Record<string, unknown>)
  | { type: 'error'; message: string }
  | { type: 'profile-written'; path: string }
  | { type: 'usage'; micros: number };

export interface RunningChild<T> {
  details: T;
  pid: number;
  /** Starts the V8 CPU profiler in the child (for the phase that matters, not start-up and seeding). */
  startProfile(): Promise<void>;
  /** Stops the profiler and writes a .cpuprofile file; resolves with its path. */
  stopProfile(path: string): Promise<string>;
  /** CPU time (user + system) the child has used so far, in microseconds. */
  cpuMicros(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Forks test/bench/support/<script> with the given environment and waits until it reports that it is ready. `root`:
 * the checkout whose script (and sources) run, by default this one; another one, at an earlier commit say, is measured
 * in the same run as this one (see ingest-versus.bench.ts).
 */
export async function startChild<T>(script: string, env: Record<string, string>, label: string, root = REPO_ROOT): Promise<RunningChild<T>> {
  const child: ChildProcess = fork(join(root, 'test/bench/support', script), [], {
    cwd: root,
    execArgv: TS_EXEC_ARGV,
    env: { ...process.env, TS_NODE_PROJECT: join(root, 'tsconfig.json'), ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));

  const details = await new Promise<T>((resolveReady, rejectReady) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rejectReady(new Error(`${label}: not ready after ${STARTUP_TIMEOUT_MS / 1000} s`));
    }, STARTUP_TIMEOUT_MS);
    child.on('message', function onMessage(message: ChildMessage) {
      if (message.type === 'ready') {
        clearTimeout(timer);
        child.off('message', onMessage);
        const { type: _type, ...rest } = message;
        resolveReady(rest as T);
      } else if (message.type === 'error') {
        clearTimeout(timer);
        rejectReady(new Error(`${label} failed to start: ${message.message}`));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      rejectReady(new Error(`${label} exited with code ${code} before it was ready`));
    });
  });

  const ask = <R extends ChildMessage['type']>(message: object, answer: R): Promise<Extract<ChildMessage, { type: R }>> =>
    new Promise((resolveAnswer, rejectAnswer) => {
      const onMessage = (reply: ChildMessage) => {
        if (reply.type === answer) {
          child.off('message', onMessage);
          resolveAnswer(reply as Extract<ChildMessage, { type: R }>);
        } else if (reply.type === 'error') {
          child.off('message', onMessage);
          rejectAnswer(new Error(`${label}: ${reply.message}`));
        }
      };
      child.on('message', onMessage);
      child.send(message);
    });

  return {
    details,
    pid: child.pid!,
    async startProfile() {
      await ask({ type: 'profile-start' }, 'ready');
    },
    async stopProfile(path: string) {
      return (await ask({ type: 'profile-stop', path }, 'profile-written')).path;
    },
    async cpuMicros() {
      return (await ask({ type: 'usage' }, 'usage')).micros;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (interrupted() || !child.connected) {
        // Interrupted: a server that hangs (or handles SIGINT itself) must not hold up the cleanups after it.
        child.kill('SIGKILL');
        await exited;
        return;
      }
      child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * The child's side of the protocol: call with a function that starts the server and returns its details plus a
 * close function. Handles profiling, stop and an orphaned child.
 */
export function serveChild(start: () => Promise<{ details: Record<string, unknown>; close(): Promise<void> }>): void {
  const send = (message: ChildMessage) => process.send?.(message);
  let close: (() => Promise<void>) | undefined;
  // Loaded lazily: only a profiling run needs the inspector.
  let session: import('node:inspector').Session | undefined;

  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: { type: string; path?: string }) => {
    void (async () => {
      try {
        if (message.type === 'stop') {
          await close?.();
          process.exit(0);
        } else if (message.type === 'usage') {
          const usage = process.cpuUsage();
          send({ type: 'usage', micros: usage.user + usage.system });
        } else if (message.type === 'profile-start') {
          const inspector = await import('node:inspector');
          session = new inspector.Session();
          session.connect();
          await post(session, 'Profiler.enable');
          await post(session, 'Profiler.setSamplingInterval', { interval: 500 });
          await post(session, 'Profiler.start');
          send({ type: 'ready' });
        } else if (message.type === 'profile-stop' && session && message.path) {
          const { profile } = (await post(session, 'Profiler.stop')) as { profile: unknown };
          const { writeFileSync } = await import('node:fs');
          writeFileSync(message.path, JSON.stringify(profile));
          session.disconnect();
          session = undefined;
          send({ type: 'profile-written', path: message.path });
        }
      } catch (error) {
        send({ type: 'error', message: (error as Error).stack ?? String(error) });
      }
    })();
  });

  start()
    .then((server) => {
      close = server.close;
      send({ type: 'ready', ...server.details });
    })
    .catch((error: Error) => {
      const message: ChildMessage = { type: 'error', message: error.stack ?? String(error) };
      if (process.send) process.send(message, undefined, {}, () => process.exit(1));
      else process.exit(1);
    });
}

function post(session: import('node:inspector').Session, method: string, params?: object): Promise<unknown> {
  return new Promise((resolvePost, rejectPost) => session.post(method, params ?? {}, (error, result) => (error ? rejectPost(error) : resolvePost(result))));
}
