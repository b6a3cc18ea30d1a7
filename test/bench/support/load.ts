import { createHistogram, RecordableHistogram } from 'node:perf_hooks';
import { int, ms } from './benchmark';

/**
 * Closed-loop load: `concurrency` loops, each sending its next request as soon as the previous one is answered, until
 * the deadline. Resolves with the elapsed wall time in seconds, measured until the last loop has finished (so the
 * requests still in flight at the deadline count, and their time too).
 */
export async function closedLoops(concurrency: number, seconds: number, iteration: (loop: number) => Promise<void>): Promise<number> {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, loop) => {
      while (performance.now() < deadline) await iteration(loop);
    }),
  );
  return (performance.now() - started) / 1000;
}

/**
 * Open-loop load: requests sent at a fixed `rate` per second for `seconds`, whether or not earlier ones have been
 * answered, as agents on their report interval do. Each latency is measured from when the request was due, not from
 * when it could be sent, so a server (or client) that falls behind shows it in the latencies (no coordinated
 * omission). Resolves when every request has been answered, with the rate actually achieved.
 */
export async function openLoop(
  rate: number,
  seconds: number,
  send: (index: number) => Promise<void>,
  latencies: Latencies,
): Promise<{ sent: number; achievedRate: number }> {
  const total = Math.round(rate * seconds);
  const started = performance.now();
  const inFlight = new Set<Promise<void>>();
  let next = 0;
  while (next < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - started) / 1000) * rate) + 1);
    for (; next < due; next++) {
      const dueAt = process.hrtime.bigint() - BigInt(Math.round((now - (started + (next / rate) * 1000)) * 1e6));
      const request = send(next).then(() => latencies.histogram.record(Math.max(1, Number(process.hrtime.bigint() - dueAt))));
      inFlight.add(request);
      void request.finally(() => inFlight.delete(request));
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);
  return { sent: total, achievedRate: total / ((performance.now() - started) / 1000) };
}

/** Latencies in nanoseconds (HDR histogram from perf_hooks: fixed memory, no per-sample allocation). */
export class Latencies {
  readonly histogram: RecordableHistogram = createHistogram();

  /** Starts a measurement; call the returned function when the answer has been read. */
  start(): () => void {
    const t0 = process.hrtime.bigint();
    return () => this.histogram.record(Math.max(1, Number(process.hrtime.bigint() - t0)));
  }

  get count(): number {
    return this.histogram.count;
  }

  summary(): string {
    if (this.histogram.count === 0) return 'n/a';
    const h = this.histogram;
    return `p50 ${ms(h.percentile(50))}, p99 ${ms(h.percentile(99))}, max ${ms(h.max)} (n=${int(h.count)})`;
  }
}

/** Counts per whole second of the run, for a timeline that shows when refusals set in or throughput sags. */
export class Timeline {
  private readonly started = performance.now();
  private readonly buckets = new Map<string, number[]>();

  add(series: string): void {
    const second = Math.floor((performance.now() - this.started) / 1000);
    let bucket = this.buckets.get(series);
    if (!bucket) this.buckets.set(series, (bucket = []));
    bucket[second] = (bucket[second] ?? 0) + 1;
  }

  /** One line per series: the count in each second of a run of `seconds`, then (after "|") all that came later. */
  lines(seconds: number): string[] {
    const width = Math.ceil(seconds);
    return [...this.buckets].map(([series, bucket]) => {
      const counts = Array.from({ length: width }, (_, second) => bucket[second] ?? 0);
      const later = bucket.slice(width).reduce((sum, count) => sum + (count ?? 0), 0);
      return `${series.padEnd(30)} ${counts.map((count) => String(count).padStart(5)).join(' ')} | ${later}`;
    });
  }
}
