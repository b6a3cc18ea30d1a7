import fc from 'fast-check';
import { emptyState, prunedState, ReplayedState, replayEvent } from '../apps/control/src/audit/audit-replay';
import { AuditService } from '../apps/control/src/audit/audit.service';
import { GrantsService } from '../apps/control/src/grants/grants.service';
import { ApiClient } from './support/api-client';
import { RunningControl, startControl } from './support/control';
import { setControlClock } from './support/clock';

const GIB = 2 ** 30;
const DAY = 86_400_000;
const SLUGS = ['torfaen', 'newport', 'monmouth'] as const;
const HOSTS = ['blv-a01', 'blv-a02'] as const;

interface AuditEvent {
  seq: number;
  action: string;
  subject: string;
  before: unknown;
  after: unknown;
}

/** One change an operator may make through the API; an index picks one of the ids the run has seen so far. */
type Operation =
  | { op: 'tenant.create'; slug: string; isolation: string; classification: string }
  | { op: 'tenant.update'; slug: string; name?: string; contact?: string }
  | { op: 'tenant.offboard'; slug: string }
  | { op: 'quotas.set'; slug: string; quotas: { vcpu?: number; memory?: number } }
  | { op: 'grant.create'; slug: string; vcpu: number }
  | { op: 'grant.revoke'; index: number }
  | { op: 'host.create'; name: string; vcpu: number; memoryGiB: number; status: string }
  | { op: 'host.update'; name: string; status?: string; rack?: string; labels?: Record<string, string>; dedicatedTenant?: string | null }
  | { op: 'host.decommission'; name: string }
  | { op: 'inventory.set'; name: string; resourceClass: string; total: number; reserved: number; allocationRatio: number }
  | { op: 'allocation.create'; slug: string; vcpu: number; memoryGiB?: number; host?: string }
  | { op: 'allocation.release'; index: number }
  | { op: 'token.create'; role: string; slug: string }
  | { op: 'token.revoke'; index: number }
  | { op: 'tenant.bind' | 'tenant.unbind'; name: string; slug: string };

const slug = fc.constantFrom(...SLUGS);
const hostName = fc.constantFrom(...HOSTS);
const index = fc.nat({ max: 20 });
/** Offboarding and decommissioning are rarer: a slug or host name is never used again after them. */
const operations: fc.Arbitrary<Operation> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('tenant.create' as const),
      slug,
      isolation: fc.constantFrom('shared', 'dedicated'),
      classification: fc.constantFrom('OFFICIAL', 'OFFICIAL-SENSITIVE'),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record(
      {
        op: fc.constant('tenant.update' as const),
        slug,
        name: fc.constantFrom('Council', 'Borough', 'Authority'),
        contact: fc.constantFrom('ops@example.org', 'it@example.org'),
      },
      { requiredKeys: ['op', 'slug'] },
    ),
    weight: 4,
  },
  { arbitrary: fc.record({ op: fc.constant('tenant.offboard' as const), slug }), weight: 1 },
  {
    arbitrary: fc.record({
      op: fc.constant('quotas.set' as const),
      slug,
      quotas: fc.record({ vcpu: fc.integer({ min: 0, max: 64 }), memory: fc.integer({ min: 0, max: 256 }).map((gib) => gib * GIB) }, { requiredKeys: [] }),
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ op: fc.constant('grant.create' as const), slug, vcpu: fc.integer({ min: 1, max: 16 }) }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('grant.revoke' as const), index }), weight: 4 },
  {
    arbitrary: fc.record({
      op: fc.constant('host.create' as const),
      name: hostName,
      vcpu: fc.integer({ min: 8, max: 64 }),
      memoryGiB: fc.integer({ min: 16, max: 512 }),
      status: fc.constantFrom('up', 'maintenance'),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record(
      {
        op: fc.constant('host.update' as const),
        name: hostName,
        status: fc.constantFrom('up', 'maintenance'),
        rack: fc.constantFrom('a01', 'b07'),
        labels: fc.constantFrom<Record<string, string>>({}, { model: 'R760' }),
        dedicatedTenant: fc.option(slug, { nil: null }),
      },
      { requiredKeys: ['op', 'name'] },
    ),
    weight: 4,
  },
  { arbitrary: fc.record({ op: fc.constant('host.decommission' as const), name: hostName }), weight: 1 },
  {
    arbitrary: fc.record({
      op: fc.constant('inventory.set' as const),
      name: hostName,
      resourceClass: fc.constantFrom('vcpu', 'memory'),
      total: fc.integer({ min: 8, max: 128 }),
      reserved: fc.integer({ min: 0, max: 4 }),
      allocationRatio: fc.constantFrom(1, 2, 4),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record(
      { op: fc.constant('allocation.create' as const), slug, vcpu: fc.integer({ min: 1, max: 8 }), memoryGiB: fc.integer({ min: 1, max: 8 }), host: hostName },
      { requiredKeys: ['op', 'slug', 'vcpu'] },
    ),
    weight: 4,
  },
  { arbitrary: fc.record({ op: fc.constant('allocation.release' as const), index }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('token.create' as const), role: fc.constantFrom('viewer', 'operator', 'tenant'), slug }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('token.revoke' as const), index }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constantFrom('tenant.bind' as const, 'tenant.unbind' as const), name: hostName, slug }), weight: 4 },
);

