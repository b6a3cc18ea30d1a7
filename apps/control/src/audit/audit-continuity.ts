import { isDeepStrictEqual } from 'node:util';

/** What an event says about one aspect of its subject: the fields before (undefined: it says nothing) and after. */
export interface AspectChange {
  /** `<subject type>/<subject>/<aspect>`, e.g. `tenant/torfaen/quota:vcpu`. */
  key: string;
  aspect: string;
  /** null: the aspect did not exist before; undefined: the event does not say. */
  before: Record<string, unknown> | null | undefined;
  /** null: the aspect no longer exists (it is forgotten). */
  after: Record<string, unknown> | null;
}

export interface ContinuityEvent {
  seq: number;
  action: string;
  subjectType: string;
  subject: string;
  before: unknown;
  after: unknown;
}

export interface Discontinuity {
  seq: number;
  subjectType: string;
  subject: string;
  aspect: string;
  reason: string;
}

type Fields = Record<string, unknown>;

const isFields = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);
const fieldsOrNull = (value: unknown): Fields | null => (isFields(value) ? value : null);

function without(fields: Fields | null, ...names: string[]): Fields | null {
  return fields && Object.fromEntries(Object.entries(fields).filter(([name]) => !names.includes(name)));
}

/**
 * A host's status as the operator sets it: in service or in maintenance. Between up, stale and down liveness moves it
 * from measurements, which the audit log does not record.
 */
function operatorStatus(host: Fields | null): Fields | null {
  if (!host) return null;
  const { status, ...rest } = host;
  return status === undefined ? rest : { ...rest, status: status === 'maintenance' ? 'maintenance' : 'in service' };
}

/**
 * The aspects an event changes, each with the fields before and after. A tenant's details, each of its quota classes,
 * each quota's enforcement state, a host's details, agent and each inventory class, an allocation, a grant; any other
 * subject (a tenant binding, say) is one aspect, `details`, with the event's before and after as they are.
 * Timestamps of the last change (`updatedAt`) are left out: a freeze moves them without saying so.
 */
export function aspectsOf(event: ContinuityEvent): AspectChange[] {
  const key = (aspect: string, subjectType = event.subjectType, subject = event.subject) => `${subjectType}/${subject}/${aspect}`;
  const change = (aspect: string, before: Fields | null | undefined, after: Fields | null, subjectType?: string, subject?: string): AspectChange => ({
    key: key(aspect, subjectType, subject),
    aspect,
    before,
    after,
  });
  const before = fieldsOrNull(event.before);
  const after = fieldsOrNull(event.after);
  switch (event.action) {
    case 'tenant.create':
    case 'tenant.update':
    case 'tenant.offboard':
      return [change('details', event.action === 'tenant.create' ? null : without(before, 'updatedAt'), without(after, 'updatedAt'))];
    case 'tenant.frozen':
    case 'tenant.unfrozen':
      return [change('details', before, { state: after?.to === 'frozen' ? 'frozen' : 'active' })];
    case 'quota.set': {
      const classes = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])];
      return classes.flatMap((resourceClass) => {
        const limit = (fields: Fields | null) => (fields && resourceClass in fields ? { limit: fields[resourceClass] } : null);
        const changes = [change(`quota:${resourceClass}`, limit(before), limit(after))];
        // A removed quota takes its enforcement state with it; a new one starts afresh.
        if (!limit(after) || !limit(before)) changes.push(change('state', undefined, null, 'quota', `${event.subject}/${resourceClass}`));
        return changes;
      });
    }
    case 'quota.state_changed':
      return [change('state', before, { state: after?.to })];
    case 'host.create': {
      const inventories = fieldsOrNull(after?.inventories) ?? {};
      return [
        change('details', null, operatorStatus(without(after, 'inventories'))),
        ...Object.entries(inventories).map(([resourceClass, figures]) => change(`inventory:${resourceClass}`, undefined, fieldsOrNull(figures))),
      ];
    }
    case 'host.update':
    case 'host.decommission':
      // Accepting an agent's host again applies its measured totals: the update then says which, beside its details.
      return [change('details', operatorStatus(without(before, 'inventories')), operatorStatus(without(after, 'inventories')))];
    case 'inventory.set': {
      const resourceClass = String(after?.resourceClass ?? before?.resourceClass);
      return [change(`inventory:${resourceClass}`, without(before, 'resourceClass'), without(after, 'resourceClass'))];
    }
    case 'agent.enrol':
      return [change('agent', before ?? undefined, { agentId: after?.agentId })];
    case 'allocation.create':
      return [change('details', null, { status: after?.status ?? 'active' })];
    case 'allocation.release':
      // Released is final: the allocation is forgotten, so that a long log's walk holds only the live ones.
      return [change('details', before, null)];
    case 'audit.prune':
    case 'audit.checkpoint':
      return [];
    default:
      // A stored before of null cannot tell "did not exist" from "not said": only the cases above say the former.
      return [change('details', before ?? undefined, after)];
  }
}

