import { EnforcementService } from '../apps/control/src/enforcement/enforcement.service';
import { GrantsService } from '../apps/control/src/grants/grants.service';
import { RunningControl, startControl } from './support/control';
import { createHost, createTenant, expectStatus, setQuotas } from './support/facility';
import { expectProblem } from './support/problems';
import { setControlClock } from './support/clock';

const GIB = 2 ** 30;
const HOUR = 3_600_000;
const GRACE_S = 900;

describe('surge grants', () => {
  let control: RunningControl;
  let grants: GrantsService;
  let enforcement: EnforcementService;
  let now: number;

  /** Moves the injected clock (never backwards). */
  const at = (instant: number) => {
    now = instant;
    setControlClock(control.app, () => now);
  };
  const allocate = (tenant: string, resources: Record<string, unknown>) => control.api.post('/v1/allocations', { tenant, resources });
  const quotas = async (slug: string) => (await expectStatus(control.api.get(`/v1/tenants/${slug}/quotas`), 200)).quotas;
  const grant = (slug: string, body: Record<string, unknown>) => control.api.post(`/v1/tenants/${slug}/grants`, body);

  beforeAll(async () => {
    control = await startControl({ freezeGraceSeconds: GRACE_S });
    grants = control.app.get(GrantsService);
    enforcement = control.app.get(EnforcementService);
    at(Date.now());
    await createHost(control.api, 'blv-g01', { vcpu: { total: 64 }, memory: { total: '512GiB' }, storage: { total: '100TiB' } });
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await control?.close();
  });

  it('lifts the effective limit while it runs; at expiry the limit drops back and the state follows to over, then frozen', async () => {
    await createTenant(control.api, 'gwent-police');
    await setQuotas(control.api, 'gwent-police', { vcpu: 8, memory: '32GiB' });
    await expectStatus(allocate('gwent-police', { vcpu: 8 }), 201);
    expectProblem(await allocate('gwent-police', { vcpu: 4 }), 409, 'QuotaExceeded');

    const expiresAt = new Date(now + 72 * HOUR).toISOString();
    const created = await expectStatus(
      grant('gwent-police', { resources: { vcpu: 4, memory: '16GiB' }, expiresAt, reason: 'Major incident INC-4711: evidence system restore' }),
      201,
    );
    expect(created).toEqual({
      id: expect.any(String),
      tenant: 'gwent-police',
      resources: { memory: 16 * GIB, vcpu: 4 },
      reason: 'Major incident INC-4711: evidence system restore',
      createdBy: expect.stringMatching(/^token:/),
      createdAt: new Date(now).toISOString(),
      expiresAt,
      endedAt: null,
      state: 'active',
    });
    await expect(quotas('gwent-police')).resolves.toMatchObject({
      vcpu: { limit: 8, granted: 4, effectiveLimit: 12, allocated: 8, available: 4 },
      memory: { limit: 32 * GIB, granted: 16 * GIB, effectiveLimit: 48 * GIB },
    });
    await expectStatus(allocate('gwent-police', { vcpu: 4 }), 201);
    expectProblem(await allocate('gwent-police', { vcpu: 1 }), 409, 'QuotaExceeded');
    // 12 of an effective 12: full, not over.
    await expect(enforcement.evaluate().then((outcome) => outcome.events)).resolves.toEqual([
      expect.objectContaining({ tenant: 'gwent-police', resource: 'vcpu', from: 'ok', to: 'warning' }),
    ]);

    await expect(grants.expire()).resolves.toBe(0);
    at(now + 72 * HOUR);
    await expect(grants.expire()).resolves.toBe(1);
    const [ended] = await expectStatus(control.api.get('/v1/tenants/gwent-police/grants?all=true'), 200);
    expect(ended).toMatchObject({ id: created.id, state: 'expired', endedAt: expiresAt });
    await expect(expectStatus(control.api.get('/v1/tenants/gwent-police/grants'), 200)).resolves.toEqual([]);
    await expect(quotas('gwent-police')).resolves.toMatchObject({ vcpu: { limit: 8, granted: 0, effectiveLimit: 8, allocated: 12, state: 'over' } });

    const over = await enforcement.evaluate();
    expect(over.events).toEqual([expect.objectContaining({ tenant: 'gwent-police', resource: 'vcpu', from: 'warning', to: 'over' })]);
    at(now + GRACE_S * 1000);
    await expect(enforcement.evaluate().then((outcome) => outcome.frozen)).resolves.toEqual(['gwent-police']);
    expectProblem(await allocate('gwent-police', { memory: '1GiB' }), 409, 'TenantFrozen');
  });

  it('ends early when revoked, and revoking again changes nothing', async () => {
    await createTenant(control.api, 'torfaen');
    await setQuotas(control.api, 'torfaen', { vcpu: 4 });
    const created = await expectStatus(
      grant('torfaen', { resources: { vcpu: 28 }, expiresAt: new Date(now + 24 * HOUR).toISOString(), reason: 'Data-centre migration wave 2' }),
      201,
    );
    await expect(quotas('torfaen')).resolves.toMatchObject({ vcpu: { effectiveLimit: 32 } });
    const revoked = await expectStatus(control.api.delete(`/v1/tenants/torfaen/grants/${created.id}`), 200);
    expect(revoked).toMatchObject({ state: 'revoked', endedAt: new Date(now).toISOString() });
    await expect(quotas('torfaen')).resolves.toMatchObject({ vcpu: { granted: 0, effectiveLimit: 4 } });
    await expect(expectStatus(control.api.delete(`/v1/tenants/torfaen/grants/${created.id}`), 200)).resolves.toEqual(revoked);
    expectProblem(await control.api.delete('/v1/tenants/gwent-police/grants/' + created.id), 404, 'NotFound');
  });

  it('adds up several running grants, and a quota set again keeps them', async () => {
    await createTenant(control.api, 'monmouthshire');
    await setQuotas(control.api, 'monmouthshire', { vcpu: 10 });
    const expiresAt = new Date(now + HOUR).toISOString();
    await expectStatus(grant('monmouthshire', { resources: { vcpu: 2 }, expiresAt, reason: 'first' }), 201);
    await expectStatus(grant('monmouthshire', { resources: { vcpu: 3 }, expiresAt, reason: 'second' }), 201);
    await expect(quotas('monmouthshire')).resolves.toMatchObject({ vcpu: { granted: 5, effectiveLimit: 15 } });
    await setQuotas(control.api, 'monmouthshire', { vcpu: 20 });
    await expect(quotas('monmouthshire')).resolves.toMatchObject({ vcpu: { limit: 20, granted: 5, effectiveLimit: 25 } });
  });

  it('refuses grants that make no sense, changing nothing', async () => {
    await createTenant(control.api, 'caerphilly');
    await setQuotas(control.api, 'caerphilly', { vcpu: 4 });
    const future = new Date(now + HOUR).toISOString();
    expectProblem(await grant('caerphilly', { resources: { memory: '8GiB' }, expiresAt: future, reason: 'no memory quota' }), 409, 'Conflict');
    expectProblem(
      await grant('caerphilly', { resources: { vcpu: 2 }, expiresAt: new Date(now - 1000).toISOString(), reason: 'past' }),
      400,
      'ValidationFailed',
    );
    expectProblem(
      await grant('caerphilly', { resources: { vcpu: 2 }, expiresAt: new Date(now + 400 * 24 * HOUR).toISOString(), reason: 'too long' }),
      400,
      'ValidationFailed',
    );
    expectProblem(await grant('caerphilly', { resources: { vcpu: 0 }, expiresAt: future, reason: 'nothing' }), 400, 'ValidationFailed');
    expectProblem(await grant('caerphilly', { resources: { vcpu: 2 }, expiresAt: future }), 400, 'ValidationFailed');
    expectProblem(await grant('caerphilly', { resources: { vcpu: 2 }, expiresAt: future, reason: 'bell\u0007' }), 400, 'ValidationFailed');
    expectProblem(await grant('caerphilly', { resources: { vcpu: 2 }, expiresAt: future, reason: 'ok', extra: 1 }), 400, 'ValidationFailed');
    expectProblem(await grant('no-such-tenant', { resources: { vcpu: 2 }, expiresAt: future, reason: 'nobody' }), 404, 'NotFound');
    await expect(expectStatus(control.api.get('/v1/tenants/caerphilly/grants?all=true'), 200)).resolves.toEqual([]);
    await expect(quotas('caerphilly')).resolves.toMatchObject({ vcpu: { granted: 0, effectiveLimit: 4 } });
  });
});
