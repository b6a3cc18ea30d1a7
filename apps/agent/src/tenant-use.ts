import type { Dir } from 'node:fs';
import { lstat, opendir, readFile, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { TenantUse } from '@dcm/protocol';
import type { AgentConfig } from './agent-config';
import type { AgentLogger } from './agent-logger';

/** Bounds the walk of a directory-backed tenant path, so that a huge tree cannot stall a report. */
export const MAX_WALKED_ENTRIES = 100_000;

/**
 * Measures each tenant's use as the agent's config maps it:
 * - storage used on each of its paths: where the path is the root of a mounted filesystem, that filesystem's used
 *   blocks (statfs: (blocks − bfree) × bsize, as df counts Used); otherwise the allocated size of the directory tree
 *   below it (st_blocks × 512, as `du -sx` counts: symlinks not followed, other filesystems not entered, hard links
 *   once), walking at most MAX_WALKED_ENTRIES entries;
 * - memory and CPU of its cgroup v2 directories: memory.current (bytes), cpu.stat usage_usec (as seconds).
 * What cannot be read is left out, not guessed, with one warning per path (not one per report).
 */
export class TenantUseMeter {
  private readonly warned = new Set<string>();

  constructor(
    private readonly tenants: AgentConfig['tenants'],
    private readonly logger: AgentLogger,
    private readonly mountInfoPath = '/proc/self/mountinfo',
  ) {}

  async measure(): Promise<Record<string, TenantUse>> {
    const result: Record<string, TenantUse> = {};
    const entries = Object.entries(this.tenants);
    if (entries.length === 0) return result;
    const mountRoots = await this.filesystemRoots();
    for (const [slug, sources] of entries) {
      const use: TenantUse = {};
      const storage = sumOf(await Promise.all(sources.mounts.map((path) => this.storageUsed(slug, path, mountRoots))));
      if (storage !== null) use.storageUsedBytes = storage;
      const memory = sumOf(await Promise.all(sources.cgroups.map((cgroup) => this.memoryCurrent(slug, cgroup))));
      if (memory !== null) use.memoryBytes = memory;
      const cpu = sumOf(await Promise.all(sources.cgroups.map((cgroup) => this.cpuSeconds(slug, cgroup))));
      if (cpu !== null) use.cpuUsageSecondsTotal = cpu;
      result[slug] = use;
    }
    return result;
  }

  private async storageUsed(tenant: string, path: string, mountRoots: Set<string>): Promise<number | null> {
    try {
      if (mountRoots.has(path)) {
        const fs = await statfs(path);
        return (fs.blocks - fs.bfree) * fs.bsize;
      }
      const walked = await treeSize(path);
      if (walked.truncated)
        this.warnOnce(
          `walk:${path}`,
          { tenant, path, limit: MAX_WALKED_ENTRIES },
          'tenant path has too many entries to walk: storage used is under-reported; mount it as its own filesystem',
        );
      for (const unreadable of walked.unreadable)
        this.warnOnce(`unreadable:${unreadable}`, { tenant, path: unreadable }, 'part of a tenant path cannot be read: not counted');
      return walked.bytes;
    } catch (error) {
      this.warnOnce(`storage:${path}`, { tenant, path, reason: (error as Error).message }, 'tenant path cannot be measured: storage used left out');
      return null;
    }
  }

  private async memoryCurrent(tenant: string, cgroup: string): Promise<number | null> {
    const path = join(cgroup, 'memory.current');
    const value = await this.readCgroupFile(tenant, path);
    if (value === null) return null;
    const bytes = Number(value.trim());
    if (Number.isSafeInteger(bytes) && bytes >= 0) return bytes;
    this.warnOnce(`format:${path}`, { tenant, path }, 'cgroup file does not hold a byte count: memory left out');
    return null;
  }

  private async cpuSeconds(tenant: string, cgroup: string): Promise<number | null> {
    const path = join(cgroup, 'cpu.stat');
    const value = await this.readCgroupFile(tenant, path);
    if (value === null) return null;
    const match = /^usage_usec (\d+)$/m.exec(value);
    if (match) return Number(match[1]) / 1e6;
    this.warnOnce(`format:${path}`, { tenant, path }, 'cgroup cpu.stat has no usage_usec: CPU left out');
    return null;
  }

  private async readCgroupFile(tenant: string, path: string): Promise<string | null> {
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      // memory.current is missing where the memory controller is not enabled for the cgroup (or on a hybrid host).
      this.warnOnce(`cgroup:${path}`, { tenant, path, reason: (error as Error).message }, 'cgroup file cannot be read: left out');
      return null;
    }
  }

  /** Mount points at which a filesystem's own root is mounted (not a bind mount of a directory inside one). */
  private async filesystemRoots(): Promise<Set<string>> {
    try {
      return parseFilesystemRoots(await readFile(this.mountInfoPath, 'utf8'));
    } catch (error) {
      this.warnOnce('mountinfo', { path: this.mountInfoPath, reason: (error as Error).message }, 'cannot read the mount table: every tenant path is walked');
      return new Set();
    }
  }

  private warnOnce(key: string, details: object, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.logger.warn(details, message);
  }
}

/** From /proc/self/mountinfo: field 4 is the root of the mount within its filesystem, field 5 the mount point. */
export function parseFilesystemRoots(mountInfo: string): Set<string> {
  const roots = new Set<string>();
  for (const line of mountInfo.split('\n')) {
    const fields = line.split(' ');
    if (fields.length > 4 && fields[3] === '/') roots.add(unescapeMountPath(fields[4]));
  }
  return roots;
}

/** The kernel writes space, tab, newline and backslash in mount paths as octal escapes (\040 …). */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

function sumOf(readings: (number | null)[]): number | null {
  const values = readings.filter((value): value is number => value !== null);
  return values.length === 0 ? null : values.reduce((total, value) => total + value, 0);
}

interface TreeSize {
  bytes: number;
  truncated: boolean;
  unreadable: string[];
}

/** Allocated bytes of a directory tree, depth first with streaming directory handles, so memory stays flat. */
async function treeSize(root: string): Promise<TreeSize> {
  const top = await lstat(root);
  const result: TreeSize = { bytes: top.blocks * 512, truncated: false, unreadable: [] };
  if (!top.isDirectory()) return result;
  const seenLinks = new Set<string>();
  const open: { dir: Dir; path: string }[] = [{ dir: await opendir(root), path: root }];
  let walked = 1;
  try {
    while (open.length > 0) {
      const current = open.at(-1)!;
      const entry = await current.dir.read();
      if (entry === null) {
        await open.pop()!.dir.close();
        continue;
      }
      if (++walked > MAX_WALKED_ENTRIES) {
        result.truncated = true;
        break;
      }
      const path = join(current.path, entry.name);
      let stats;
      try {
        stats = await lstat(path);
      } catch {
        continue; // removed while we walked
      }
      if (stats.dev !== top.dev) continue; // another filesystem mounted inside: not this tree's storage
      if (stats.nlink > 1 && !stats.isDirectory()) {
        const inode = `${stats.ino}`;
        if (seenLinks.has(inode)) continue;
        seenLinks.add(inode);
      }
      result.bytes += stats.blocks * 512;
      if (!stats.isDirectory()) continue;
      try {
        open.push({ dir: await opendir(path), path });
      } catch {
        result.unreadable.push(path);
      }
    }
  } finally {
    for (const { dir } of open) await dir.close().catch(() => undefined);
  }
  return result;
}
