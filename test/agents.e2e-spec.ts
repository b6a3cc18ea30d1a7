import { join } from 'node:path';
import Database from 'better-sqlite3';
import { LivenessService } from '../apps/control/src/agents/liveness.service';
import { createTenant, expectStatus, hostFacts } from './support/facility';
import { RunningControl, startControl } from './support/control';
import { expectProblem } from './support/problems';
import { aReport } from './support/reports';
import { setControlClock } from './support/clock';

const GIB = 2 ** 30;

describe('agent enrolment, report ingest and host liveness', () => {
  let control: RunningControl;

  const joinToken = async (uses = 1) => (await expectStatus(control.api.post('/v1/tokens', { kind: 'join', uses }), 201)).token as string;
  const facts = (hostname: string) => hostFacts(hostname);
  const enrol = async (hostname: string) =>
    expectStatus(control.api.post('/v1/agents/enrol', { joinToken: await joinToken(), hostname, facts: facts(hostname) }, { token: null }), 201);
  const post = (agent: { agentId: string; agentToken: string }, body: unknown) =>
    control.api.post(`/v1/agents/${agent.agentId}/reports`, body, { token: agent.agentToken });

  beforeAll(async () => {
    control = await startControl({ reportIntervalSeconds: 15 });
  });

  afterAll(async () => {
    await control.close();
  });

  it('enrols a host with a join token, once per use, and sizes its inventories from the facts', async () => {
    const token = await joinToken(1);
    const enrolled = await expectStatus(
      control.api.post('/v1/agents/enrol', { joinToken: token, hostname: 'blv-c01', facts: facts('blv-c01') }, { token: null }),
      201,
    );
    expect(enrolled).toEqual({ agentId: expect.any(String), agentToken: expect.stringMatching(/^dcm_/), hostName: 'blv-c01', reportIntervalSeconds: 15 });

    const host = await expectStatus(control.api.get('/v1/hosts/blv-c01'), 200);
    expect(host).toMatchObject({ site: 'unassigned', status: 'up', agentId: enrolled.agentId, measurements: null });
    expect(host.inventories.vcpu).toMatchObject({ total: 64, allocationRatio: 4, capacity: 256 });
    expect(host.inventories.memory).toMatchObject({ total: 512 * GIB, capacity: 512 * GIB });
    expect(host.inventories.storage).toMatchObject({ total: 20_480 * GIB });

    const again = await control.api.post('/v1/agents/enrol', { joinToken: token, hostname: 'blv-c02', facts: facts('blv-c02') }, { token: null });
    expectProblem(again, 401, 'Unauthenticated');
    expectProblem(await control.api.get('/v1/hosts/blv-c02'), 404, 'NotFound');
  });

  it('stores reports, ignores duplicates by seq, and shows the latest measurements on the host', async () => {
    const agent = await enrol('blv-c03');
    await expect(post(agent, aReport(1)).then((response) => response.body)).resolves.toEqual({
      accepted: 1,
      duplicates: 0,
      refused: [],
      lastSeq: 1,
      reportIntervalSeconds: 15,
    });

    const replay = await expectStatus(post(agent, [aReport(1), aReport(2), aReport(3), aReport(3)]), 200);
    expect(replay).toEqual({ accepted: 2, duplicates: 2, refused: [], lastSeq: 3, reportIntervalSeconds: 15 });

    const host = await expectStatus(control.api.get('/v1/hosts/blv-c03'), 200);
    expect(host.measurements).toMatchObject({ seq: 3, collectedAt: aReport(3).collectedAt, memory: aReport(3).memory });
    expect(host.measurements.filesystems).toHaveLength(4);
    expect(host.measurements.network.map((device: { device: string }) => device.device)).toEqual(['eno1', 'eno2']);
    expect(host.lastReportAt).not.toBeNull();
  });

  it("keeps the totals of a host its agent created in step with the agent's measurements", async () => {
    const agent = await enrol('blv-c04');
    await expectStatus(post(agent, aReport(1, { inventory: { vcpu: 64, memoryBytes: 768 * GIB, storageBytes: 20_480 * GIB } })), 200);

    const host = await expectStatus(control.api.get('/v1/hosts/blv-c04'), 200);
    expect(host.origin).toBe('agent');
    expect(host.inventories.memory).toMatchObject({ total: 768 * GIB, measuredTotal: 768 * GIB, capacity: 768 * GIB });
  });

  it('records measured use per tenant bound to the host', async () => {
    await createTenant(control.api, 'torfaen');
    const agent = await enrol('blv-c05');
    await expectStatus(control.api.put('/v1/hosts/blv-c05/tenants/torfaen'), 200);
    await expectStatus(post(agent, aReport(1, { tenants: { torfaen: { storageUsedBytes: 5 * GIB, memoryBytes: 3 * GIB, cpuUsageSecondsTotal: 42.5 } } })), 200);

    const db = new Database(join(control.dataDir, 'dcm.sqlite'), { readonly: true });
    try {
      const rows = db
        .prepare('SELECT s.storage_used, s.memory_bytes, s.cpu_seconds_total FROM tenant_samples s JOIN tenants t ON t.id = s.tenant_id WHERE t.slug = ?')
        .all('torfaen');
      expect(rows).toEqual([{ storage_used: 5 * GIB, memory_bytes: 3 * GIB, cpu_seconds_total: 42.5 }]);
    } finally {
      db.close();
    }
  });

  it('refuses a malformed report and stores nothing of it', async () => {
    const agent = await enrol('blv-c06');
    const bad = await post(agent, { ...aReport(1), memory: { totalBytes: -1, availableBytes: 0 } });
    expect(expectProblem(bad, 400, 'ValidationFailed').detail).toContain('/memory/totalBytes');
    await expect(post(agent, aReport(1)).then((response) => response.body.accepted)).resolves.toBe(1);
  });

  it('lets an agent token post only its own reports, and nothing else', async () => {
    const first = await enrol('blv-c07');
    const second = await enrol('blv-c08');
    expectProblem(await control.api.post(`/v1/agents/${second.agentId}/reports`, aReport(1), { token: first.agentToken }), 404, 'NotFound');
    expectProblem(await control.api.get('/v1/tenants', { token: first.agentToken }), 403, 'Forbidden');
    expectProblem(await control.api.post(`/v1/agents/${first.agentId}/reports`, aReport(1)), 403, 'Forbidden');
  });

  it('replaces the agent of a host that enrols again with a join token issued for it by name', async () => {
    const old = await enrol('blv-c09');
    const named = await expectStatus(control.api.post('/v1/tokens', { kind: 'join', uses: 1, host: 'blv-c09' }), 201);
    const renewed = await expectStatus(
      control.api.post('/v1/agents/enrol', { joinToken: named.token, hostname: 'blv-c09', facts: facts('blv-c09') }, { token: null }),
      201,
    );
    expect(renewed.agentId).not.toBe(old.agentId);
    expectProblem(await post(old, aReport(1)), 401, 'Unauthenticated');
    await expect(post(renewed, aReport(1)).then((response) => response.status)).resolves.toBe(200);
  });

  it('marks a silent host stale after 3 intervals and down after 10, and up again on a report', async () => {
    const agent = await enrol('blv-c10');
    await expectStatus(post(agent, aReport(1)), 200);
    const liveness = control.app.get(LivenessService);
    const status = async () => (await expectStatus(control.api.get('/v1/hosts/blv-c10'), 200)).status;
    const later = (seconds: number) => setControlClock(control.app, Date.now() + seconds * 1000);

    later(3 * 15 - 5);
    await liveness.sweep();
    await expect(status()).resolves.toBe('up');

    later(3 * 15 + 5);
    await liveness.sweep();
    await expect(status()).resolves.toBe('stale');

    later(10 * 15 + 5);
    await liveness.sweep();
    await expect(status()).resolves.toBe('down');

    jest.restoreAllMocks();
    await expectStatus(post(agent, aReport(2)), 200);
    await expect(status()).resolves.toBe('up');
  });

  it('leaves hosts in maintenance and hosts without an agent alone', async () => {
    await expectStatus(control.api.post('/v1/hosts', { name: 'manual-01', site: 'hall-a', inventories: { vcpu: { total: 8 } } }), 201);
    const agent = await enrol('blv-c11');
    await expectStatus(post(agent, aReport(1)), 200);
    await expectStatus(control.api.patch('/v1/hosts/blv-c11', { status: 'maintenance' }), 200);
    setControlClock(control.app, Date.now() + 3_600_000);
    await control.app.get(LivenessService).sweep();
    jest.restoreAllMocks();
    await expect(control.api.get('/v1/hosts/manual-01').then((response) => response.body.status)).resolves.toBe('up');
    await expect(control.api.get('/v1/hosts/blv-c11').then((response) => response.body.status)).resolves.toBe('maintenance');
    await expectStatus(post(agent, aReport(2)), 200);
    await expect(control.api.get('/v1/hosts/blv-c11').then((response) => response.body.status)).resolves.toBe('maintenance');
  });
});
