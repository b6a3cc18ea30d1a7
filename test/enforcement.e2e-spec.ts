import { EnforcementService } from '../apps/control/src/enforcement/enforcement.service';
import { retryDelayMs, WebhookDeliveryService } from '../apps/control/src/enforcement/webhook-delivery.service';
import { RunningControl, startControl } from './support/control';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { createHost, createTenant, expectStatus, setQuotas } from './support/facility';
import { expectProblem } from './support/problems';
import { aReport } from './support/reports';
import { bootControl, createDataDir, removeDataDir } from './support/restartable-control';
import { startWebhookReceiver, WebhookReceiver } from './support/webhook-receiver';
import { setControlClock } from './support/clock';

const GIB = 2 ** 30;
const GRACE_S = 900;
const MINUTE = 60_000;

describe.each(['sqlite', 'postgres'])('quota enforcement on %s', (backend) => {
  let database: TestDatabase | undefined;
  let control: RunningControl;
  let receiver: WebhookReceiver;
  let enforcement: EnforcementService;
  let delivery: WebhookDeliveryService;
  let now: number;

  /** Moves the injected clock (never backwards) and runs one enforcement pass there, then delivers the webhook. */
  const passAt = async (at: number) => {
    now = at;
    setControlClock(control.app, () => now);
    const outcome = await enforcement.evaluate();
    await delivery.deliverDue();
    return outcome;
  };
  const allocate = (tenant: string, resources: Record<string, unknown>) => control.api.post('/v1/allocations', { tenant, resources });
  const quotas = async (slug: string) => (await expectStatus(control.api.get(`/v1/tenants/${slug}/quotas`), 200)).quotas;
  const tenantState = async (slug: string) => (await expectStatus(control.api.get(`/v1/tenants/${slug}`), 200)).state;
  const eventsOf = (slug: string) => receiver.accepted().filter((event) => event.tenant === slug);

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    database = backend === 'postgres' ? await createTestDatabase() : undefined;
    control = await startControl({
      webhookUrl: receiver.url,
      freezeGraceSeconds: GRACE_S,
      reportIntervalSeconds: 15,
      ...(database ? { databaseUrl: database.url } : {}),
    });
    enforcement = control.app.get(EnforcementService);
    delivery = control.app.get(WebhookDeliveryService);
    now = Date.now();
    await createHost(control.api, 'blv-e01', { vcpu: { total: 64 }, memory: { total: '512GiB' }, storage: { total: '100TiB' } });
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await control?.close();
    await receiver?.close();
    await database?.drop();
  });

  it('freezes a tenant over its quota for longer than the grace period, refuses it, and unfreezes it once back under', async () => {
    await createTenant(control.api, 'blaenau-gwent');
    await setQuotas(control.api, 'blaenau-gwent', { vcpu: 16 });
    const allocation = await expectStatus(allocate('blaenau-gwent', { vcpu: 12 }), 201);
    const start = now + MINUTE;
    await expect(passAt(start).then((outcome) => outcome.events)).resolves.toEqual([]);

    await setQuotas(control.api, 'blaenau-gwent', { vcpu: 8 });
    await expect(quotas('blaenau-gwent')).resolves.toMatchObject({ vcpu: { state: 'over', since: null } });
    const over = await passAt(start + MINUTE);
    expect(over.events).toEqual([expect.objectContaining({ event: 'quota.state_changed', tenant: 'blaenau-gwent', resource: 'vcpu', from: 'ok', to: 'over' })]);
    await expect(quotas('blaenau-gwent')).resolves.toMatchObject({
      vcpu: { state: 'over', since: new Date(start + MINUTE).toISOString(), limit: 8, allocated: 12 },
    });

    await expect(passAt(start + MINUTE + (GRACE_S - 1) * 1000).then((outcome) => outcome.frozen)).resolves.toEqual([]);
    await expect(tenantState('blaenau-gwent')).resolves.toBe('active');

    await expect(passAt(start + MINUTE + GRACE_S * 1000).then((outcome) => outcome.frozen)).resolves.toEqual(['blaenau-gwent']);
    await expect(tenantState('blaenau-gwent')).resolves.toBe('frozen');
    expectProblem(await allocate('blaenau-gwent', { vcpu: 1 }), 409, 'TenantFrozen');
    await expect(passAt(now + MINUTE).then((outcome) => outcome.events)).resolves.toEqual([]);

    await expectStatus(control.api.delete(`/v1/allocations/${allocation.id}`), 200);
    const under = await passAt(now + MINUTE);
    expect(under.unfrozen).toEqual(['blaenau-gwent']);
    await expect(tenantState('blaenau-gwent')).resolves.toBe('active');
    await expect(quotas('blaenau-gwent')).resolves.toMatchObject({ vcpu: { state: 'ok', since: new Date(now).toISOString() } });
    await expectStatus(allocate('blaenau-gwent', { vcpu: 4 }), 201);

    expect(eventsOf('blaenau-gwent')).toEqual([
      expect.objectContaining({ event: 'quota.state_changed', resource: 'vcpu', from: 'ok', to: 'over', limit: 8, allocated: 12, used: null }),
      expect.objectContaining({ event: 'tenant.frozen', resource: null, from: 'active', to: 'frozen', resources: ['vcpu'] }),
      expect.objectContaining({ event: 'quota.state_changed', resource: 'vcpu', from: 'over', to: 'ok', allocated: 0 }),
      expect.objectContaining({ event: 'tenant.unfrozen', resource: null, from: 'frozen', to: 'active' }),
    ]);
    const frozen = receiver.calls.find((call) => call.body.event === 'tenant.frozen' && call.body.tenant === 'blaenau-gwent')!;
    expect(frozen.headers).toMatchObject({ 'content-type': 'application/json', 'x-dcm-event': 'tenant.frozen', 'x-dcm-delivery': frozen.body.id });
    expect(frozen.body.at).toBe(new Date(start + MINUTE + GRACE_S * 1000).toISOString());
  });

  it('warns from 90 % of a limit, without freezing', async () => {
    await createTenant(control.api, 'caerphilly');
    await setQuotas(control.api, 'caerphilly', { vcpu: 10 });
    await expectStatus(allocate('caerphilly', { vcpu: 9 }), 201);

    await passAt(now + MINUTE);
    await passAt(now + 2 * GRACE_S * 1000);

    await expect(tenantState('caerphilly')).resolves.toBe('active');
    expect(eventsOf('caerphilly')).toEqual([expect.objectContaining({ event: 'quota.state_changed', from: 'ok', to: 'warning' })]);
  });

  it('never lifts a freeze an operator set', async () => {
    await createTenant(control.api, 'held-by-hand');
    await setQuotas(control.api, 'held-by-hand', { vcpu: 10 });
    await expectStatus(control.api.patch('/v1/tenants/held-by-hand', { state: 'frozen' }), 200);
    await passAt(now + MINUTE);
    await expect(tenantState('held-by-hand')).resolves.toBe('frozen');

    // A freeze enforcement imposed that an operator then confirms becomes the operator's.
    await createTenant(control.api, 'confirmed');
    await setQuotas(control.api, 'confirmed', { vcpu: 10 });
    const allocation = await expectStatus(allocate('confirmed', { vcpu: 10 }), 201);
    await setQuotas(control.api, 'confirmed', { vcpu: 5 });
    await passAt(now + MINUTE);
    await expect(passAt(now + GRACE_S * 1000).then((outcome) => outcome.frozen)).resolves.toEqual(['confirmed']);
    await expectStatus(control.api.patch('/v1/tenants/confirmed', { state: 'frozen' }), 200);
    await expectStatus(control.api.delete(`/v1/allocations/${allocation.id}`), 200);

    const outcome = await passAt(now + MINUTE);
    expect(outcome.unfrozen).toEqual([]);
    await expect(tenantState('confirmed')).resolves.toBe('frozen');
    await expect(tenantState('held-by-hand')).resolves.toBe('frozen');
  });

  it('weighs measured use from agent reports: a full disk freezes the tenant like an over-allocation', async () => {
    await createTenant(control.api, 'torfaen');
    await setQuotas(control.api, 'torfaen', { storage: '10GiB', vcpu: 4 });
    const join = await expectStatus(control.api.post('/v1/tokens', { kind: 'join', uses: 1 }), 201);
    const facts = {
      hostname: 'blv-e02',
      os: 'Debian',
      kernel: '6.1',
      cpuModel: 'EPYC',
      logicalCores: 8,
      memoryTotalBytes: 64 * GIB,
      storage: [{ mountpoint: '/srv', sizeBytes: 100 * GIB }],
    };
    const agent = await expectStatus(control.api.post('/v1/agents/enrol', { joinToken: join.token, hostname: 'blv-e02', facts }, { token: null }), 201);
    await expectStatus(control.api.put('/v1/hosts/blv-e02/tenants/torfaen'), 200);
    const report = async (seq: number, storageUsedBytes: number) => {
      const collectedAt = new Date(now).toISOString();
      await expectStatus(
        control.api.post(`/v1/agents/${agent.agentId}/reports`, aReport(seq, { collectedAt, tenants: { torfaen: { storageUsedBytes } } }), {
          token: agent.agentToken,
        }),
        200,
      );
    };

    now += MINUTE;
    await report(1, 12 * GIB);
    await expect(passAt(now).then((outcome) => outcome.events.map((event) => [event.resource, event.to]))).resolves.toEqual([['storage', 'over']]);
    await expect(quotas('torfaen')).resolves.toMatchObject({ storage: { used: 12 * GIB, allocated: 0, state: 'over' }, vcpu: { used: null, state: 'ok' } });

    now += GRACE_S * 1000;
    await report(2, 12 * GIB);
    await expect(passAt(now).then((outcome) => outcome.frozen)).resolves.toEqual(['torfaen']);
    expectProblem(await allocate('torfaen', { vcpu: 1 }), 409, 'TenantFrozen');

    now += MINUTE;
    await report(3, 5 * GIB);
    await expect(passAt(now).then((outcome) => outcome.unfrozen)).resolves.toEqual(['torfaen']);
    await expect(quotas('torfaen')).resolves.toMatchObject({ storage: { used: 5 * GIB, state: 'ok' } });
    expect(eventsOf('torfaen').map((event) => event.event)).toEqual(['quota.state_changed', 'tenant.frozen', 'quota.state_changed', 'tenant.unfrozen']);
  });

  it('retries a failing receiver with backoff, keeping the order of events', async () => {
    await createTenant(control.api, 'monmouth');
    await setQuotas(control.api, 'monmouth', { vcpu: 10 });
    await expectStatus(allocate('monmouth', { vcpu: 10 }), 201);
    receiver.failNext = 2;
    const calls = receiver.calls.length;

    await passAt(now + MINUTE);
    expect(receiver.calls.length - calls).toBe(1);
    await setQuotas(control.api, 'monmouth', { vcpu: 9 });
    await passAt(now + retryDelayMs(1) - 1);
    expect(receiver.calls.length - calls).toBe(1); // not yet due: the later event waits behind it
    now += 1;
    await delivery.deliverDue();
    now += retryDelayMs(2);
    await delivery.deliverDue();

    expect(receiver.calls.length - calls).toBe(4);
    expect(eventsOf('monmouth').map((event) => event.to)).toEqual(['warning', 'over']);
  });
});