/**
 * Walks the log in seq order and finds the first event whose `before` does not continue the last `after` of the same
 * subject and aspect, for the fields both carry. An aspect not seen yet (created before a retention cut, say) is taken
 * as the event says. Agent-measured inventory totals move without events: they are not compared for enrolled hosts.
 */
export class ContinuityChecker {
  private readonly state = new Map<string, Fields>();
  private readonly agentHosts = new Set<string>();
  /** Per `<subject type>/<tenant>/quota:`, the keys of the quota classes the state holds. */
  private readonly quotaKeys = new Map<string, Set<string>>();
  first: Discontinuity | null = null;

  feed(events: readonly ContinuityEvent[]): void {
    for (const event of events) {
      if (event.action === 'agent.enrol') this.agentHosts.add(event.subject);
      for (const aspect of [...this.omittedQuotas(event), ...aspectsOf(event)]) {
        const fault = this.faultOf(event, aspect);
        if (fault && !this.first) {
          this.first = { seq: event.seq, subjectType: event.subjectType, subject: event.subject, aspect: aspect.aspect, reason: fault };
        }
        if (aspect.after === null) this.state.delete(aspect.key);
        else this.state.set(aspect.key, { ...this.state.get(aspect.key), ...aspect.after });
        this.indexQuota(aspect);
      }
    }
  }

  private indexQuota(aspect: AspectChange): void {
    if (!aspect.aspect.startsWith('quota:')) return;
    const prefix = aspect.key.slice(0, aspect.key.length - aspect.aspect.length + 'quota:'.length);
    const keys = this.quotaKeys.get(prefix) ?? new Set<string>();
    if (aspect.after === null) keys.delete(aspect.key);
    else keys.add(aspect.key);
    this.quotaKeys.set(prefix, keys);
  }

  /**
   * A quota.set's before is the tenant's whole set of quotas: a class an earlier event set that it leaves out is a
   * change too (the before says it did not exist, and it is gone after).
   */
  private omittedQuotas(event: ContinuityEvent): AspectChange[] {
    if (event.action !== 'quota.set' || !isFields(event.before)) return [];
    const named = new Set([...Object.keys(event.before), ...Object.keys(fieldsOrNull(event.after) ?? {})]);
    const prefix = `${event.subjectType}/${event.subject}/quota:`;
    const omitted = [...(this.quotaKeys.get(prefix) ?? [])].filter((key) => !named.has(key.slice(prefix.length)));
    return omitted.map((key) => ({ key, aspect: key.slice(`${event.subjectType}/${event.subject}/`.length), before: null, after: null }));
  }

  private faultOf(event: ContinuityEvent, aspect: AspectChange): string | null {
    const known = this.state.get(aspect.key);
    if (aspect.before === undefined || known === undefined) return null;
    if (aspect.before === null) return `its before says ${aspect.aspect} did not exist, but an earlier event left it ${JSON.stringify(known)}`;
    const measured = event.subjectType === 'host' && aspect.aspect.startsWith('inventory:') && this.agentHosts.has(event.subject) ? ['total'] : [];
    for (const [field, value] of Object.entries(aspect.before)) {
      if (!(field in known) || measured.includes(field)) continue;
      if (!isDeepStrictEqual(value, known[field])) {
        return `its before has ${field} ${JSON.stringify(value)}, but the last change of ${aspect.aspect} left ${JSON.stringify(known[field])}`;
      }
    }
    return null;
  }
}
