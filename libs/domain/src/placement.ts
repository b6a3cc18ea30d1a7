import { capacityOf, checkUnitBounds, InventoryFigures, inventoryOvercommitted } from './capacity';
import { Classification, mayHold } from './classification';
import { ownProperty } from './own-property';
import { orderByKeyThenName } from './ranking-order';
import { builtinUnitOf, formatAmount, ResourceAmounts, ResourceUnit } from './resources';
import type { HostStatus, Isolation } from './vocabulary';

export type PlacementStrategy = 'spread' | 'pack';

export interface PlacementTenant {
  slug: string;
  classification: Classification;
  isolation: Isolation;
}

export interface HostInventoryState extends InventoryFigures {
  allocated: number;
}

export interface PlacementHost {
  name: string;
  status: HostStatus;
  accreditation: Classification;
  dedicatedTenant: string | null;
  /** Whether an operator has accepted the host: an enrolled host is not placeable before. */
  accepted: boolean;
  inventories: Readonly<Record<string, HostInventoryState | undefined>>;
}

export interface Shortfall {
  resource: string;
  requested: number;
  free: number;
}

export interface HostRejection {
  host: string;
  reasons: string[];
  shortfalls: Shortfall[];
}

export interface PlacementResult {
  candidates: PlacementHost[];
  rejections: HostRejection[];
}

const NOT_UP_REASONS: Readonly<Record<Exclude<HostStatus, 'up'>, string>> = {
  stale: 'host is stale: its agent has stopped reporting',
  down: 'host is down',
  maintenance: 'host is in maintenance',
};

export function evaluateHost(tenant: PlacementTenant, host: PlacementHost, request: ResourceAmounts): HostRejection | null {
  const outcome = assess(tenant, host, claimOf(request));
  return typeof outcome === 'number' ? null : outcome;
}

/** The smallest share of any claimed class's capacity left free once the request is placed. */
export function freeShareAfter(host: PlacementHost, request: ResourceAmounts): number {
  const claim = claimOf(request);
  let lowest = 1;
  for (let index = 0; index < claim.resources.length; index++) {
    const inventory = ownProperty(host.inventories, claim.resources[index]);
    const share = inventory ? shareLeft(capacityOf(inventory), inventory.allocated, claim.amounts[index]) : 0;
    lowest = Math.min(lowest, share);
  }
  return lowest;
}

/** Drops the hosts that may not take the request and orders the rest: 'spread' emptiest first, 'pack' fullest first. */
export function rankHosts(tenant: PlacementTenant, hosts: Iterable<PlacementHost>, request: ResourceAmounts, strategy: PlacementStrategy): PlacementResult {
  const claim = claimOf(request);
  const emptiestFirst = strategy === 'spread' ? -1 : 1;
  const fitting: PlacementHost[] = [];
  const keys: number[] = [];
  const rejections: HostRejection[] = [];
  for (const host of hosts) {
    const outcome = assess(tenant, host, claim);
    if (typeof outcome === 'number') {
      fitting.push(host);
      keys.push(emptiestFirst * outcome);
    } else {
      rejections.push(outcome);
    }
  }
  const order = orderByKeyThenName(
    Float64Array.from(keys),
    fitting.map((host) => host.name),
  );
  const candidates = new Array<PlacementHost>(order.length);
  for (let rank = 0; rank < order.length; rank++) candidates[rank] = fitting[order[rank]];
  return { candidates, rejections };
}

/**
 * The host rankHosts would put first, found in one pass without sorting or explaining the others: admission's hot
 * path. Null when no host may take the request (then rankHosts says why).
 */
export function pickHost<H extends PlacementHost>(
  tenant: PlacementTenant,
  hosts: Iterable<H>,
  request: ResourceAmounts,
  strategy: PlacementStrategy,
): H | null {
  const claim = claimOf(request);
  const emptiestFirst = strategy === 'spread' ? -1 : 1;
  let best: H | null = null;
  let bestKey = 0;
  for (const host of hosts) {
    const share = shareLeftIfFits(tenant, host, claim);
    if (share === null) continue;
    const key = emptiestFirst * share;
    if (best === null || key < bestKey || (key === bestKey && host.name < best.name)) {
      best = host;
      bestKey = key;
    }
  }
  return best;
}

/** Why no host could take a request, summed over every host but spelled out for the first few only. */
export interface RefusalSummary {
  hostsConsidered: number;
  /** Per class, in class order: how many hosts fell short of it, and the first `named` of them. */
  shortfalls: { resource: string; hosts: number; named: string[] }[];
  /** Hosts refused with no class short: placement rules (status, accreditation, dedication) or per-allocation bounds. */
  otherwise: number;
  /** Full reasons of the first `listed` refused hosts. */
  rejections: HostRejection[];
}

/**
 * What rankHosts' rejections say about a request no host could take, without writing out the reasons of every host:
 * at 2,000 hosts, formatting every reason cost a refused admission several times an admitted one. Hosts are taken in
 * the order given, as rankHosts takes them.
 */
