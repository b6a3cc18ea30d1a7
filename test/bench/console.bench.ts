/**
 * `npm run bench -- console`: the web console's facility overview and one page of its hosts list, over a facility of
 * 10,000 hosts (each with a latest report) and 1,000 tenants seeded straight into control's SQLite database (as the
 * metrics benchmark seeds it), beside the JSON answers that carry the same figures, in the same run against the same
 * control: GET /console/ against GET /v1/capacity, and GET /console/hosts?page=2 against GET /v1/hosts?limit=50&offset=50.
 * The overview also shows the forecast and the organisations' states, so GET /v1/capacity + GET /v1/capacity/forecast
 * is shown too. Each figure is the median time of BENCH_RUNS requests over HTTP (4 × for the hosts pages, which are
 * quick), one at a time, taking turns with its twin, after two unmeasured rounds. Target: each page within 2× of its JSON twin.
 *
 * Environment: BENCH_HOSTS=10000, BENCH_TENANTS=1000, BENCH_RUNS=15.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { HOSTS_PER_PAGE } from '../../apps/control/src/console/console-facility.controller';
import { Benchmark, cleanupOnInterrupt, dec, envNumber, int } from './support/benchmark';
import { startChild } from './support/child';
import type { ControlServerDetails } from './support/control-server';
import { seed, sqliteDatabase } from './metrics.bench';

const RATIO_TARGET = 2;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

interface Request {
  url: string;
  headers: Record<string, string>;
}

/**
 * Median milliseconds of `runs` GETs of each request (after two unmeasured rounds) and each one's last body. The
 * requests take turns, one at a time, so that whatever else the machine (or control's scheduler) does meanwhile falls
 * on each of them alike.
 */
async function time(requests: Request[], runs: number): Promise<{ ms: number; body: string }[]> {
  const times = requests.map(() => [] as number[]);
  const bodies = requests.map(() => '');
  for (let run = -2; run < runs; run++) {
    for (const [index, { url, headers }] of requests.entries()) {
      const started = performance.now();
      const response = await fetch(url, { headers, redirect: 'manual' });
      bodies[index] = await response.text();
      if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}: ${bodies[index].slice(0, 300)}`);
      if (run >= 0) times[index].push(performance.now() - started);
    }
  }
  return times.map((values, index) => ({ ms: median(values), body: bodies[index] }));
}

/** Signs in to the console as a browser would (the sign-in page's CSRF token, then the form); returns the Cookie header. */
async function signIn(url: string, token: string): Promise<string> {
  const page = await fetch(`${url}/console/sign-in`);
  const cookies = (response: Response) => response.headers.getSetCookie().map((line) => line.split(';')[0]);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1];
  const signedIn = await fetch(`${url}/console/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookies(page).join('; ') },
    body: new URLSearchParams({ _csrf: csrf, token }).toString(),
    redirect: 'manual',
  });
  if (signedIn.status !== 303) throw new Error(`sign-in answered ${signedIn.status}`);
  return cookies(signedIn).join('; ');
}

export const consoleBench: Benchmark = async () => {
  const hostCount = envNumber('BENCH_HOSTS', 10_000);
  const tenantCount = envNumber('BENCH_TENANTS', 1_000);
  const runs = envNumber('BENCH_RUNS', 15);

  const control = await startChild<ControlServerDetails>('control-server.ts', {}, 'control');
  const stop = async () => {
    await control.stop();
    rmSync(control.details.dataDir, { recursive: true, force: true });
  };
  const forget = cleanupOnInterrupt(stop);
  try {
    const db = sqliteDatabase(join(control.details.dataDir, 'dcm.sqlite'));
    const started = performance.now();
    await seed(db, hostCount, tenantCount);
    await db.close();
    console.log(`seeded ${int(hostCount)} hosts and ${int(tenantCount)} tenants in ${dec((performance.now() - started) / 1000)} s`);

    const { url, adminToken } = control.details;
    const bearer = { authorization: `Bearer ${adminToken}` };
    const cookie = { cookie: await signIn(url, adminToken) };
    const offset = HOSTS_PER_PAGE;

    const [capacity, forecast, overview] = await time(
      [
        { url: `${url}/v1/capacity`, headers: bearer },
        { url: `${url}/v1/capacity/forecast`, headers: bearer },
        { url: `${url}/console/`, headers: cookie },
      ],
      runs,
    );
    const [hostsJson, hostsPage] = await time(
      [
        { url: `${url}/v1/hosts?limit=${HOSTS_PER_PAGE}&offset=${offset}`, headers: bearer },
        { url: `${url}/console/hosts?page=2`, headers: cookie },
      ],
      runs * 4,
    );

    // The pages show what the API answers: the facility's vCPU capacity, and the same hosts in the same order.
    const facilityVcpu = (JSON.parse(capacity.body) as { facility: { resources: { vcpu: { capacity: number } } } }).facility.resources.vcpu.capacity;
    const names = (JSON.parse(hostsJson.body) as { name: string }[]).map((host) => host.name);
    const shownNames = [...hostsPage.body.matchAll(/href="\/console\/hosts\/([^"]+)"/g)].map((match) => decodeURIComponent(match[1]));
    const consistent =
      overview.body.includes(`>${facilityVcpu.toLocaleString('en-GB')}<`) && names.length === HOSTS_PER_PAGE && shownNames.join() === names.join();

    const row = (label: string, ms: number) => `  ${label.padEnd(58)} ${dec(ms).padStart(8)} ms`;
    const overviewRatio = overview.ms / capacity.ms;
    const hostsRatio = hostsPage.ms / hostsJson.ms;
    console.log(`medians over HTTP, one request at a time, each page taking turns with its JSON twin (${runs} and ${runs * 4} rounds):`);
    console.log(row('GET /v1/capacity', capacity.ms));
    console.log(row('GET /v1/capacity/forecast', forecast.ms));
    console.log(row('GET /console/ (facility overview)', overview.ms));
    console.log(row(`GET /v1/hosts?limit=${HOSTS_PER_PAGE}&offset=${offset}`, hostsJson.ms));
    console.log(row('GET /console/hosts?page=2', hostsPage.ms));
    console.log(
      `  overview / capacity: ${dec(overviewRatio)}× (target ≤ ${RATIO_TARGET}×); overview / (capacity + forecast): ${dec(overview.ms / (capacity.ms + forecast.ms))}×`,
    );
    console.log(`  hosts page / JSON page: ${dec(hostsRatio)}× (target ≤ ${RATIO_TARGET}×)`);
    console.log(`  pages show the API's figures: ${consistent ? 'yes' : 'NO'}`);
    if (overviewRatio > RATIO_TARGET || hostsRatio > RATIO_TARGET) console.log('  above the 2× target');
    return consistent;
  } finally {
    forget();
    await stop();
  }
};
