import type { HostStatus } from './vocabulary';

/** The statuses that follow from a host's agent reporting on time, or not. */
export type HostLiveness = Exclude<HostStatus, 'maintenance'>;

/** Missed report intervals after which a host with an agent is stale, and then down. */
export const STALE_AFTER_INTERVALS = 3;
export const DOWN_AFTER_INTERVALS = 10;

/** Samples of measured use are bucketed by the minute. */
const MEASUREMENT_BUCKET_MS = 60_000;

export interface ReportTiming {
  /** The report interval agents are told to use. */
  reportIntervalSeconds: number;
}

/**
 * The instants before which an agent's last sign of life makes its host stale, and down (both exclusive): a host
 * whose agent last reported (or enrolled) before `staleBefore` is stale, before `downBefore` down.
 */
export function silenceThresholds(nowMs: number, timing: ReportTiming): { staleBefore: number; downBefore: number } {
  const interval = timing.reportIntervalSeconds * 1000;
  return { staleBefore: nowMs - STALE_AFTER_INTERVALS * interval, downBefore: nowMs - DOWN_AFTER_INTERVALS * interval };
}

/** The liveness of a host with an agent whose last report (or enrolment) was at `lastSeenMs`. */
export function livenessAfterSilence(lastSeenMs: number, nowMs: number, timing: ReportTiming): HostLiveness {
  const { staleBefore, downBefore } = silenceThresholds(nowMs, timing);
  if (lastSeenMs < downBefore) return 'down';
  if (lastSeenMs < staleBefore) return 'stale';
  return 'up';
}

/**
 * The oldest sample that still counts as a tenant's (or host's) current measured use: as long as a host counts as
 * reporting (until it is down), plus the minute that samples are bucketed by.
 */
export function measuredUseSince(now: Date, timing: ReportTiming): Date {
  return new Date(now.getTime() - DOWN_AFTER_INTERVALS * timing.reportIntervalSeconds * 1000 - MEASUREMENT_BUCKET_MS);
}
