/** What every benchmark in test/bench shares: its signature, environment knobs and number formatting. */

/** A benchmark prints its figures and says whether its correctness checks passed (false makes `npm run bench` exit 1). */
export type Benchmark = () => Promise<boolean>;

/** A whole number of seconds (or any positive number) from the environment, with a default. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return value;
}

/** A comma-separated list from the environment, lower-cased, with a default. */
export function envList(name: string, fallback: string[]): string[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  return raw
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter(Boolean);
}

const integerFormat = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 0 });
const decimalFormat = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 1, minimumFractionDigits: 1 });

/** 12,345 */
export function int(value: number): string {
  return integerFormat.format(value);
}

/** 12.3 */
export function dec(value: number): string {
  return decimalFormat.format(value);
}

/** A duration given in nanoseconds, as milliseconds: 1.23 ms, 45.6 ms, 789 ms. */
export function ms(nanoseconds: number): string {
  const millis = nanoseconds / 1e6;
  if (millis < 10) return `${millis.toFixed(2)} ms`;
  if (millis < 100) return `${millis.toFixed(1)} ms`;
  return `${millis.toFixed(0)} ms`;
}

/** Runs `task` over `items` with at most `concurrency` in flight; rejects on the first failure. */
export async function inParallel<T>(items: readonly T[], concurrency: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        await task(items[index], index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** A small, fast, seedable PRNG (mulberry32), so that a run's request mix can be repeated. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const interruptCleanups = new Set<() => Promise<void>>();
let interruptedBy: NodeJS.Signals | null = null;

/** Whether the run has been interrupted: cleanups then stop children at once instead of waiting for them to close. */
export function interrupted(): boolean {
  return interruptedBy !== null;
}

/**
 * Runs `cleanup` if the run is interrupted (Ctrl-C, SIGTERM) before the returned function is called, so that a
 * stopped benchmark leaves no test database or temporary directory behind.
 */
export function cleanupOnInterrupt(cleanup: () => Promise<void>): () => void {
  if (interruptCleanups.size === 0 && process.listenerCount('SIGINT') === 0) {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        interruptedBy = signal;
        console.error(`\n${signal}: cleaning up…`);
        const timeout = new Promise((resolve) => setTimeout(resolve, 60_000).unref());
        const all = Promise.allSettled([...interruptCleanups].map((run) => run()));
        void Promise.race([all, timeout]).then(() => process.exit(130));
      });
    }
  }
  interruptCleanups.add(cleanup);
  return () => interruptCleanups.delete(cleanup);
}
