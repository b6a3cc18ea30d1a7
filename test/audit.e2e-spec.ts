import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AuditService } from '../apps/control/src/audit/audit.service';
import { EnforcementService } from '../apps/control/src/enforcement/enforcement.service';
import { RunningControl, startControl } from './support/control';
import { createHost, createTenant, expectStatus, hostFacts, setQuotas } from './support/facility';
import { expectProblem } from './support/problems';
import { setControlClock } from './support/clock';

const GIB = 2 ** 30;
const DAY = 86_400_000;
const BOOTSTRAP_ACTOR = 'token:00000000-0000-4000-8000-00000000b007';

describe('audit log', () => {
  let control: RunningControl;

  const events = async (query = '') => expectStatus(control.api.get(`/v1/audit${query}`), 200);
  const verify = async () => expectStatus(control.api.get('/v1/audit/verify'), 200);
  /** Runs SQL straight on the database file, as someone with access to the server could. */
  const tamper = (sql: string, ...parameters: unknown[]) => {
    const database = new Database(join(control.dataDir, 'dcm.sqlite'));
    try {
      database.prepare(sql).run(...parameters);
    } finally {
      database.close();
    }
  };

  beforeAll(async () => {
    control = await startControl();
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await control?.close();
  });

  it('records every change with its actor, subject, before and after, newest first', async () => {
    await createTenant(control.api, 'torfaen', { classification: 'OFFICIAL' });
    await expectStatus(control.api.patch('/v1/tenants/torfaen', { name: 'Torfaen County Borough Council' }), 200);
    await setQuotas(control.api, 'torfaen', { vcpu: 16, memory: '64GiB' });
    await createHost(control.api, 'blv-a01', { vcpu: { total: 32 }, memory: { total: '256GiB' } });
    await expectStatus(control.api.put('/v1/hosts/blv-a01/inventories/vcpu', { total: 32, reserved: 2, allocationRatio: 2 }), 200);
    const allocation = await expectStatus(control.api.post('/v1/allocations', { tenant: 'torfaen', resources: { vcpu: 4, memory: '8GiB' } }), 201);
    await expectStatus(control.api.delete(`/v1/allocations/${allocation.id}`), 200);
    const viewer = await expectStatus(control.api.post('/v1/tokens', { kind: 'api', role: 'viewer', name: 'grafana' }), 201);
    await expectStatus(control.api.delete(`/v1/tokens/${viewer.id}`), 200);
    await expectStatus(control.api.put('/v1/resource-classes/custom_gpu', { unit: 'count' }), 200);

    const log = await events();
    expect(log.map((event: { action: string }) => event.action)).toEqual([
      'resource-class.declare',
      'token.revoke',
      'token.create',
      'allocation.release',
      'allocation.create',
      'inventory.set',
      'host.create',
      'quota.set',
      'tenant.update',
      'tenant.create',
      'token.create',
    ]);
    expect(log.slice(0, -1).every((event: { actor: string }) => event.actor === BOOTSTRAP_ACTOR)).toBe(true);
    expect(log.at(-1)).toMatchObject({ actor: 'system:bootstrap', subject: BOOTSTRAP_ACTOR.slice('token:'.length) });
    expect(log.map((event: { seq: number }) => event.seq)).toEqual([11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);

    const byAction = Object.fromEntries(log.slice(0, -1).map((event: { action: string }) => [event.action, event]));
    expect(byAction['tenant.update']).toMatchObject({
      subjectType: 'tenant',
      subject: 'torfaen',
      before: { slug: 'torfaen', name: 'Tenant torfaen' },
      after: { slug: 'torfaen', name: 'Torfaen County Borough Council' },
    });
    expect(byAction['quota.set']).toMatchObject({ before: {}, after: { vcpu: 16, memory: 64 * GIB } });
    expect(byAction['inventory.set']).toMatchObject({
      subject: 'blv-a01',
      before: { resourceClass: 'vcpu', total: 32, reserved: 0, allocationRatio: 4, minUnit: null, maxUnit: null, stepSize: null },
      after: { resourceClass: 'vcpu', total: 32, reserved: 2, allocationRatio: 2, minUnit: null, maxUnit: null, stepSize: null },
    });
    expect(byAction['allocation.create']).toMatchObject({ subject: allocation.id, before: null, after: { tenant: 'torfaen', resources: { vcpu: 4 } } });
    expect(byAction['allocation.release']).toMatchObject({ subject: allocation.id, after: { status: 'released' } });
    // The secret is shown once, to the one who asked; never in the audit log.
    expect(JSON.stringify(byAction['token.create'])).not.toContain(viewer.token);
    expect(byAction['token.create']).toMatchObject({ subject: viewer.id, after: { role: 'viewer', name: 'grafana' } });
  });

  it("records a quota change's real before: the limits the tenant had, not the new ones", async () => {
    await createTenant(control.api, 'newport');
    await setQuotas(control.api, 'newport', { vcpu: 32, memory: '64GiB' });
    await setQuotas(control.api, 'newport', { vcpu: 40, memory: '64GiB' });
    await setQuotas(control.api, 'newport', { vcpu: 40 });
    const changes = await events('?subject=newport&action=quota.set');
    expect(changes.map((event: { before: unknown; after: unknown }) => [event.before, event.after])).toEqual([
      [{ vcpu: 40, memory: 64 * GIB }, { vcpu: 40 }],
      [
        { vcpu: 32, memory: 64 * GIB },
        { vcpu: 40, memory: 64 * GIB },
      ],
      [{}, { vcpu: 32, memory: 64 * GIB }],
    ]);
  });

  it('records nothing for a refused change', async () => {
    const before = (await events())[0].seq;
    expectProblem(await control.api.post('/v1/tenants', { slug: 'torfaen', name: 'again' }), 409, 'Conflict');
    expectProblem(await control.api.post('/v1/allocations', { tenant: 'torfaen', resources: { vcpu: 999 } }), 409, 'QuotaExceeded');
    expectProblem(await control.api.patch('/v1/tenants/torfaen', { name: '' }), 400, 'ValidationFailed');
    expect((await events())[0].seq).toBe(before);
  });

  it('records enrolment under the join token, and enforcement changes under the scheduler', async () => {
    const join = await expectStatus(control.api.post('/v1/tokens', { kind: 'join', uses: 1 }), 201);
    const facts = hostFacts('blv-c07');
    const enrolled = await expectStatus(control.api.post('/v1/agents/enrol', { joinToken: join.token, hostname: 'blv-c07', facts }, { token: null }), 201);
    const [enrolment] = await events('?action=agent.enrol');
    expect(enrolment).toMatchObject({ actor: `token:${join.id}`, subjectType: 'host', subject: 'blv-c07', after: { agentId: enrolled.agentId, facts } });
    expect(JSON.stringify(enrolment)).not.toContain(enrolled.agentToken);

    await expectStatus(control.api.post('/v1/allocations', { tenant: 'torfaen', resources: { vcpu: 8 } }), 201);
    await setQuotas(control.api, 'torfaen', { vcpu: 4, memory: '64GiB' });
    await control.app.get(EnforcementService).evaluate();
    const [change] = await events('?actor=system:enforcement');
    expect(change).toMatchObject({
      action: 'quota.state_changed',
      subjectType: 'quota',
      subject: 'torfaen/vcpu',
      before: { state: 'ok' },
      after: { tenant: 'torfaen', resource: 'vcpu', from: 'ok', to: 'over', limit: 4, allocated: 8 },
    });
  });

  it('filters by subject, subject type, actor, action and time, and pages backwards by seq', async () => {
    const all = await events('?limit=1000');
    const torfaen = await events('?subject=torfaen&subjectType=tenant');
    expect(torfaen.length).toBeGreaterThanOrEqual(3);
    expect(torfaen.every((event: { subject: string; subjectType: string }) => event.subject === 'torfaen' && event.subjectType === 'tenant')).toBe(true);
    await expect(events(`?actor=${BOOTSTRAP_ACTOR}&action=host.create`)).resolves.toEqual([expect.objectContaining({ subject: 'blv-a01' })]);

    const page1 = await events('?limit=3');
    const page2 = await events(`?limit=3&before=${page1[2].seq}`);
    expect([...page1, ...page2]).toEqual(all.slice(0, 6));

    const newest = all[0];
    await expect(events(`?from=${encodeURIComponent(newest.at)}`)).resolves.toEqual(all.filter((event: { at: string }) => event.at >= newest.at));
    await expect(events(`?to=${encodeURIComponent(all[all.length - 1].at)}`)).resolves.toEqual([]);
    expectProblem(await control.api.get('/v1/audit?from=2026-02-30'), 400, 'ValidationFailed');
    expectProblem(await control.api.get('/v1/audit?limit=5000'), 400, 'ValidationFailed');
    expectProblem(await control.api.get('/v1/audit?action=DROP%20TABLE'), 400, 'ValidationFailed');
  });

  it('verifies an intact chain, and names the first event altered, removed or forged in the database', async () => {
    const intact = await verify();
    const count = (await events('?limit=1000')).length;
    expect(intact).toMatchObject({
      intact: true,
      checked: count,
      firstSeq: 1,
      lastSeq: count,
      firstBroken: null,
      continuous: true,
      firstDiscontinuity: null,
      unkeyedUntilSeq: null,
    });

    tamper('UPDATE audit_events SET "after" = ? WHERE seq = 3', JSON.stringify({ vcpu: 1600, memory: 64 * GIB }));
    await expect(verify()).resolves.toMatchObject({
      intact: false,
      checked: 2,
      firstBroken: { seq: 3, reason: expect.stringMatching(/altered/) },
      lastSeq: count,
    });
  });

  it('says where the log ends even when its very first event is broken', async () => {
    const count = (await events('?limit=1000')).length;
    tamper('UPDATE audit_events SET actor = ? WHERE seq = 1', 'token:someone-else');
    await expect(verify()).resolves.toMatchObject({ intact: false, checked: 0, firstSeq: 1, lastSeq: count, firstBroken: { seq: 1 } });
  });

  it('names the gap when an event is deleted', async () => {
    const control2 = await startControl();
    try {
      for (const slug of ['a-one', 'a-two', 'a-three']) await createTenant(control2.api, slug);
      const database = new Database(join(control2.dataDir, 'dcm.sqlite'));
      database.prepare('DELETE FROM audit_events WHERE seq = 2').run();
      database.close();
      await expect(expectStatus(control2.api.get('/v1/audit/verify'), 200)).resolves.toMatchObject({
        intact: false,
        firstBroken: { seq: 3, reason: expect.stringMatching(/expected event 2 next/) },
      });
    } finally {
      await control2.close();
    }
  });

  it('drops events older than the retention, leaving a chain that still verifies from its first kept event', async () => {
    const retained = await startControl({ auditRetentionDays: 30 });
    try {
      const start = Date.now();
      setControlClock(retained.app, start);
      await createTenant(retained.api, 'old-one');
      await createTenant(retained.api, 'old-two');
      const oldAnchor = await expectStatus(retained.api.get('/v1/audit/anchor'), 200);
      setControlClock(retained.app, start + 20 * DAY);
      await createTenant(retained.api, 'recent');
      setControlClock(retained.app, start + 40 * DAY);
      // The bootstrap token's minting (seq 1) and the two old tenants go.
      await expect(retained.app.get(AuditService).applyRetention()).resolves.toBe(3);

      const kept = await expectStatus(retained.api.get('/v1/audit'), 200);
      expect(kept.map((event: { action: string; subject: string }) => `${event.action} ${event.subject}`)).toEqual([
        'audit.prune audit-log',
        'tenant.create recent',
      ]);
      expect(kept[0]).toMatchObject({ actor: 'system:audit-retention', after: { throughSeq: 3 } });
      await expect(expectStatus(retained.api.get('/v1/audit/verify'), 200)).resolves.toMatchObject({
        intact: true,
        checked: 2,
        firstSeq: 4,
        lastSeq: 5,
        firstBroken: null,
      });

      // An anchor at the cut is checked against the hash the prune recorded; one before it cannot be checked any more.
      const verifyAt = (seq: number, hash: string) => expectStatus(retained.api.get(`/v1/audit/verify?anchorSeq=${seq}&anchorHash=${hash}`), 200);
      await expect(verifyAt(oldAnchor.seq, oldAnchor.hash)).resolves.toMatchObject({ intact: true, anchor: { seq: 3, result: 'matches' } });
      await expect(verifyAt(oldAnchor.seq, 'f'.repeat(64))).resolves.toMatchObject({ intact: false, anchor: { seq: 3, result: 'differs' } });
      await expect(verifyAt(1, oldAnchor.hash)).resolves.toMatchObject({ intact: true, anchor: { seq: 1, result: 'pruned' } });

      // Deleting the oldest kept event as well is not retention: verify says so.
      const database = new Database(join(retained.dataDir, 'dcm.sqlite'));
      database.prepare('DELETE FROM audit_events WHERE seq = 4').run();
      database.close();
      await expect(expectStatus(retained.api.get('/v1/audit/verify'), 200)).resolves.toMatchObject({ intact: false, firstBroken: { seq: 5 } });
    } finally {
      await retained.close();
    }
  });

  it('is readable by viewers, not by tenant tokens or without a token', async () => {
    const viewer = await expectStatus(control.api.post('/v1/tokens', { kind: 'api', role: 'viewer' }), 201);
    const tenant = await expectStatus(control.api.post('/v1/tokens', { kind: 'api', role: 'tenant', tenant: 'torfaen' }), 201);
    await expectStatus(control.api.as(viewer.token).get('/v1/audit/verify'), 200);
    expectProblem(await control.api.as(tenant.token).get('/v1/audit'), 403, 'Forbidden');
    expectProblem(await control.api.as(null).get('/v1/audit'), 401, 'Unauthenticated');
  });
});
