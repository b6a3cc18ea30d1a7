import { ownProperty } from './own-property';
import { formatAmountOf, ResourceAmounts } from './resources';

export interface QuotaPosition {
  limit: number;
  allocated: number;
}

export interface QuotaRefusal {
  resource: string;
  requested: number;
  limit: number;
  allocated: number;
  reason: string;
}

// Deny by default: a class without a quota refuses even a zero amount. Classes are checked in name order.
export function checkQuota(request: ResourceAmounts, quotas: Readonly<Record<string, QuotaPosition | undefined>>): QuotaRefusal | null {
  for (const resource of Object.keys(request).sort()) {
    const requested = request[resource];
    const quota = ownProperty(quotas, resource);
    if (!quota) return { resource, requested, limit: 0, allocated: 0, reason: `tenant has no quota for ${resource}` };
    if (quota.allocated + requested > quota.limit) {
      const { limit, allocated } = quota;
      return { resource, requested, limit, allocated, reason: quotaExceededReason(resource, requested, quota) };
    }
  }
  return null;
}

function quotaExceededReason(resource: string, requested: number, quota: QuotaPosition): string {
  const show = (amount: number) => formatAmountOf(resource, amount);
  const left = show(Math.max(0, quota.limit - quota.allocated));
  const limit = show(quota.limit);
  return `${resource}: ${show(requested)} requested, but only ${left} of the tenant's ${limit} quota is left`;
}