export function explainRefusal(
  tenant: PlacementTenant,
  hosts: Iterable<PlacementHost>,
  request: ResourceAmounts,
  limits: { listed: number; named: number },
): RefusalSummary {
  const claim = claimOf(request);
  const short = new Map<string, { hosts: number; named: string[] }>();
  const rejections: HostRejection[] = [];
  let hostsConsidered = 0;
  let otherwise = 0;
  for (const host of hosts) {
    hostsConsidered++;
    const shortOf: string[] = [];
    let fits = placementRuleReasons(tenant, host) === null;
    for (let index = 0; index < claim.resources.length; index++) {
      const inventory = ownProperty(host.inventories, claim.resources[index]);
      const requested = claim.amounts[index];
      if (!inventory || Math.max(0, capacityOf(inventory) - inventory.allocated) < requested) shortOf.push(claim.resources[index]);
      else if (checkUnitBounds(inventory, requested) !== null) fits = false;
    }
    if (fits && shortOf.length === 0) continue;
    if (rejections.length < limits.listed) rejections.push(assess(tenant, host, claim) as HostRejection);
    if (shortOf.length === 0) otherwise++;
    for (const resource of shortOf) {
      let entry = short.get(resource);
      if (!entry) short.set(resource, (entry = { hosts: 0, named: [] }));
      entry.hosts++;
      if (entry.named.length < limits.named) entry.named.push(host.name);
    }
  }
  const shortfalls = claim.resources.filter((resource) => short.has(resource)).map((resource) => ({ resource, ...short.get(resource)! }));
  return { hostsConsidered, shortfalls, otherwise, rejections };
}

/** assess() without the reasons: the share left after placing, or null when the host may not take the claim. */
function shareLeftIfFits(tenant: PlacementTenant, host: PlacementHost, claim: Claim): number | null {
  if (placementRuleReasons(tenant, host) !== null) return null;
  let lowestShareLeft = 1;
  for (let index = 0; index < claim.resources.length; index++) {
    const inventory = ownProperty(host.inventories, claim.resources[index]);
    if (!inventory) return null;
    const requested = claim.amounts[index];
    const capacity = capacityOf(inventory);
    if (capacity - inventory.allocated < requested || checkUnitBounds(inventory, requested) !== null) return null;
    lowestShareLeft = Math.min(lowestShareLeft, shareLeft(capacity, inventory.allocated, requested));
  }
  return lowestShareLeft;
}

/** A request read once, so that weighing thousands of hosts repeats no per-request work. */
interface Claim {
  resources: string[];
  amounts: number[];
  units: ResourceUnit[];
}

// A zero amount claims nothing, so it needs no inventory on the host (its quota is still checked).
function claimOf(request: ResourceAmounts): Claim {
  const resources = Object.keys(request)
    .filter((resource) => request[resource] > 0)
    .sort();
  return {
    resources,
    amounts: resources.map((resource) => request[resource]),
    units: resources.map((resource) => builtinUnitOf(resource) ?? 'count'),
  };
}

/** The share of the host left free once the claim is placed, or why the host may not take it. */
function assess(tenant: PlacementTenant, host: PlacementHost, claim: Claim): number | HostRejection {
  let reasons = placementRuleReasons(tenant, host);
  let shortfalls: Shortfall[] | null = null;
  let lowestShareLeft = 1;
  for (let index = 0; index < claim.resources.length; index++) {
    const resource = claim.resources[index];
    const requested = claim.amounts[index];
    const unit = claim.units[index];
    const inventory = ownProperty(host.inventories, resource);
    if (!inventory) {
      (reasons ??= []).push(`host has no ${resource} inventory`);
      (shortfalls ??= []).push({ resource, requested, free: 0 });
      continue;
    }
    const boundsReason = checkUnitBounds(inventory, requested, unit);
    if (boundsReason) (reasons ??= []).push(`${resource}: ${boundsReason}`);
    const capacity = capacityOf(inventory);
    const free = Math.max(0, capacity - inventory.allocated);
    if (free < requested) {
      const shortage = `${formatAmount(requested, unit)} requested, ${formatAmount(free, unit)} free`;
      (reasons ??= []).push(`${resource}: ${shortage}`);
      (shortfalls ??= []).push({ resource, requested, free });
    }
    lowestShareLeft = Math.min(lowestShareLeft, shareLeft(capacity, inventory.allocated, requested));
  }
  return reasons === null ? lowestShareLeft : { host: host.name, reasons, shortfalls: shortfalls ?? [] };
}

function shareLeft(capacity: number, allocated: number, requested: number): number {
  return capacity > 0 ? (capacity - allocated - requested) / capacity : 0;
}

// Null rather than an empty array: ranking thousands of hosts should allocate only for the rejected ones.
function placementRuleReasons(tenant: PlacementTenant, host: PlacementHost): string[] | null {
  let reasons: string[] | null = null;
  if (host.status !== 'up') (reasons ??= []).push(NOT_UP_REASONS[host.status]);
  if (!host.accepted) (reasons ??= []).push('host has not been accepted by an operator');
  const overcommitted = overcommittedClasses(host);
  if (overcommitted !== null) (reasons ??= []).push(`host is over-committed: ${overcommitted.join(', ')} allocated beyond capacity`);
  if (!mayHold(host.accreditation, tenant.classification)) {
    const mismatch = `accredited for ${host.accreditation} only, but the tenant's data is ${tenant.classification}`;
    (reasons ??= []).push(`host is ${mismatch}`);
  }
  if (host.dedicatedTenant && host.dedicatedTenant !== tenant.slug) {
    (reasons ??= []).push(`host is dedicated to tenant ${host.dedicatedTenant}`);
  } else if (tenant.isolation === 'dedicated' && !host.dedicatedTenant) {
    (reasons ??= []).push(`tenant ${tenant.slug} needs a host dedicated to it, and this host is shared`);
  }
  return reasons;
}

/** The classes of which the host has more allocated than it can hold (its total fell), or null when none. */
export function overcommittedClasses(host: Pick<PlacementHost, 'inventories'>): string[] | null {
  let classes: string[] | null = null;
  for (const resource of Object.keys(host.inventories)) {
    const inventory = host.inventories[resource];
    if (inventory && inventoryOvercommitted(inventory)) (classes ??= []).push(resource);
  }
  return classes === null ? null : classes.sort();
}
