import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import type { HostFacts, Report } from '@dcm/protocol';
// The constants alone: the schemas and their validators are control's, and would cost the agent ~20 MB.
import { REPORT_SCHEMA_VERSION } from '@dcm/protocol/constants';
import { cleanText } from '@dcm/protocol/text';
import si from 'systeminformation';
import type { AgentConfig } from './agent-config';
import type { AgentLogger } from './agent-logger';
import { TenantUseMeter } from './tenant-use';

/** The most filesystems, and interfaces, one report may list (ReportSchema). */
const MAX_LISTED = 256;
const VIRTUAL_INTERFACE = /^(veth|cali|lxc|tap|vnet|cni|flannel|docker|br-|virbr|vxlan|tun)/;

/** What the agent needs from a measurement source; specs hand in a fixed one. */
export interface ReportSource {
  warmUp(): Promise<void>;
  facts(): Promise<HostFacts>;
  collect(seq: number, now?: Date): Promise<Report>;
}

/**
 * Measures this machine with systeminformation (and the tenants' mounts and cgroups as configured). Filesystems are
 * those fsSize lists (it already leaves out tmpfs, devtmpfs, squashfs and the like) with a size, once per mount point.
 */
export class Collector implements ReportSource {
  private readonly tenantUse: TenantUseMeter;
  private readonly warned = new Set<string>();

  constructor(
    private readonly config: Pick<AgentConfig, 'storageMounts' | 'tenants' | 'hostname'>,
    private readonly logger: AgentLogger,
  ) {
    this.tenantUse = new TenantUseMeter(config.tenants, logger);
  }

  /** The first CPU load reading of systeminformation takes about half a second; take it once at start. */
  async warmUp(): Promise<void> {
    await si.currentLoad();
  }

  async facts(): Promise<HostFacts> {
    const [os, cpu, memory, filesystems] = await Promise.all([si.osInfo(), si.cpu(), si.mem(), this.filesystems()]);
    return {
      hostname: this.config.hostname,
      // Control refuses an enrolment with control characters or lone surrogates in its facts.
      os: cleanText(`${os.distro} ${os.release}`.trim(), 200),
      kernel: cleanText(os.kernel, 200),
      cpuModel: cleanText(`${cpu.manufacturer} ${cpu.brand}`.trim(), 200),
      logicalCores: availableParallelism(),
      memoryTotalBytes: memory.total,
      storage: this.storageFilesystems(filesystems).map((fs) => ({ mountpoint: fs.mountpoint, sizeBytes: fs.sizeBytes })),
    };
  }

  async collect(seq: number, now: Date = new Date()): Promise<Report> {
    const [load, memory, filesystems, tenants] = await Promise.all([si.currentLoad(), si.mem(), this.filesystems(), this.tenantUse.measure()]);
    const network = readNetworkCounters(readFileSync('/proc/net/dev', 'latin1'));
    const [load1, load5, load15] = loadavg();
    const logicalCores = availableParallelism();
    return {
      schemaVersion: REPORT_SCHEMA_VERSION,
      seq,
      collectedAt: now.toISOString(),
      cpu: { usageRatio: clampRatio(load.currentLoad / 100), load1, load5, load15, logicalCores },
      memory: { totalBytes: memory.total, availableBytes: memory.available },
      filesystems,
      network: this.capped(
        'network',
        // Interfaces a container or VM engine creates by the hundred go last, so that the cap keeps the host's own.
        network.filter((device) => device.device !== 'lo').sort((a, b) => Number(VIRTUAL_INTERFACE.test(a.device)) - Number(VIRTUAL_INTERFACE.test(b.device))),
      ),
      inventory: {
        vcpu: logicalCores,
        memoryBytes: memory.total,
        storageBytes: this.storageFilesystems(filesystems).reduce((total, fs) => total + fs.sizeBytes, 0),
      },
      tenants,
    };
  }

  private async filesystems(): Promise<Report['filesystems']> {
    const sizes = await si.fsSize();
    const seen = new Set<string>();
    const counted = new Set(['/', ...this.config.storageMounts]);
    return this.capped(
      'filesystems',
      sizes
        // A container engine's overlay mounts (one per container) sit on a filesystem that is listed itself.
        .filter((fs) => fs.size > 0 && (fs.type !== 'overlay' || counted.has(fs.mount)) && !seen.has(fs.mount) && seen.add(fs.mount))
        .sort((a, b) => Number(!counted.has(a.mount)) - Number(!counted.has(b.mount)))
        .map((fs) => ({
          mountpoint: fs.mount,
          fstype: fs.type.slice(0, 64),
          sizeBytes: whole(fs.size),
          usedBytes: whole(fs.used),
          availBytes: whole(fs.available),
        })),
    );
  }

  /** The configured storage mounts as measured; one that is not mounted counts nothing and is warned about once. */
  private storageFilesystems(filesystems: Report['filesystems']): Report['filesystems'] {
    const found = filesystems.filter((fs) => this.config.storageMounts.includes(fs.mountpoint));
    for (const mount of this.config.storageMounts) {
      if (!found.some((fs) => fs.mountpoint === mount))
        this.warnOnce(`storage:${mount}`, { mount }, 'a storageMounts entry is not a mounted filesystem: it adds nothing to the storage inventory');
    }
    return found;
  }

  /** The protocol takes at most 256 filesystems and 256 interfaces: a longer list would get every report refused. */
  private capped<T>(section: string, items: T[]): T[] {
    if (items.length <= MAX_LISTED) return items;
    this.warnOnce(`cap:${section}`, { section, count: items.length, kept: MAX_LISTED }, 'more entries than a report holds: the rest are left out');
    return items.slice(0, MAX_LISTED);
  }

  private warnOnce(key: string, details: object, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.logger.warn(details, message);
  }
}

/**
 * Every interface of this network namespace with its byte counters, from /proc/net/dev as the kernel keeps them (and
 * node_exporter reads them): systeminformation's list holds only interfaces with an address, and costs a process each.
 */
export function readNetworkCounters(procNetDev: string): Report['network'] {
  const devices: Report['network'] = [];
  for (const line of procNetDev.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    // Receive: bytes packets errs drop fifo frame compressed multicast; then Transmit: bytes …
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    devices.push({ device: line.slice(0, colon).trim().slice(0, 64), rxBytesTotal: whole(Number(fields[0])), txBytesTotal: whole(Number(fields[8])) });
  }
  return devices;
}

function whole(value: number | null | undefined): number {
  return Number.isFinite(value) && (value as number) > 0 ? Math.round(value as number) : 0;
}

function clampRatio(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}
