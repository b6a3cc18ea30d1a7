import { emptyState, prunedState, ReplayEvent, replayEvent } from './audit-replay';

const replay = (events: ReplayEvent[], from = emptyState()) => {
  for (const event of events) replayEvent(from, event);
  return from;
};
const event = (action: string, subject: string, after: unknown, before: unknown = null): ReplayEvent => ({ action, subject, before, after });
const tenant = (slug: string, state = 'active') => ({ slug, name: `Tenant ${slug}`, contact: null, isolation: 'shared', classification: 'OFFICIAL', state });
const host = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  site: 'hall-a',
  rack: null,
  labels: {},
  accreditation: 'OFFICIAL',
  dedicatedTenantId: null,
  dedicatedTenant: null,
  status: 'up',
  ...extra,
});

describe(replayEvent.name, () => {
  it('unbinds a tenant from every host when it is offboarded, and every tenant from a host when it is decommissioned', () => {
    const sut = replay([
      event('tenant.create', 'torfaen', tenant('torfaen')),
      event('tenant.create', 'newport', tenant('newport')),
      event('host.create', 'blv-a01', { ...host('blv-a01'), inventories: {} }),
      event('host.create', 'blv-a02', { ...host('blv-a02'), inventories: {} }),
      event('host.bind-tenant', 'blv-a01/torfaen', { host: 'blv-a01', tenant: 'torfaen' }),
      event('host.bind-tenant', 'blv-a01/newport', { host: 'blv-a01', tenant: 'newport' }),
      event('host.bind-tenant', 'blv-a02/torfaen', { host: 'blv-a02', tenant: 'torfaen' }),
      event('tenant.offboard', 'torfaen', tenant('torfaen', 'offboarded'), tenant('torfaen')),
    ]);
    expect(sut.bindings).toEqual({ 'blv-a01': ['newport'] });
    replayEvent(sut, event('host.decommission', 'blv-a01', null, host('blv-a01')));
    expect(sut.bindings).toEqual({});
    expect(Object.keys(sut.hosts)).toEqual(['blv-a02']);
  });

  it("keeps a host's dedicated tenant as a slug, and as the id events written before the slug was recorded give", () => {
    const sut = replay([
      event('host.create', 'blv-a01', { ...host('blv-a01', { dedicatedTenantId: 'id-1', dedicatedTenant: 'torfaen' }), inventories: { vcpu: { total: 8 } } }),
      event('host.create', 'blv-a02', { name: 'blv-a02', dedicatedTenantId: 'id-2', status: 'maintenance', inventories: {} }),
    ]);
    expect(sut.hosts['blv-a01']).toMatchObject({
      dedicatedTenant: 'torfaen',
      status: 'in service',
      inventories: { vcpu: { total: 8, minUnit: null, maxUnit: null, stepSize: null } },
    });
    expect(sut.hosts['blv-a02']).toMatchObject({ dedicatedTenant: 'id-2', status: 'maintenance' });
  });

  it('starts from the state a prune recorded, as a copy', () => {
    const recorded = replay([event('tenant.create', 'torfaen', tenant('torfaen')), event('quota.set', 'torfaen', { vcpu: 32 }, {})]);
    const prune = { throughSeq: 2, state: recorded };
    const sut = replay([event('quota.set', 'torfaen', { vcpu: 40 }, { vcpu: 32 })], prunedState(prune)!);
    expect(sut.quotas).toEqual({ torfaen: { vcpu: 40 } });
    expect(recorded.quotas).toEqual({ torfaen: { vcpu: 32 } });
    expect(prunedState({ throughSeq: 2 })).toBeNull();
  });
});
