import { lstat, readdir, readFile, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { TenantUse } from '@dcm/protocol';
import type { AgentConfig } from './agent-config';

/** Bounds the walk of a directory-backed tenant mount, so that a huge tree cannot stall a report. */
const MAX_WALKED_ENTRIES = 200_000;

/**
 * Measures each tenant's use as the agent's config maps it: storage used on its mounts (a real mount point: the
 * filesystem's used blocks; a plain directory: the allocated size of the tree below it), and memory and CPU of its
 * cgroup v2 directories (memory.current, cpu.stat usage_usec). What cannot be read is left out, not guessed.
 */
export async function measureTenants(tenants: AgentConfig['tenants']): Promise<Record<string, TenantUse>> {
  const result: Record<string, TenantUse> = {};
  for (const [slug, sources] of Object.entries(tenants)) {
    const use: TenantUse = {};
    const storage = await sumOf(sources.mounts.map(storageUsed));
    if (storage !== null) use.storageUsedBytes = storage;
    const memory = await sumOf(sources.cgroups.map((cgroup) => readNumber(join(cgroup, 'memory.current'))));
    if (memory !== null) use.memoryBytes = memory;
    const cpu = await sumOf(sources.cgroups.map(cpuSeconds));
    if (cpu !== null) use.cpuUsageSecondsTotal = cpu;
    result[slug] = use;
  }
  return result;
}

async function sumOf(readings: Promise<number | null>[]): Promise<number | null> {
  const values = (await Promise.all(readings)).filter((value): value is number => value !== null);
  return values.length === 0 ? null : values.reduce((total, value) => total + value, 0);
}

export async function storageUsed(path: string): Promise<number | null> {
  try {
    if (await isMountPoint(path)) {
      const fs = await statfs(path);
      return (fs.blocks - fs.bfree) * fs.bsize;
    }
    return await treeSize(path);
  } catch {
    return null;
  }
}

async function isMountPoint(path: string): Promise<boolean> {
  const [own, parent] = await Promise.all([lstat(path), lstat(dirname(path))]);
  return own.dev !== parent.dev || path === '/';
}

/** Allocated bytes of a directory tree (st_blocks × 512, as du counts), not following symlinks. */
async function treeSize(root: string): Promise<number> {
  let total = 0;
  let walked = 0;
  const pending = [root];
  while (pending.length > 0 && walked < MAX_WALKED_ENTRIES) {
    const path = pending.pop()!;
    const stats = await lstat(path);
    walked++;
    total += stats.blocks * 512;
    if (stats.isDirectory()) for (const entry of await readdir(path)) pending.push(join(path, entry));
  }
  return total;
}

async function readNumber(path: string): Promise<number | null> {
  try {
    const value = Number((await readFile(path, 'utf8')).trim());
    return Number.isSafeInteger(value) && value >= 0 ? value : null;
  } catch {
    return null;
  }
}

async function cpuSeconds(cgroup: string): Promise<number | null> {
  try {
    const match = /^usage_usec (\d+)$/m.exec(await readFile(join(cgroup, 'cpu.stat'), 'utf8'));
    return match ? Number(match[1]) / 1e6 : null;
  } catch {
    return null;
  }
}
