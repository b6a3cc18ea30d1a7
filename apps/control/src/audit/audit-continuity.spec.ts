import { ContinuityChecker, ContinuityEvent } from './audit-continuity';

const GIB = 2 ** 30;
let seq = 0;
const event = (action: string, subjectType: string, subject: string, before: unknown, after: unknown): ContinuityEvent => ({
  seq: ++seq,
  action,
  subjectType,
  subject,
  before,
  after,
});
const tenant = (fields: Record<string, unknown>) => ({
  slug: 'newport',
  name: 'Newport',
  state: 'active',
  updatedAt: `2026-11-0${seq % 9}T00:00:00Z`,
  ...fields,
});

describe(ContinuityChecker.name, () => {
  beforeEach(() => (seq = 0));

  it('accepts a history where every before continues the last after, through freezes, quota changes and an agent host', () => {
    const sut = new ContinuityChecker();
    sut.feed([
      event('tenant.create', 'tenant', 'newport', null, tenant({})),
      event('quota.set', 'tenant', 'newport', {}, { vcpu: 32, memory: 64 * GIB }),
      event('quota.set', 'tenant', 'newport', { vcpu: 32, memory: 64 * GIB }, { vcpu: 40 }),
      event('quota.set', 'tenant', 'newport', { vcpu: 40 }, { vcpu: 40, memory: 8 * GIB }),
      event('quota.state_changed', 'quota', 'newport/vcpu', { state: 'ok' }, { from: 'ok', to: 'over' }),
      event('tenant.frozen', 'tenant', 'newport', { state: 'active' }, { from: 'active', to: 'frozen' }),
      // The freeze moved updatedAt without saying so: not compared.
      event('tenant.update', 'tenant', 'newport', tenant({ state: 'frozen' }), tenant({ state: 'frozen', name: 'Newport City' })),
      event('agent.enrol', 'host', 'blv-c07', null, { agentId: 'a1' }),
      event('inventory.set', 'host', 'blv-c07', { resourceClass: 'vcpu', total: 48, reserved: 0 }, { resourceClass: 'vcpu', total: 48, reserved: 2 }),
      // The agent's report changed the measured total in between: not compared.
      event('inventory.set', 'host', 'blv-c07', { resourceClass: 'vcpu', total: 64, reserved: 2 }, { resourceClass: 'vcpu', total: 64, reserved: 4 }),
      event('host.create', 'host', 'blv-a01', null, { name: 'blv-a01', status: 'up', inventories: { vcpu: { total: 32, reserved: 0 } } }),
      // Liveness moved it from up to stale: only maintenance is the operator's.
      event('host.update', 'host', 'blv-a01', { name: 'blv-a01', status: 'stale' }, { name: 'blv-a01', status: 'maintenance' }),
      event('inventory.set', 'host', 'blv-a01', { resourceClass: 'vcpu', total: 32, reserved: 0 }, { resourceClass: 'vcpu', total: 32, reserved: 1 }),
      // Accepting an agent's host again says which measured totals it applied, beside the details.
      event('agent.enrol', 'host', 'blv-c10', null, { agentId: 'a2' }),
      event('host.update', 'host', 'blv-c10', { name: 'blv-c10', accepted: false }, { name: 'blv-c10', accepted: true }),
      event(
        'host.update',
        'host',
        'blv-c10',
        { name: 'blv-c10', accepted: true, inventories: { vcpu: { total: 4 } } },
        { name: 'blv-c10', accepted: true, inventories: { vcpu: { total: 16 } } },
      ),
      // Its agent's totals fell and rose again in between, without events: not compared.
      event(
        'host.update',
        'host',
        'blv-c10',
        { name: 'blv-c10', accepted: true, inventories: { vcpu: { total: 2 } } },
        { name: 'blv-c10', accepted: true, inventories: { vcpu: { total: 8 } } },
      ),
      event('host.update', 'host', 'blv-c10', { name: 'blv-c10', accepted: true }, { name: 'blv-c10', accepted: false }),
      event('allocation.create', 'allocation', 'x1', null, { status: 'active' }),
      event('allocation.release', 'allocation', 'x1', { status: 'active' }, { status: 'released' }),
      event('token.create', 'token', 't1', null, { revokedAt: null }),
      event('token.revoke', 'token', 't1', null, { revokedAt: '2026-11-02T00:00:00Z' }),
    ]);
    expect(sut.first).toBeNull();
  });

  it.each([
    [
      'a quota before that repeats the new limit',
      () => [event('quota.set', 'tenant', 'newport', {}, { vcpu: 32 }), event('quota.set', 'tenant', 'newport', { vcpu: 40 }, { vcpu: 40 })],
      { seq: 2, aspect: 'quota:vcpu', reason: expect.stringMatching(/limit 40.*left 32/) },
    ],
    [
      'a quota class the before leaves out although it was set',
      () => [event('quota.set', 'tenant', 'newport', {}, { vcpu: 32, memory: GIB }), event('quota.set', 'tenant', 'newport', { vcpu: 32 }, { vcpu: 32 })],
      { seq: 2, aspect: 'quota:memory', reason: expect.stringMatching(/did not exist/) },
    ],
    [
      "an operator-owned inventory's total that moved without an event",
      () => [
        event('host.create', 'host', 'blv-a01', null, { name: 'blv-a01', inventories: { vcpu: { total: 32, reserved: 0 } } }),
        event('inventory.set', 'host', 'blv-a01', { resourceClass: 'vcpu', total: 64, reserved: 0 }, { resourceClass: 'vcpu', total: 64, reserved: 1 }),
      ],
      { seq: 2, subject: 'blv-a01', aspect: 'inventory:vcpu', reason: expect.stringMatching(/total 64.*left 32/) },
    ],
    [
      'a tenant name changed in between',
      () => [
        event('tenant.create', 'tenant', 'newport', null, tenant({})),
        event('tenant.update', 'tenant', 'newport', tenant({ name: 'Forged' }), tenant({ name: 'Newport City' })),
      ],
      { seq: 2, aspect: 'details' },
    ],
  ])('names the first event that does not continue: %s', (_case, events, expected) => {
    const sut = new ContinuityChecker();
    sut.feed(events());
    expect(sut.first).toMatchObject(expected);
  });
});
