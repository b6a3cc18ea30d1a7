import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { Report } from '@dcm/protocol';
import type { AgentLogger } from '../apps/agent/src/agent-logger';
import { Collector } from '../apps/agent/src/collector';
import { freePort } from './support/ports';
import { eventually } from './support/eventually';

/** Debian's prometheus-node-exporter: the peer the agent's measurements are held to (`.ci/run` installs it). */
const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';
const REAL_FILESYSTEMS = new Set(['ext4', 'xfs', 'btrfs']);
const MOVING_TOLERANCE = 0.01;
/** /proc/loadavg, which node_exporter reads, has two decimals; the agent's load (sysinfo(2)) is exact. */
const LOADAVG_RESOLUTION = 0.005;

type Samples = Map<string, { labels: Record<string, string>; value: number }[]>;

/** The samples of a Prometheus text exposition, by metric name. */
function parseExposition(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[name] = JSON.parse(`"${value}"`);
    samples.set(match[1], [...(samples.get(match[1]) ?? []), { labels, value: Number(match[3]) }]);
  }
  return samples;
}

/** The one value of a metric whose labels include `labels`. */
function valueOf(samples: Samples, name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.get(name)?.find((sample) => Object.entries(labels).every(([key, value]) => sample.labels[key] === value))?.value;
}

/** Devices of this machine's mounts, by mount point (/proc/self/mounts escapes spaces and the like as octal). */
function mountDevices(): Map<string, string> {
  const unescape = (text: string) => text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  const devices = new Map<string, string>();
  for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n').filter(Boolean)) {
    const [device, mountpoint] = line.split(' ');
    devices.set(unescape(mountpoint), unescape(device));
  }
  return devices;
}

/**
 * Runs Debian's node_exporter beside the agent's collector on this machine and reads both, the agent between two
 * scrapes, so that a moving value is held to what node_exporter read just before and just after it. Totals must be
 * equal; moving values within 1 % of that range; every ext4/xfs/btrfs filesystem and non-loopback interface that
 * node_exporter reports must be in the agent's report. A failure names every field that disagrees.
 */
