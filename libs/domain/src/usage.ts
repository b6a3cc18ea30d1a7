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
  /** Bytes used on the storage mounts (the filesystems whose size is the storage inventory), as df counts them. */
  storageUsed: number | null;
}

/**
 * A host's measured use of a built-in class: vCPU busy = usage ratio × logical cores; memory = total − available
 * (never below 0); storage = bytes used on the storage mounts. Null for a class agents do not measure (custom ones).
 */
export function measuredUse(resourceClass: string, use: HostUseFigures): number | null {
  switch (resourceClass) {
    case 'vcpu':
      return use.cpuUsageRatio * use.logicalCores;
    case 'memory':
      return Math.max(0, use.memoryTotal - use.memoryAvailable);
    case 'storage':
      return use.storageUsed;
    default:
      return null;
  }
}

/**
 * Bytes used on a host's storage mounts (those its agent declared at enrolment), as df counts them: each mountpoint
 * once, at its first reading, so that a report listing one twice does not count it twice. Null while none is measured.
 */
export function storageUsedOn(storageMounts: ReadonlySet<string>, filesystems: Iterable<readonly [mountpoint: string, usedBytes: unknown]>): number | null {
  const counted = new Set<string>();
  let used: number | null = null;
  for (const [mountpoint, usedBytes] of filesystems) {
    if (!storageMounts.has(mountpoint) || counted.has(mountpoint) || typeof usedBytes !== 'number' || !Number.isFinite(usedBytes)) continue;
    counted.add(mountpoint);
    used = (used ?? 0) + usedBytes;
  }
  return used;
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
