import { HOST_SERIES_BUDGET, MAX_SEQ_JUMP } from './constants';
import { Report, ReportRefusal, TenantUse } from './schema';
import { isCleanText } from './text';

/** Why an entry of a report (a filesystem, an interface, a tenant's use) was dropped while the rest was stored. */
export const ENTRY_DROP_REASONS = ['malformed-text', 'duplicate', 'label-too-long', 'series-budget', 'tenant-not-on-host', 'above-host-total'] as const;
export type EntryDropReason = (typeof ENTRY_DROP_REASONS)[number];

export interface ScreenedReport {
  report: Report;
  /** Entries dropped, by reason; empty when the report was kept whole. */
  dropped: Map<EntryDropReason, number>;
  /** Tenants whose entries were dropped because the host may not speak for them. */
  foreignTenants: string[];
}

/** What control has recorded of a host: the totals of its memory and storage inventories (null: no such inventory). */
export interface RecordedTotals {
  memoryBytes: number | null;
  storageBytes: number | null;
}

/**
 * What control stores of a valid report: filesystems and interfaces with clean, unique names within the host's series
 * budget, each filesystem's used bytes at most its size, and use only for tenants the host may speak for
 * (`mayReportFor`) that stays within what the host has, per tenant and in sum: memory within the report's memory
 * total and control's recorded one, storage within the size of the report's filesystems and control's recorded
 * storage total (`recorded`: the host's memory and storage inventory totals; null where it has none, and then no use of
 * that kind is taken). The recorded totals are the bound a hostile host cannot raise: its own report's figures can say
 * anything up to 2^53. Each entry that breaks a rule is dropped on its own, so that one bad field never costs the rest
 * of the report. The report is not changed.
 */
export function screenReport(report: Report, mayReportFor: (slug: string) => boolean, recorded: RecordedTotals): ScreenedReport {
  const dropped = new Map<EntryDropReason, number>();
  const drop = (reason: EntryDropReason) => void dropped.set(reason, (dropped.get(reason) ?? 0) + 1);
  const named = keepNamed(
    report.filesystems,
    (fs) => fs.mountpoint,
    (fs) => fs.fstype,
    HOST_SERIES_BUDGET.filesystems,
    drop,
  );
  const clamped = named.some((fs) => fs.usedBytes > fs.sizeBytes);
  const filesystems = clamped ? named.map((fs) => (fs.usedBytes > fs.sizeBytes ? { ...fs, usedBytes: fs.sizeBytes } : fs)) : named;
  const network = keepNamed(
    report.network,
    (nic) => nic.device,
    () => '',
    HOST_SERIES_BUDGET.interfaces,
    drop,
  );
  const storageSize = Math.min(
    filesystems.reduce((total, fs) => total + fs.sizeBytes, 0),
    recorded.storageBytes ?? 0,
  );
  const memorySize = Math.min(report.memory.totalBytes, recorded.memoryBytes ?? 0);
  const tenants: Record<string, TenantUse> = {};
  const foreignTenants: string[] = [];
  let memorySum = 0;
  let storageSum = 0;
  for (const [slug, use] of Object.entries(report.tenants)) {
    if (!mayReportFor(slug)) {
      foreignTenants.push(slug);
      drop('tenant-not-on-host');
      continue;
    }
    const memory = use.memoryBytes ?? 0;
    const storage = use.storageUsedBytes ?? 0;
    if (memorySum + memory > memorySize || storageSum + storage > storageSize) {
      drop('above-host-total');
      continue;
    }
    memorySum += memory;
    storageSum += storage;
    tenants[slug] = use;
  }
  if (dropped.size === 0 && !clamped) return { report, dropped, foreignTenants };
  return { report: { ...report, filesystems, network, tenants }, dropped, foreignTenants };
}

/**
 * Entries whose name and other text (`textOf`; '' when none) are clean, whose name is short enough and not seen
 * before, up to `budget`. The report as sent (every entry kept) allocates nothing but the set of names: it runs for
 * every report.
 */
function keepNamed<T>(entries: T[], nameOf: (entry: T) => string, textOf: (entry: T) => string, budget: number, drop: (reason: EntryDropReason) => void): T[] {
  let kept: T[] | null = null;
  const names = new Set<string>();
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index];
    const name = nameOf(entry);
    let reason: EntryDropReason | null = null;
    if (!isCleanText(name) || !isCleanText(textOf(entry))) reason = 'malformed-text';
    else if (name.length > HOST_SERIES_BUDGET.labelLength) reason = 'label-too-long';
    else if (names.has(name)) reason = 'duplicate';
    else if (names.size >= budget) reason = 'series-budget';
    if (reason === null) {
      names.add(name);
      kept?.push(entry);
    } else {
      drop(reason);
      kept ??= entries.slice(0, index); // every entry before the first one dropped was kept
    }
  }
  return kept ?? entries;
}

/** How far from control's clock a report's collectedAt may lie, in seconds. */
export interface ReportWindow {
  maxAheadSeconds: number;
  maxBehindSeconds: number;
}

/**
 * Why control refuses a report on its own, or null to store it: collected outside the window around control's clock
 * (`now`) or at a time no Date can hold, or a seq more than MAX_SEQ_JUMP beyond the agent's last stored one
 * (`lastSeq`; 0 before its first report, whose seq sets the start: an agent keeps its seqs across enrolments).
 */
export function reportRefusal(report: Report, lastSeq: number, now: number, window: ReportWindow): ReportRefusal | null {
  if (lastSeq > 0 && report.seq - lastSeq > MAX_SEQ_JUMP) return 'seq-jump';
  const collectedAt = Date.parse(report.collectedAt);
  // The schema's date-time format admits instants Date cannot place (a leap second, 23:59:60): no window holds them.
  if (Number.isNaN(collectedAt)) return 'collected-at-invalid';
  if (collectedAt > now + window.maxAheadSeconds * 1000) return 'collected-too-far-ahead';
  if (collectedAt < now - window.maxBehindSeconds * 1000) return 'collected-too-far-behind';
  return null;
}