/**
 * The operation with its tenant and host names made the run's own: runs share one control, and a slug or host name
 * once offboarded or decommissioned stays taken, so each run starts with fresh ones (and the log holds every run).
 */
function inRun(operation: Operation, run: number): Operation {
  const renamed: Record<string, unknown> = { ...operation };
  for (const field of ['slug', 'name', 'host', 'dedicatedTenant'] as const) {
    if (typeof renamed[field] === 'string') renamed[field] = `${renamed[field] as string}-r${run}`;
  }
  return renamed as Operation;
}

/** Ids the API handed out during the runs, so that later operations can name them. */
/** Each run starts from tenants with quotas and hosts, so that most random operations find something to change. */
const SETUP: Operation[] = [
  ...SLUGS.map((slug, at): Operation => ({ op: 'tenant.create', slug, isolation: at === 0 ? 'dedicated' : 'shared', classification: 'OFFICIAL' })),
  ...SLUGS.map((slug): Operation => ({ op: 'quotas.set', slug, quotas: { vcpu: 64, memory: 256 * GIB } })),
  ...HOSTS.map((name): Operation => ({ op: 'host.create', name, vcpu: 64, memoryGiB: 256, status: 'up' })),
];

let runs = 0;
const seen = { grants: [] as { slug: string; id: string }[], allocations: [] as string[], tokens: [] as string[] };
const pick = <T>(list: T[], at: number): T | undefined => (list.length === 0 ? undefined : list[at % list.length]);

