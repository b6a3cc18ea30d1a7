/**
 * Allocated, used and free, defined once: GET /v1/capacity, the forecast, the CLI and the dashboards all mean these.
 * - allocated: the sum of active allocations (what admission counted);
 * - used: what the hosts measure, in the class's unit (see measuredUse); a tenant's used is its attributed measured use;
 * - free: capacity − allocated, never below 0; overcommitted where allocated exceeds capacity.
 */

/** What a host's latest report says of its use, as the definitions below need it. */
export interface HostUseFigures {
  /** CPU busy share, 0 to 1. */
  cpuUsageRatio: number;
  logicalCores: number;
  memoryTotal: number;
  memoryAvailable: number;
  /** Bytes used on the storage mounts (the filesystems whose size is the storage inventory), as df counts them (see filesystemsUsed). */
  storageUsed: number | null;
}

/**
 * A host's measured use of a built-in class, never more than the host's total of that class as control records it
 * (`recordedTotal`, the inventory's total): a report's own figures are the host's word, up to 2^53 or 100,000 cores.
 * vCPU busy = usage ratio × the fewer of the report's logical cores and the recorded total; memory = total − available
 * (never below 0); storage = bytes used on the storage mounts. Null for a class agents do not measure (custom ones).
 */
export function measuredUse(resourceClass: string, use: HostUseFigures, recordedTotal: number): number | null {
  const total = Math.max(0, recordedTotal);
  switch (resourceClass) {
    case 'vcpu':
      return Math.min(use.logicalCores, total) * Math.min(Math.max(use.cpuUsageRatio, 0), 1);
    case 'memory':
      return Math.min(Math.max(0, use.memoryTotal - use.memoryAvailable), total);
    case 'storage':
      return use.storageUsed === null ? null : Math.min(Math.max(0, use.storageUsed), total);
    default:
      return null;
  }
}

/** Bytes used on a set of filesystems, each taking at most its size (a report's used bytes are the host's word). */
export function filesystemsUsed(filesystems: Iterable<{ sizeBytes: number; usedBytes: number }>): number {
  let used = 0;
  for (const filesystem of filesystems) used += Math.min(Math.max(0, filesystem.usedBytes), Math.max(0, filesystem.sizeBytes));
  return used;
}

/**
 * Bytes used on a host's storage mounts (those its agent declared at enrolment), as df counts them: each mountpoint
 * once, at its first reading, so that a report listing one twice does not count it twice, and at most its size where
 * the size is known (filesystemsUsed). Null while none is measured.
 */
export function storageUsedOn(
  storageMounts: ReadonlySet<string>,
  filesystems: Iterable<readonly [mountpoint: string, usedBytes: unknown, sizeBytes?: unknown]>,
): number | null {
  const counted = new Map<string, { sizeBytes: number; usedBytes: number }>();
  for (const [mountpoint, usedBytes, sizeBytes] of filesystems) {
    if (!storageMounts.has(mountpoint) || counted.has(mountpoint) || typeof usedBytes !== 'number' || !Number.isFinite(usedBytes)) continue;
    counted.set(mountpoint, { usedBytes, sizeBytes: typeof sizeBytes === 'number' && Number.isFinite(sizeBytes) ? sizeBytes : Number.MAX_SAFE_INTEGER });
  }
  if (counted.size === 0) return null;
  return filesystemsUsed(counted.values());
}

/** free = capacity − allocated, never below 0. */
export function freeOf(capacity: number, allocated: number): number {
  return Math.max(0, capacity - allocated);
}

/** Allocated exceeds capacity: free shows 0, and this says why. */
export function isOvercommitted(capacity: number, allocated: number): boolean {
  return allocated > capacity;
}

/** Capacity, allocated and used of one class over a set of hosts (a site, the facility), with free and overcommitted. */
export interface UsageFigures {
  capacity: number;
  allocated: number;
  /** Null until some host of the set has a measurement of the class. */
  used: number | null;
  free: number;
  overcommitted: boolean;
}

/** One host's figures of a class; `used` null where it has no current measurement. */
export function usageOf(capacity: number, allocated: number, used: number | null): UsageFigures {
  return { capacity, allocated, used, free: freeOf(capacity, allocated), overcommitted: isOvercommitted(capacity, allocated) };
}

/**
 * The figures of a set from its members': capacity, allocated and used add up (used stays null while no member is
 * measured), and free and overcommitted follow from the set's own sums, by the same rule as for one host.
 */
export function sumUsage(parts: readonly UsageFigures[]): UsageFigures {
  let capacity = 0;
  let allocated = 0;
  let used: number | null = null;
  for (const part of parts) {
    capacity += part.capacity;
    allocated += part.allocated;
    if (part.used !== null) used = (used ?? 0) + part.used;
  }
  return usageOf(capacity, allocated, used);
}
