export type QuotaState = 'ok' | 'warning' | 'over';
export const DEFAULT_WARNING_RATIO = 0.9;

export interface QuotaUsage {
  limit: number;
  allocated: number;
  used: number | null;
}

export function quotaState(position: QuotaUsage, warningRatio = DEFAULT_WARNING_RATIO): QuotaState {
  const peak = Math.max(position.allocated, position.used ?? 0);
  if (peak > position.limit) return 'over';
  // Divide rather than multiply: 90 / 100 is exactly 0.9, while 0.9 * 100 need not be exactly 90.
  if (position.limit > 0 && peak / position.limit >= warningRatio) return 'warning';
  return 'ok';
}
