import { HttpStatus } from '@nestjs/common';
import { HostRejection, QuotaRefusal, ResourceAmounts } from '@dcm/domain';
import { ProblemException } from '../common/problem';

const LISTED_REJECTIONS = 50;
const NAMED_HOSTS = 5;

export function quotaExceeded(tenant: string, refusal: QuotaRefusal): ProblemException {
  return new ProblemException(HttpStatus.CONFLICT, 'QuotaExceeded', `tenant ${tenant}: ${refusal.reason}`, {
    tenant,
    resource: refusal.resource,
    requested: refusal.requested,
    limit: refusal.limit,
    allocated: refusal.allocated,
  });
}

/** Says which classes fell short on which hosts, and lists the first rejections in full. */
export function insufficientCapacity(tenant: string, request: ResourceAmounts, rejections: HostRejection[]): ProblemException {
  const shortHosts = new Map<string, string[]>();
  for (const rejection of rejections) {
    for (const shortfall of rejection.shortfalls) {
      shortHosts.set(shortfall.resource, [...(shortHosts.get(shortfall.resource) ?? []), rejection.host]);
    }
  }
  const shortages = [...shortHosts].map(([resource, hosts]) => {
    const named = hosts.slice(0, NAMED_HOSTS).join(', ');
    return `${resource} short on ${named}${hosts.length > NAMED_HOSTS ? ` and ${hosts.length - NAMED_HOSTS} more` : ''}`;
  });
  const otherwise = rejections.filter((rejection) => rejection.shortfalls.length === 0).length;
  const parts = [...shortages, ...(otherwise ? [`${otherwise} host(s) ruled out by placement rules (status, accreditation, dedication)`] : [])];
  const detail =
    rejections.length === 0
      ? `no host is registered that could take the allocation for tenant ${tenant}`
      : `no host can take the allocation for tenant ${tenant}: ${parts.join('; ')}`;
  return new ProblemException(HttpStatus.CONFLICT, 'InsufficientCapacity', detail, {
    tenant,
    requested: request,
    hostsConsidered: rejections.length,
    shortfalls: Object.fromEntries([...shortHosts].map(([resource, hosts]) => [resource, hosts.length])),
    rejections: rejections.slice(0, LISTED_REJECTIONS),
  });
}
