/**
 * Benchmark dispatcher: `npm run bench` runs every benchmark, `npm run bench -- <name> [<name>…]` the named ones.
 * An unknown name prints the list and exits 2; a benchmark whose correctness checks fail makes the run exit 1.
 *
 * To add a benchmark: write test/bench/<name>.bench.ts exporting a `Benchmark` (support/benchmark.ts) and add one
 * line to BENCHMARKS. Modules are loaded only when their benchmark runs.
 */
import type { Benchmark } from './support/benchmark';

const BENCHMARKS: Record<string, { description: string; load: () => Promise<Benchmark> }> = {
  admission: {
    description: '200 clients creating and releasing allocations (500 tenants, 2,000 hosts), SQLite, PostgreSQL with one and two replicas; over-commit check',
    load: async () => (await import('./admission.bench')).admission,
  },
  ingest: {
    description: '10,000 simulated agents posting realistic reports for 20 s on SQLite and PostgreSQL: reports/s and p99 beside bare node:http',
    load: async () => (await import('./ingest.bench')).ingest,
  },
  'ingest-versus': {
    description: 'BENCH_VERSUS=<checkout>: ingest on this checkout and another (an earlier commit), interleaved in one run: the ratio',
    load: async () => (await import('./ingest-versus.bench')).ingestVersus,
  },
  enforce: {
    description: 'one quota enforcement pass over 1,000 tenants and 10,000 hosts on SQLite: ≤ 1 s, first, steady and after limits change',
    load: async () => (await import('./enforce.bench')).enforce,
  },
  agent: {
    description: 'the real agent reporting every second for 60 s: peak RSS and CPU share, beside node_exporter if installed',
    load: async () => (await import('./agent.bench')).agent,
  },
  metrics: {
    description: 'GET /metrics of 10,000 hosts and 1,000 tenants on SQLite and PostgreSQL: cold, warm and all-new scrapes beside a plain prom-client registry',
    load: async () => (await import('./metrics.bench')).metrics,
  },
  console: {
    description: "the web console's facility overview and a hosts page at 10,000 hosts and 1,000 tenants, beside GET /v1/capacity and /v1/hosts",
    load: async () => (await import('./console.bench')).consoleBench,
  },
};

function printList(): void {
  console.log('benchmarks (npm run bench -- <name>…; no name runs them all):');
  for (const [name, { description }] of Object.entries(BENCHMARKS)) console.log(`  ${name.padEnd(12)} ${description}`);
}

async function main(argv: string[]): Promise<number> {
  const names = argv.filter((argument) => argument !== '--');
  if (names.some((name) => name === '--help' || name === '-h' || name === 'list')) {
    printList();
    return 0;
  }
  const unknown = names.filter((name) => !Object.hasOwn(BENCHMARKS, name));
  if (unknown.length > 0) {
    console.error(`unknown benchmark${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`);
    printList();
    return 2;
  }
  const selected = names.length > 0 ? [...new Set(names)] : Object.keys(BENCHMARKS);
  const failed: string[] = [];
  for (const name of selected) {
    console.log(`\n=== ${name} ===`);
    const started = performance.now();
    try {
      const run = await BENCHMARKS[name].load();
      if (!(await run())) failed.push(name);
    } catch (error) {
      console.error(`${name}: ${(error as Error).stack ?? error}`);
      failed.push(name);
    }
    console.log(`=== ${name}: ${failed.includes(name) ? 'FAIL' : 'PASS'} (${((performance.now() - started) / 1000).toFixed(1)} s) ===`);
  }
  if (selected.length > 1) console.log(`\n${selected.length - failed.length} passed, ${failed.length} failed${failed.length ? `: ${failed.join(', ')}` : ''}`);
  return failed.length > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
