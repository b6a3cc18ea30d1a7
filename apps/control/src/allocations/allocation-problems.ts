import { HttpStatus } from '@nestjs/common';
import { QuotaRefusal, RefusalSummary, ResourceAmounts } from '@dcm/domain';
import { ProblemException } from '../common/problem';

export function quotaExceeded(tenant: string, refusal: QuotaRefusal): ProblemException {
  return new ProblemException(HttpStatus.CONFLICT, 'QuotaExceeded', `tenant ${tenant}: ${refusal.reason}`, {
    tenant,
    resource: refusal.resource,
    requested: refusal.requested,
    limit: refusal.limit,
    allocated: refusal.allocated,
  });
}

/** How much of a refusal is spelled out: the first rejections in full, the first hosts short of each class by name. */
export const REFUSAL_LIMITS = { listed: 50, named: 5 } as const;

/** Says which classes fell short on how many hosts (naming the first), and lists the first rejections in full. */
export function insufficientCapacity(tenant: string, request: ResourceAmounts, refusal: RefusalSummary): ProblemException {
  const shortages = refusal.shortfalls.map(
    ({ resource, hosts, named }) => `${resource} short on ${named.join(', ')}${hosts > named.length ? ` and ${hosts - named.length} more` : ''}`,
  );
  const parts = [...shortages, ...(refusal.otherwise ? [`${refusal.otherwise} host(s) ruled out by placement rules (status, accreditation, dedication)`] : [])];
  const detail =
    refusal.hostsConsidered === 0
      ? `no host is registered that could take the allocation for tenant ${tenant}`
      : `no host can take the allocation for tenant ${tenant}: ${parts.join('; ')}`;
  return new ProblemException(HttpStatus.CONFLICT, 'InsufficientCapacity', detail, {
    tenant,
    requested: request,
    hostsConsidered: refusal.hostsConsidered,
    shortfalls: Object.fromEntries(refusal.shortfalls.map(({ resource, hosts }) => [resource, hosts])),
    rejections: refusal.rejections,
  });
}
