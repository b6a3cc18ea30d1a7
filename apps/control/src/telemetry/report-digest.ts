/**
 * What /metrics needs of a host's latest report, written beside it at ingest (host_measurements.digest). A scrape
 * after every host has reported again used to parse every whole report (about 2 KB each, 20 MB at 10,000 hosts);
 * the digest is a fifth of that. Read defensively all the same, and computed from the whole report for rows written
 * before the digest existed.
 */
export interface ReportDigest {
  /** When the agent collected the report (ms since the epoch), or null if unreadable. */
  collectedAt: number | null;
  cpuUsageRatio: number | null;
  /** Absent from digests stored before dcm_host_used was exported: such a host shows no measured use until it reports. */
  logicalCores?: number | null;
  load1: number | null;
  /** Absent from digests stored before it was exported. */
  load5?: number | null;
  load15?: number | null;
  memoryTotal: number | null;
  memoryAvailable: number | null;
  /** [mountpoint, size, avail, used], each mountpoint once; used is absent from digests stored before it was exported. */
  filesystems: [string, number | null, number | null, (number | null)?][];
  /** [device, received, transmitted], each device once. */
  network: [string, number | null, number | null][];
  /** [tenant slug, memory, storage used], for tenants with either measured. */
  tenants: [string, number | null, number | null][];
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const numberOrNull = (value: unknown): number | null => (typeof value === 'number' ? value : null);

export const EMPTY_DIGEST: ReportDigest = {
  collectedAt: null,
  cpuUsageRatio: null,
  logicalCores: null,
  load1: null,
  load5: null,
  load15: null,
  memoryTotal: null,
  memoryAvailable: null,
  filesystems: [],
  network: [],
  tenants: [],
};

/** The digest of a report (a parsed object of @dcm/protocol's schema, or anything else, which gives an empty one). */
export function digestOf(report: unknown): ReportDigest {
  if (!isObject(report)) return EMPTY_DIGEST;
  const cpu = isObject(report.cpu) ? report.cpu : {};
  const memory = isObject(report.memory) ? report.memory : {};
  // A mountpoint or device listed twice is kept once: a duplicate series would make Prometheus refuse the scrape.
  const once = <T extends [string, ...unknown[]]>(rows: T[]) => {
    const seen = new Set<string>();
    return rows.filter(([key]) => !seen.has(key) && seen.add(key));
  };
  const filesystems = once(
    (Array.isArray(report.filesystems) ? report.filesystems : [])
      .filter((filesystem): filesystem is Json => isObject(filesystem) && typeof filesystem.mountpoint === 'string')
      .map((filesystem): [string, number | null, number | null, number | null] => [
        filesystem.mountpoint as string,
        numberOrNull(filesystem.sizeBytes),
        numberOrNull(filesystem.availBytes),
        numberOrNull(filesystem.usedBytes),
      ]),
  );
  const network = once(
    (Array.isArray(report.network) ? report.network : [])
      .filter((device): device is Json => isObject(device) && typeof device.device === 'string')
      .map((device): [string, number | null, number | null] => [device.device as string, numberOrNull(device.rxBytesTotal), numberOrNull(device.txBytesTotal)]),
  );
  const tenants: [string, number | null, number | null][] = [];
  if (isObject(report.tenants)) {
    for (const [slug, use] of Object.entries(report.tenants)) {
      if (!isObject(use)) continue;
      const measured: [string, number | null, number | null] = [slug, numberOrNull(use.memoryBytes), numberOrNull(use.storageUsedBytes)];
      if (measured[1] !== null || measured[2] !== null) tenants.push(measured);
    }
  }
  const collectedAt = typeof report.collectedAt === 'string' ? Date.parse(report.collectedAt) : NaN;
  return {
    collectedAt: Number.isFinite(collectedAt) ? collectedAt : null,
    cpuUsageRatio: numberOrNull(cpu.usageRatio),
    logicalCores: numberOrNull(cpu.logicalCores),
    load1: numberOrNull(cpu.load1),
    load5: numberOrNull(cpu.load5),
    load15: numberOrNull(cpu.load15),
    memoryTotal: numberOrNull(memory.totalBytes),
    memoryAvailable: numberOrNull(memory.availableBytes),
    filesystems,
    network,
    tenants,
  };
}

/** Reads a stored digest, or failing that digests the whole stored report; anything unreadable gives an empty one. */
export function readDigest(digestJson: string | null, reportJson: string | null): ReportDigest {
  try {
    if (digestJson !== null) {
      const digest: unknown = JSON.parse(digestJson);
      if (isObject(digest) && Array.isArray(digest.filesystems) && Array.isArray(digest.network) && Array.isArray(digest.tenants)) {
        return digest as unknown as ReportDigest;
      }
    }
    return reportJson === null ? EMPTY_DIGEST : digestOf(JSON.parse(reportJson));
  } catch {
    return EMPTY_DIGEST;
  }
}