describe('enforcement events across a restart', () => {
  it('delivers the webhook events queued before control stopped', async () => {
    const receiver = await startWebhookReceiver();
    const dataDir = createDataDir();
    try {
      receiver.failNext = 1;
      const first = await bootControl(dataDir, { webhookUrl: receiver.url });
      const api = first.api(first.tokenFile());
      await createTenant(api, 'newport');
      await setQuotas(api, 'newport', { vcpu: 0 });
      await createHost(api, 'blv-r01', { vcpu: { total: 8 } });
      await first.app.get(EnforcementService).evaluate();
      await setQuotas(api, 'newport', { vcpu: 4 });
      await expectStatus(api.post('/v1/allocations', { tenant: 'newport', resources: { vcpu: 4 } }), 201);
      await first.app.get(EnforcementService).evaluate();
      await first.app.get(WebhookDeliveryService).deliverDue(); // answered 503: stays queued
      await first.stop();
      expect(receiver.accepted()).toEqual([]);

      const second = await bootControl(dataDir, { webhookUrl: receiver.url });
      setControlClock(second.app, Date.now() + retryDelayMs(1));
      await second.app.get(WebhookDeliveryService).deliverDue();
      await second.stop();

      expect(receiver.accepted()).toEqual([expect.objectContaining({ tenant: 'newport', event: 'quota.state_changed', from: 'ok', to: 'warning' })]);
    } finally {
      jest.restoreAllMocks();
      removeDataDir(dataDir);
      await receiver.close();
    }
  });
});