/** Performs one operation over HTTP. A refusal (4xx) is fine: it changes nothing and leaves no event; a 5xx is not. */
async function perform(api: ApiClient, operation: Operation, now: number): Promise<void> {
  const call = async (request: Promise<{ status: number; body: any }>) => {
    const response = await request;
    if (response.status >= 500) throw new Error(`${operation.op} answered ${response.status}: ${JSON.stringify(response.body)}`);
    return response.status < 300 ? response.body : null;
  };
  switch (operation.op) {
    case 'tenant.create':
      await call(
        api.post('/v1/tenants', {
          slug: operation.slug,
          name: `Tenant ${operation.slug}`,
          isolation: operation.isolation,
          classification: operation.classification,
        }),
      );
      return;
    case 'tenant.update':
      await call(api.patch(`/v1/tenants/${operation.slug}`, { name: operation.name, contact: operation.contact }));
      return;
    case 'tenant.offboard':
      await call(api.delete(`/v1/tenants/${operation.slug}`));
      return;
    case 'quotas.set':
      await call(api.put(`/v1/tenants/${operation.slug}/quotas`, operation.quotas));
      return;
    case 'grant.create': {
      const expiresAt = new Date(now + DAY).toISOString();
      const grant = await call(api.post(`/v1/tenants/${operation.slug}/grants`, { resources: { vcpu: operation.vcpu }, expiresAt, reason: 'migration' }));
      if (grant) seen.grants.push({ slug: operation.slug, id: grant.id });
      return;
    }
    case 'grant.revoke': {
      const grant = pick(seen.grants, operation.index);
      if (grant) await call(api.delete(`/v1/tenants/${grant.slug}/grants/${grant.id}`));
      return;
    }
    case 'host.create':
      await call(
        api.post('/v1/hosts', {
          name: operation.name,
          site: 'hall-a',
          status: operation.status,
          inventories: { vcpu: { total: operation.vcpu }, memory: { total: `${operation.memoryGiB}GiB` } },
        }),
      );
      return;
    case 'host.update': {
      const { status, rack, labels, dedicatedTenant } = operation;
      await call(api.patch(`/v1/hosts/${operation.name}`, { status, rack, labels, dedicatedTenant }));
      return;
    }
    case 'host.decommission':
      await call(api.delete(`/v1/hosts/${operation.name}`));
      return;
    case 'inventory.set':
      await call(
        api.put(`/v1/hosts/${operation.name}/inventories/${operation.resourceClass}`, {
          total: operation.resourceClass === 'memory' ? operation.total * GIB : operation.total,
          reserved: operation.resourceClass === 'memory' ? operation.reserved * GIB : operation.reserved,
          allocationRatio: operation.allocationRatio,
        }),
      );
      return;
    case 'allocation.create': {
      const resources = { vcpu: operation.vcpu, ...(operation.memoryGiB ? { memory: `${operation.memoryGiB}GiB` } : {}) };
      const allocation = await call(api.post('/v1/allocations', { tenant: operation.slug, resources, ...(operation.host ? { host: operation.host } : {}) }));
      if (allocation) seen.allocations.push(allocation.id);
      return;
    }
    case 'allocation.release': {
      const id = pick(seen.allocations, operation.index);
      if (id) await call(api.delete(`/v1/allocations/${id}`));
      return;
    }
    case 'token.create': {
      const token = await call(
        api.post('/v1/tokens', { kind: 'api', role: operation.role, ...(operation.role === 'tenant' ? { tenant: operation.slug } : {}) }),
      );
      if (token) seen.tokens.push(token.id);
      return;
    }
    case 'token.revoke': {
      const id = pick(seen.tokens, operation.index);
      if (id) await call(api.delete(`/v1/tokens/${id}`));
      return;
    }
    case 'tenant.bind':
      await call(api.put(`/v1/hosts/${operation.name}/tenants/${operation.slug}`));
      return;
    case 'tenant.unbind':
      await call(api.delete(`/v1/hosts/${operation.name}/tenants/${operation.slug}`));
      return;
  }
}

/** Every kept event, oldest first, read through GET /v1/audit a page at a time. */
async function auditLog(api: ApiClient): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  for (let before: number | undefined; ;) {
    const page: AuditEvent[] = (await api.get(`/v1/audit?limit=1000${before ? `&before=${before}` : ''}`)).body;
    events.push(...page);
    if (page.length < 1000) break;
    before = page[page.length - 1].seq;
  }
  return events.reverse();
}

/** Replays the log from empty, or from the state the retention prune recorded at the cut before its first kept event. */
function replay(events: AuditEvent[]): ReplayedState {
  const first = events[0]?.seq ?? 1;
  const pruning = events.find((event) => event.action === 'audit.prune' && (event.after as { throughSeq: number }).throughSeq === first - 1);
  const state = first > 1 ? prunedState(pruning?.after ?? null) : emptyState();
  if (!state) throw new Error(`the log starts at ${first}, and no retention prune recorded the state before it`);
  for (const event of events) replayEvent(state, event);
  return state;
}

