import { availableParallelism, loadavg } from 'node:os';
import type { HostFacts, Report } from '@dcm/protocol';
// The constants alone: the schemas and their validators are control's, and would cost the agent ~20 MB.
import { REPORT_SCHEMA_VERSION } from '@dcm/protocol/constants';
import si from 'systeminformation';
import type { AgentConfig } from './agent-config';
import { measureTenants } from './tenant-use';

/** Filesystem types that describe no storage of the host's own. */
const PSEUDO_FILESYSTEMS = new Set(['tmpfs', 'devtmpfs', 'overlay', 'squashfs', 'proc', 'sysfs', 'cgroup2', 'ramfs']);

/** Measures this machine with systeminformation (and the tenants' mounts and cgroups as configured). */
export class Collector {
  constructor(private readonly config: Pick<AgentConfig, 'storageMounts' | 'tenants' | 'hostname'>) {}

  /** The first CPU load reading of systeminformation takes about half a second; take it once at start. */
  async warmUp(): Promise<void> {
    await si.currentLoad();
    await si.networkStats('*');
  }

  async facts(): Promise<HostFacts> {
    const [os, cpu, memory, filesystems] = await Promise.all([si.osInfo(), si.cpu(), si.mem(), this.filesystems()]);
    return {
      hostname: this.config.hostname,
      os: `${os.distro} ${os.release}`.trim().slice(0, 200),
      kernel: os.kernel.slice(0, 200),
      cpuModel: `${cpu.manufacturer} ${cpu.brand}`.trim().slice(0, 200),
      logicalCores: availableParallelism(),
      memoryTotalBytes: memory.total,
      storage: filesystems
        .filter((fs) => this.config.storageMounts.includes(fs.mountpoint))
        .map((fs) => ({ mountpoint: fs.mountpoint, sizeBytes: fs.sizeBytes })),
    };
  }

  async collect(seq: number, now: Date = new Date()): Promise<Report> {
    const [load, memory, filesystems, network, tenants] = await Promise.all([
      si.currentLoad(),
      si.mem(),
      this.filesystems(),
      si.networkStats('*'),
      measureTenants(this.config.tenants),
    ]);
    const [load1, load5, load15] = loadavg();
    const logicalCores = availableParallelism();
    return {
      schemaVersion: REPORT_SCHEMA_VERSION,
      seq,
      collectedAt: now.toISOString(),
      cpu: { usageRatio: clampRatio(load.currentLoad / 100), load1, load5, load15, logicalCores },
      memory: { totalBytes: memory.total, availableBytes: memory.available },
      filesystems,
      network: network
        .filter((device) => device.iface !== 'lo')
        .map((device) => ({ device: device.iface.slice(0, 64), rxBytesTotal: whole(device.rx_bytes), txBytesTotal: whole(device.tx_bytes) })),
      inventory: {
        vcpu: logicalCores,
        memoryBytes: memory.total,
        storageBytes: filesystems.filter((fs) => this.config.storageMounts.includes(fs.mountpoint)).reduce((total, fs) => total + fs.sizeBytes, 0),
      },
      tenants,
    };
  }

  private async filesystems(): Promise<Report['filesystems']> {
    const sizes = await si.fsSize();
    const seen = new Set<string>();
    return sizes
      .filter((fs) => fs.size > 0 && !PSEUDO_FILESYSTEMS.has(fs.type) && !seen.has(fs.mount) && seen.add(fs.mount))
      .map((fs) => ({
        mountpoint: fs.mount,
        fstype: fs.type.slice(0, 64),
        sizeBytes: whole(fs.size),
        usedBytes: whole(fs.used),
        availBytes: whole(fs.available),
      }));
  }
}

function whole(value: number | null | undefined): number {
  return Number.isFinite(value) && (value as number) > 0 ? Math.round(value as number) : 0;
}

function clampRatio(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}
