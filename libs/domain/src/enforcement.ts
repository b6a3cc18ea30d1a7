import type { TenantState } from './vocabulary';

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

/** Who froze a tenant: enforcement lifts its own freezes when the tenant is back under; an operator's stay. */
export type FreezeAuthor = 'enforcement' | 'operator';

/** One tenant's quota of one class as an enforcement pass reads it. */
export interface EnforcedQuota extends QuotaUsage {
  tenantId: string;
  tenantState: TenantState;
  frozenBy: FreezeAuthor | null;
  resourceClass: string;
  /** The state recorded by the last pass, and since when (null when never recorded). */
  state: QuotaState;
  stateSince: Date | null;
}

export interface EnforcementPolicy {
  /** How long a class may stay over before the tenant is frozen. */
  freezeGraceSeconds: number;
  quotaWarningRatio: number;
}

/** A quota whose recorded state (or its start) is to be written. */
export interface QuotaStateChange {
  tenantId: string;
  resourceClass: string;
  from: QuotaState;
  to: QuotaState;
  since: Date;
}

export interface TenantVerdict {
  tenantId: string;
  /** The classes over quota now, and those over for longer than the grace period. */
  over: string[];
  overPastGrace: string[];
}

export interface EnforcementDecision<Q extends EnforcedQuota> {
  /** Quotas whose state changed (or was never recorded), to be written. */
  changes: QuotaStateChange[];
  /** The quotas whose state changed, with the new state: each is an event. */
  transitions: { quota: Q; to: QuotaState }[];
  /** Active tenants over some quota for longer than the grace period. */
  freeze: TenantVerdict[];
  /** Tenants that enforcement froze and that are back under every quota. */
  unfreeze: TenantVerdict[];
}

/** Whether enforcement may lift a freeze: only one it imposed itself; an operator's freeze is the operator's to lift. */
export function enforcementMayUnfreeze(tenantState: TenantState, frozenBy: FreezeAuthor | null): boolean {
  return tenantState === 'frozen' && frozenBy === 'enforcement';
}

/**
 * The enforcement rule: each quota is ok, warning or over (quotaState); an active tenant over any quota for longer than
 * the grace period is frozen; a tenant that enforcement froze is unfrozen once back under every quota. Decides from a
 * snapshot of every quota, in memory; the caller writes what changed.
 */
export function decideEnforcement<Q extends EnforcedQuota>(quotas: readonly Q[], now: Date, policy: EnforcementPolicy): EnforcementDecision<Q> {
  const graceEnds = now.getTime() - policy.freezeGraceSeconds * 1000;
  const changes: QuotaStateChange[] = [];
  const transitions: { quota: Q; to: QuotaState }[] = [];
  const tenants = new Map<string, { quota: Q; verdict: TenantVerdict }>();
  for (const quota of quotas) {
    const state = quotaState(quota, policy.quotaWarningRatio);
    const since = state === quota.state && quota.stateSince ? quota.stateSince : now;
    if (state !== quota.state || !quota.stateSince) {
      changes.push({ tenantId: quota.tenantId, resourceClass: quota.resourceClass, from: quota.state, to: state, since });
    }
    if (state !== quota.state) transitions.push({ quota, to: state });
    let tenant = tenants.get(quota.tenantId);
    if (!tenant) tenants.set(quota.tenantId, (tenant = { quota, verdict: { tenantId: quota.tenantId, over: [], overPastGrace: [] } }));
    if (state === 'over') {
      tenant.verdict.over.push(quota.resourceClass);
      if (since.getTime() <= graceEnds) tenant.verdict.overPastGrace.push(quota.resourceClass);
    }
  }
  const all = [...tenants.values()];
  return {
    changes,
    transitions,
    freeze: all.filter(({ quota, verdict }) => quota.tenantState === 'active' && verdict.overPastGrace.length > 0).map(({ verdict }) => verdict),
    unfreeze: all
      .filter(({ quota, verdict }) => enforcementMayUnfreeze(quota.tenantState, quota.frozenBy) && verdict.over.length === 0)
      .map(({ verdict }) => verdict),
  };
}