/** The same records as the API shows them now. */
async function currentState(api: ApiClient): Promise<ReplayedState> {
  const state = emptyState();
  for (const tenant of (await api.get('/v1/tenants')).body) {
    const { slug: tenantSlug, name, contact, isolation, classification, state: tenantState } = tenant;
    state.tenants[tenantSlug] = { name, contact, isolation, classification, state: tenantState };
    const quotas = (await api.get(`/v1/tenants/${tenantSlug}/quotas`)).body.quotas as Record<string, { limit: number }>;
    state.quotas[tenantSlug] = Object.fromEntries(Object.entries(quotas).map(([resourceClass, quota]) => [resourceClass, quota.limit]));
    for (const grant of (await api.get(`/v1/tenants/${tenantSlug}/grants?all=true`)).body) {
      state.grants[grant.id] = { tenant: grant.tenant, resources: grant.resources, expiresAt: grant.expiresAt, state: grant.state };
    }
  }
  for (const host of (await api.get('/v1/hosts')).body) {
    state.hosts[host.name] = {
      site: host.site,
      rack: host.rack,
      labels: host.labels,
      accreditation: host.accreditation,
      dedicatedTenant: host.dedicatedTenant,
      status: host.status === 'maintenance' ? 'maintenance' : 'in service',
      inventories: Object.fromEntries(
        Object.entries(host.inventories as Record<string, Record<string, unknown>>).map(([resourceClass, figures]) => {
          const { total, reserved, allocationRatio, minUnit, maxUnit, stepSize } = figures;
          return [resourceClass, { total, reserved, allocationRatio, minUnit, maxUnit, stepSize }];
        }),
      ),
    };
  }
  for (const name of Object.keys(state.hosts)) {
    const bound: string[] = (await api.get(`/v1/hosts/${name}`)).body.boundTenants;
    if (bound.length > 0) state.bindings[name] = [...bound].sort();
  }
  for (const allocation of (await api.get('/v1/allocations?limit=1000')).body) {
    state.allocations[allocation.id] = { tenant: allocation.tenant, host: allocation.host, resources: allocation.resources };
  }
  for (const token of (await api.get('/v1/tokens')).body) {
    // The bootstrap token too: its minting is an audit event.
    state.tokens[token.id] = { kind: token.kind, role: token.role, tenant: token.tenant, revoked: token.revokedAt !== null };
  }
  return state;
}

describe('audit log replay', () => {
  let control: RunningControl;
  let now: number;

  beforeAll(async () => {
    // The scheduler stays out of the way (no enforcement pass, no grant expiry); retention is run by hand below.
    control = await startControl({ enforcementIntervalSeconds: 3600, auditRetentionDays: 30, rateLimitPerMinute: 0 });
    now = Date.now();
    setControlClock(control.app, () => now);
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await control?.close();
  });

  it('gives exactly the current records, whatever sequence of changes was made through the API', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operations, { minLength: 5, maxLength: 30 }), async (sequence) => {
        const run = ++runs;
        for (const operation of [...SETUP, ...sequence]) await perform(control.api, inRun(operation, run), now);
        const [events, current] = [await auditLog(control.api), await currentState(control.api)];
        expect(replay(events)).toEqual(current);
        await expect(control.api.get('/v1/audit/verify')).resolves.toMatchObject({ body: { intact: true, continuous: true } });
      }),
      { numRuns: 15 },
    );
  });

  it('still does after retention dropped the start of the log: from the state the prune recorded at its cut', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operations, { minLength: 5, maxLength: 20 }), async (sequence) => {
        const run = ++runs;
        for (const operation of [...SETUP, ...sequence]) await perform(control.api, inRun(operation, run), now);
        now += 40 * DAY; // everything so far falls out of the 30-day retention, and every grant expires
        await control.app.get(GrantsService).expire();
        await control.app.get(AuditService).applyRetention();
        for (const operation of sequence.slice(0, 5)) await perform(control.api, inRun(operation, run), now);
        const events = await auditLog(control.api);
        expect(events[0].seq).toBeGreaterThan(1);
        expect(replay(events)).toEqual(await currentState(control.api));
        await expect(control.api.get('/v1/audit/verify')).resolves.toMatchObject({ body: { intact: true, continuous: true } });
      }),
      { numRuns: 5 },
    );
  });
});