describe('the agent against prometheus-node-exporter', () => {
  const quiet: AgentLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const sut = new Collector({ hostname: 'this-host', storageMounts: ['/'], tenants: {} }, quiet);
  let exporter: ChildProcess;
  let url: string;

  beforeAll(async () => {
    if (!existsSync(NODE_EXPORTER)) throw new Error(`${NODE_EXPORTER} is missing: apt-get install prometheus-node-exporter`);
    const port = await freePort();
    url = `http://127.0.0.1:${port}/metrics`;
    const collectors = ['cpu', 'meminfo', 'loadavg', 'filesystem', 'netdev'].map((name) => `--collector.${name}`);
    exporter = spawn(NODE_EXPORTER, [`--web.listen-address=127.0.0.1:${port}`, '--collector.disable-defaults', ...collectors], { stdio: 'ignore' });
    await eventually('node_exporter to start', async () => (await fetch(url)).ok, 10_000);
    await sut.warmUp();
  }, 30_000);

  afterAll(() => exporter?.kill());

  const scrape = async (): Promise<Samples> => parseExposition(await (await fetch(url)).text());

  it('reads the same totals, moving values within 1 %, and every real filesystem and interface', async () => {
    const before = await scrape();
    const report: Report = await sut.collect(1);
    const after = await scrape();
    const disagreements: string[] = [];

    const total = (field: string, agent: number | undefined, name: string, labels: Record<string, string> = {}, scrapes = [before, after]) => {
      const peer = scrapes.map((samples) => valueOf(samples, name, labels));
      if (peer.some((value) => value !== agent)) disagreements.push(`${field}: the agent says ${agent}, node_exporter ${peer.join(' then ')} (${name})`);
    };
    const moving = (field: string, agent: number | undefined, peer: (samples: Samples) => number | undefined, name: string, absolute = 0) => {
      const [low, high] = [peer(before), peer(after)].sort((a, b) => (a ?? NaN) - (b ?? NaN));
      const slack = (value: number) => Math.max(Math.abs(value) * MOVING_TOLERANCE, absolute);
      const within = agent !== undefined && low !== undefined && high !== undefined && agent >= low - slack(low) && agent <= high + slack(high);
      if (!within) disagreements.push(`${field}: the agent says ${agent}, node_exporter ${peer(before)} then ${peer(after)} (${name}; 1 %)`);
    };

    total('memory.totalBytes', report.memory.totalBytes, 'node_memory_MemTotal_bytes');
    moving('memory.availableBytes', report.memory.availableBytes, (s) => valueOf(s, 'node_memory_MemAvailable_bytes'), 'node_memory_MemAvailable_bytes');
    const cpus = (samples: Samples) => new Set(samples.get('node_cpu_seconds_total')?.map((sample) => sample.labels.cpu)).size;
    if (cpus(before) !== report.cpu.logicalCores)
      disagreements.push(`cpu.logicalCores: the agent says ${report.cpu.logicalCores}, node_exporter ${cpus(before)} CPUs`);
    for (const period of ['1', '5', '15'] as const) {
      const agent = report.cpu[`load${period}`];
      moving(`cpu.load${period}`, agent, (s) => valueOf(s, `node_load${period}`), `node_load${period}`, LOADAVG_RESOLUTION);
    }

    // A filesystem mounted at several points (a bind mount) is listed once by df, and by the agent: any of them will do.
    const devices = mountDevices();
    const agentFilesystems = new Map(report.filesystems.map((fs) => [fs.mountpoint, fs]));
    const peerFilesystems = (before.get('node_filesystem_size_bytes') ?? []).filter((sample) => REAL_FILESYSTEMS.has(sample.labels.fstype));
    expect(peerFilesystems.length).toBeGreaterThan(0);
    for (const { labels } of peerFilesystems) {
      const { mountpoint, device } = labels;
      const fs = agentFilesystems.get(mountpoint);
      if (!fs) {
        const listedElsewhere = report.filesystems.some((listed) => devices.get(listed.mountpoint) === device);
        if (!listedElsewhere)
          disagreements.push(`filesystems[${mountpoint}]: node_exporter reports ${labels.fstype} ${device} there; the agent does not list it`);
        continue;
      }
      const field = `filesystems[${mountpoint}]`;
      if (fs.fstype !== labels.fstype) disagreements.push(`${field}.fstype: the agent says ${fs.fstype}, node_exporter ${labels.fstype}`);
      total(`${field}.sizeBytes`, fs.sizeBytes, 'node_filesystem_size_bytes', { mountpoint });
      // As df counts it: used = size − free (root-reserved blocks are free, not used); avail excludes them.
      const used = (s: Samples) => valueOf(s, 'node_filesystem_size_bytes', { mountpoint })! - valueOf(s, 'node_filesystem_free_bytes', { mountpoint })!;
      moving(`${field}.usedBytes`, fs.usedBytes, used, 'node_filesystem_size_bytes − node_filesystem_free_bytes');
      moving(`${field}.availBytes`, fs.availBytes, (s) => valueOf(s, 'node_filesystem_avail_bytes', { mountpoint }), 'node_filesystem_avail_bytes');
    }

    const agentInterfaces = new Map(report.network.map((device) => [device.device, device]));
    const peerInterfaces = (before.get('node_network_receive_bytes_total') ?? []).map((sample) => sample.labels.device).filter((device) => device !== 'lo');
    for (const device of peerInterfaces) {
      const listed = agentInterfaces.get(device);
      if (!listed) {
        disagreements.push(`network[${device}]: node_exporter reports it; the agent does not list it`);
        continue;
      }
      for (const [field, name] of [
        ['rxBytesTotal', 'node_network_receive_bytes_total'],
        ['txBytesTotal', 'node_network_transmit_bytes_total'],
      ] as const) {
        moving(`network[${device}].${field}`, listed[field], (s) => valueOf(s, name, { device }), name);
      }
    }

    expect(disagreements).toEqual([]);
  }, 30_000);
});
