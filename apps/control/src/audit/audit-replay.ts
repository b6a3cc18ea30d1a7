/**
 * What the audit log says the records are: replaying it from empty (or from the state a retention prune recorded at
 * its cut) gives the tenants, quotas, grants, hosts with their operator-set inventories, tenant bindings, active
 * allocations and API tokens as they are now. Agent-measured totals, host liveness and enforcement states are measurements, not replayed.
 */
export interface ReplayedState {
  tenants: Record<string, { name: unknown; contact: unknown; isolation: unknown; classification: unknown; state: unknown }>;
  /** Per tenant slug, each class's quota limit (surge grants not included). */
  quotas: Record<string, Record<string, number>>;
  grants: Record<string, { tenant: unknown; resources: unknown; expiresAt: unknown; state: unknown }>;
  /** Hosts not decommissioned. `status` is the operator's: `maintenance` or `in service`. */
  hosts: Record<string, ReplayedHost>;
  /** Active allocations. */
  allocations: Record<string, { tenant: unknown; host: unknown; resources: unknown }>;
  tokens: Record<string, { kind: unknown; role: unknown; tenant: unknown; revoked: boolean }>;
  /** Tenants bound to hosts (PUT /v1/hosts/:name/tenants/:slug), per host name: the tenants' slugs. */
  bindings: Record<string, string[]>;
}

export interface ReplayedHost {
  site: unknown;
  rack: unknown;
  labels: unknown;
  accreditation: unknown;
  /** The tenant's slug (events written before it was recorded name it by its internal id). */
  dedicatedTenant: unknown;
  status: 'maintenance' | 'in service';
  inventories: Record<string, ReplayedInventory>;
}

export interface ReplayedInventory {
  total: unknown;
  reserved: unknown;
  allocationRatio: unknown;
  minUnit: unknown;
  maxUnit: unknown;
  stepSize: unknown;
}

export interface ReplayEvent {
  action: string;
  subject: string;
  before: unknown;
  after: unknown;
}

/** The action of a retention prune: its after holds `state`, the records as the dropped events left them. */
export const PRUNE_ACTION = 'audit.prune';

type Fields = Record<string, unknown>;

export function emptyState(): ReplayedState {
  return { tenants: {}, quotas: {}, grants: {}, hosts: {}, allocations: {}, tokens: {}, bindings: {} };
}

const dedicatedTenantOf = (host: Fields): unknown => ('dedicatedTenant' in host ? host.dedicatedTenant : (host.dedicatedTenantId ?? null));
const operatorStatus = (status: unknown): ReplayedHost['status'] => (status === 'maintenance' ? 'maintenance' : 'in service');

function inventory(figures: Fields): ReplayedInventory {
  const { total, reserved, allocationRatio, minUnit, maxUnit, stepSize } = figures;
  return { total, reserved, allocationRatio, minUnit: minUnit ?? null, maxUnit: maxUnit ?? null, stepSize: stepSize ?? null };
}

/** Applies one event, in seq order, to `state`. */
export function replayEvent(state: ReplayedState, event: ReplayEvent): void {
  const after = (event.after ?? {}) as Fields;
  const subject = event.subject;
  switch (event.action) {
    case 'tenant.create':
    case 'tenant.update':
    case 'tenant.offboard': {
      const { name, contact, isolation, classification, state: tenantState } = after;
      state.tenants[subject] = { name, contact, isolation, classification, state: tenantState };
      state.quotas[subject] ??= {};
      // Offboarding unbinds the tenant from every host.
      if (tenantState === 'offboarded') for (const host of Object.keys(state.bindings)) unbind(state, host, subject);
      return;
    }
    case 'tenant.frozen':
    case 'tenant.unfrozen':
      if (state.tenants[subject]) state.tenants[subject].state = after.to;
      return;
    case 'quota.set':
      state.quotas[subject] = { ...(after as Record<string, number>) };
      return;
    case 'grant.create':
    case 'grant.expire':
    case 'grant.revoke': {
      const { tenant, resources, expiresAt, state: grantState } = after;
      state.grants[subject] = { tenant, resources, expiresAt, state: grantState };
      return;
    }
    case 'host.create': {
      const { site, rack, labels, accreditation, status, inventories } = after;
      state.hosts[subject] = {
        site,
        rack,
        labels,
        accreditation,
        dedicatedTenant: dedicatedTenantOf(after),
        status: operatorStatus(status),
        inventories: Object.fromEntries(Object.entries((inventories ?? {}) as Record<string, Fields>).map(([name, figures]) => [name, inventory(figures)])),
      };
      return;
    }
    case 'host.update': {
      const host = state.hosts[subject];
      if (!host) return;
      const { site, rack, labels, accreditation, status } = after;
      Object.assign(host, { site, rack, labels, accreditation, dedicatedTenant: dedicatedTenantOf(after), status: operatorStatus(status) });
      return;
    }
    case 'host.decommission':
      // Decommissioning unbinds every tenant from the host.
      delete state.hosts[subject];
      delete state.bindings[subject];
      return;
    case 'inventory.set': {
      const host = state.hosts[subject];
      if (host) host.inventories[String(after.resourceClass)] = inventory(after);
      return;
    }
    case 'allocation.create': {
      const { tenant, host, resources } = after;
      state.allocations[subject] = { tenant, host, resources };
      return;
    }
    case 'allocation.release':
      delete state.allocations[subject];
      return;
    case 'token.create': {
      const { kind, role, tenant } = after;
      state.tokens[subject] = { kind, role, tenant, revoked: false };
      return;
    }
    case 'token.revoke':
      if (state.tokens[subject]) state.tokens[subject].revoked = true;
      return;
    case 'host.bind-tenant': {
      const host = String(after.host);
      state.bindings[host] = [...new Set([...(state.bindings[host] ?? []), String(after.tenant)])].sort();
      return;
    }
    case 'host.unbind-tenant': {
      const before = (event.before ?? {}) as Fields;
      unbind(state, String(before.host), String(before.tenant));
      return;
    }
    default:
      return;
  }
}

function unbind(state: ReplayedState, host: string, tenant: string): void {
  const tenants = (state.bindings[host] ?? []).filter((slug) => slug !== tenant);
  if (tenants.length > 0) state.bindings[host] = tenants;
  else delete state.bindings[host];
}

/** The state a retention prune recorded at its cut, if it recorded one. */
export function prunedState(pruneAfter: unknown): ReplayedState | null {
  const state = (pruneAfter as { state?: ReplayedState } | null)?.state;
  return state ? (JSON.parse(JSON.stringify(state)) as ReplayedState) : null;
}
