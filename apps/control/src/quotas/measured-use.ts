import { DOWN_AFTER_INTERVALS } from '../agents/liveness.service';
import { ControlConfig } from '../config/control-config';

const BUCKET_MS = 60_000;

/**
 * The oldest sample that still counts as a tenant's current use: as long as a host counts as reporting (until it is
 * down), plus the minute that samples are bucketed by.
 */
export function measuredUseSince(now: Date, config: Pick<ControlConfig, 'reportIntervalSeconds'>): Date {
  return new Date(now.getTime() - DOWN_AFTER_INTERVALS * config.reportIntervalSeconds * 1000 - BUCKET_MS);
}
