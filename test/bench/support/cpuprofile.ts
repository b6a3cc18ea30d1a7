/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof` or a benchmark run with BENCH_PROFILE=<dir>): the functions with
 * the most self time, and self time by area (a package under node_modules, the project's own apps/ and libs/, or V8's
 * pseudo-frames such as (garbage collector)). Also runs on its own:
 *   npx ts-node --transpile-only test/bench/support/cpuprofile.ts <file.cpuprofile> [top]
 */
import { readFileSync } from 'node:fs';
import { REPO_ROOT } from './child';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTime {
  name: string;
  micros: number;
  share: number;
}

export interface ProfileSummary {
  totalMicros: number;
  functions: SelfTime[];
  areas: SelfTime[];
  /** The project's own functions (apps/, libs/) by total time: their own and their callees' (synchronous) time. */
  projectInclusive: SelfTime[];
}

/** Where a frame's code lives: `pkg:typeorm`, `apps/control/src/allocations`, `node:internal`, `(garbage collector)`… */
function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const path = url.replace(/^file:\/\//, '');
  const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (packageMatch) return `pkg:${packageMatch[1]}`;
  if (path.startsWith('node:')) return path.startsWith('node:internal') ? 'node:internal' : path;
  if (path.startsWith(REPO_ROOT)) {
    const relative = path.slice(REPO_ROOT.length + 1).split('/');
    return relative.slice(0, Math.min(relative.length - 1, 4)).join('/');
  }
  return path;
}

function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const packageMatch = /node_modules\/(.*)$/.exec(path);
  if (packageMatch) return packageMatch[1];
  return path.startsWith(REPO_ROOT) ? path.slice(REPO_ROOT.length + 1) : path;
}

export function summariseProfile(file: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map<number, number>();
  if (profile.samples && profile.timeDeltas) {
    // Each sample's time is the delta to the next sample.
    for (let index = 0; index < profile.samples.length; index++) {
      const delta = profile.timeDeltas[index + 1] ?? 0;
      selfMicros.set(profile.samples[index], (selfMicros.get(profile.samples[index]) ?? 0) + Math.max(0, delta));
    }
  }
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const nameOf = ({ functionName, url, lineNumber }: ProfileNode['callFrame']) =>
    url ? `${functionName || '(anonymous)'}  ${shortUrl(url)}:${lineNumber + 1}` : functionName || '(anonymous)';
  const isProject = (url: string) => {
    const path = url.replace(/^file:\/\//, '');
    return path.startsWith(`${REPO_ROOT}/apps/`) || path.startsWith(`${REPO_ROOT}/libs/`);
  };

  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  for (const [id, micros] of selfMicros) {
    const { callFrame } = nodes.get(id)!;
    const name = nameOf(callFrame);
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
    const area = areaOf(callFrame.url, callFrame.functionName);
    byArea.set(area, (byArea.get(area) ?? 0) + micros);
    total += micros;
    // Every project function on this sample's stack gets the sample's time once (recursion is not counted twice).
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
      const frame = nodes.get(at)!.callFrame;
      if (!isProject(frame.url)) continue;
      const frameName = nameOf(frame);
      if (seen.has(frameName)) continue;
      seen.add(frameName);
      inclusive.set(frameName, (inclusive.get(frameName) ?? 0) + micros);
    }
  }
  const ranked = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => ({ name, micros, share: total > 0 ? micros / total : 0 }));
  return { totalMicros: total, functions: ranked(byFunction), areas: ranked(byArea), projectInclusive: ranked(inclusive) };
}

export function formatProfileSummary(summary: ProfileSummary): string[] {
  const row = (entry: SelfTime) => `${(entry.share * 100).toFixed(1).padStart(5)} %  ${(entry.micros / 1000).toFixed(0).padStart(7)} ms  ${entry.name}`;
  return [
    `sampled ${(summary.totalMicros / 1e6).toFixed(1)} s of the server's main thread`,
    'self time by area:',
    ...summary.areas.map((entry) => `  ${row(entry)}`),
    'self time by function:',
    ...summary.functions.map((entry) => `  ${row(entry)}`),
    "the project's functions by total time (their own and their callees', synchronous part only):",
    ...summary.projectInclusive.map((entry) => `  ${row(entry)}`),
  ];
}

if (require.main === module) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: cpuprofile.ts <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  process.stdout.write(`${formatProfileSummary(summariseProfile(file, top ? Number(top) : 25)).join('\n')}\n`);
}
