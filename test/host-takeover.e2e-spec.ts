import { UnitOfWork } from '@dcm/persistence';
import { CapacitySamplingService } from '../apps/control/src/history/capacity-sampling.service';
import { createHost, createTenant, expectStatus, hostFacts, setQuotas } from './support/facility';
import { RunningControl, startControl } from './support/control';
import { expectProblem } from './support/problems';
import { aReport } from './support/reports';

const GIB = 2 ** 30;
const METRICS_TOKEN = 'metrics-token-for-the-takeover-suite';

interface Agent {
  agentId: string;
  agentToken: string;
}

/**
 * Issue 12, item 2: a join token enrols a new host and nothing more. It cannot take over a host that exists, its host
 * is not placeable until an operator accepts it, and what its agent reports is a measurement, not an inventory.
 */
describe('join tokens cannot take hosts over, and agents cannot forge inventories', () => {
  let control: RunningControl;

  beforeAll(async () => {
    control = await startControl({ metricsToken: METRICS_TOKEN });
    await createTenant(control.api, 'torfaen');
    await setQuotas(control.api, 'torfaen', { vcpu: 10_000, memory: '100TiB', storage: '1PiB' });
  });

  afterAll(async () => {
    await control.close();
  });

  const issueJoin = async (extra: Record<string, unknown> = {}) => expectStatus(control.api.post('/v1/tokens', { kind: 'join', uses: 1, ...extra }), 201);
  const enrolWith = (joinToken: string, hostname: string, facts: Record<string, unknown> = hostFacts(hostname)) =>
    control.api.post('/v1/agents/enrol', { joinToken, hostname, facts }, { token: null });
  const enrol = async (hostname: string, extra: Record<string, unknown> = {}, facts?: Record<string, unknown>): Promise<Agent> =>
    expectStatus(enrolWith((await issueJoin(extra)).token, hostname, facts), 201);
  const report = (agent: Agent, body: unknown) => control.api.post(`/v1/agents/${agent.agentId}/reports`, body, { token: agent.agentToken });
  const hostOf = (name: string) => expectStatus(control.api.get(`/v1/hosts/${name}`), 200);
  const usesLeftOf = async (id: string) =>
    ((await expectStatus(control.api.get('/v1/tokens'), 200)) as { id: string; usesLeft: number }[]).find((token) => token.id === id)!.usesLeft;
  const allocate = (resources: Record<string, unknown>, host?: string) =>
    control.api.post('/v1/allocations', { tenant: 'torfaen', resources, ...(host ? { host } : {}) });
  const series = async () => {
    const response = await control.api.get('/metrics', { token: METRICS_TOKEN });
    return new Map(
      (response.body as string)
        .split('\n')
        .filter((line) => line !== '' && !line.startsWith('#'))
        .map((line) => [line.slice(0, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1))]),
    );
  };

  it('refuses to enrol over a host an operator registered (409), and changes nothing, the token included', async () => {
    await createHost(control.api, 'blv-op1', { vcpu: { total: 32 }, memory: { total: '256GiB' } });
    const join = await issueJoin();

    expectProblem(await enrolWith(join.token, 'blv-op1', hostFacts('blv-op1', { logicalCores: 100, memoryTotalBytes: 0 })), 409, 'Conflict');

    const host = await hostOf('blv-op1');
    expect(host).toMatchObject({ agentId: null, origin: 'operator', accepted: true });
    expect(host.inventories.vcpu).toMatchObject({ total: 32, measuredTotal: null });
    expect(host.inventories.memory).toMatchObject({ total: 256 * GIB });
    expect(host.inventories.storage).toBeUndefined();
    await expect(usesLeftOf(join.id)).resolves.toBe(1);
  });

  it('refuses to enrol over a host an agent enrolled before, and leaves its agent in place', async () => {
    const first = await enrol('blv-ag1', { accept: true });
    expectProblem(await enrolWith((await issueJoin()).token, 'blv-ag1', hostFacts('blv-ag1', { memoryTotalBytes: 0 })), 409, 'Conflict');

    await expect(hostOf('blv-ag1')).resolves.toMatchObject({ agentId: first.agentId, origin: 'agent' });
    await expect(report(first, aReport(1))).resolves.toMatchObject({ status: 200, body: { accepted: 1 } });
  });

  it('re-enrols an existing host with a join token issued for it by name, resetting its report sequence', async () => {
    const first = await enrol('blv-ag2', { accept: true });
    await expectStatus(report(first, [aReport(1), aReport(2), aReport(3)]), 200);
    const named = await issueJoin({ host: 'blv-ag2' });
    expect(named).toMatchObject({ host: 'blv-ag2', accept: false });

    // The named token re-enrols that host only.
    expectProblem(await enrolWith(named.token, 'blv-ag2-other'), 409, 'Conflict');
    const second = await expectStatus(enrolWith(named.token, 'blv-ag2'), 201);

    await expect(hostOf('blv-ag2')).resolves.toMatchObject({ agentId: second.agentId, accepted: true });
    expectProblem(await report(first, aReport(4)), 401, 'Unauthenticated');
    await expect(report(second, aReport(1))).resolves.toMatchObject({ status: 200, body: { accepted: 1, duplicates: 0, lastSeq: 1 } });
  });

  it('answers every refused hostname with the same detail, so that a join token cannot tell which hosts exist', async () => {
    const join = await issueJoin();
    const named = await issueJoin({ host: 'blv-op1' });
    const details = [
      expectProblem(await enrolWith(join.token, 'blv-op1'), 409, 'Conflict').detail,
      expectProblem(await enrolWith(join.token, 'blv-ag1'), 409, 'Conflict').detail,
      expectProblem(await enrolWith(named.token, 'blv-ag1'), 409, 'Conflict').detail,
      expectProblem(await enrolWith(named.token, 'blv-nowhere'), 409, 'Conflict').detail,
    ];
    expect(new Set(details)).toEqual(new Set(['this hostname cannot be enrolled with this join token']));
    await expect(usesLeftOf(join.id)).resolves.toBe(1);
    await expect(usesLeftOf(named.id)).resolves.toBe(1);
  });

  it('refuses an enrolment that cannot succeed without queueing a write: answered while another write holds SQLite', async () => {
    const join = await issueJoin();
    let release!: () => void;
    let holding = true;
    const held = control.app.get(UnitOfWork).run(() => new Promise<void>((resolve) => (release = resolve)));
    try {
      expectProblem(await enrolWith('dcm_not-a-real-join-token-at-all', 'blv-new1'), 401, 'Unauthenticated');
      expectProblem(await enrolWith(join.token, 'blv-op1'), 409, 'Conflict');
      expect(holding).toBe(true);
    } finally {
      holding = false;
      release();
      await held;
    }
    await expect(usesLeftOf(join.id)).resolves.toBe(1);
    await expectStatus(enrolWith(join.token, 'blv-new1'), 201);
  });

  it('issues a join token by name only for a host that exists, and host and accept only on join tokens', async () => {
    expectProblem(await control.api.post('/v1/tokens', { kind: 'join', uses: 1, host: 'no-such-host' }), 400, 'ValidationFailed');
    expectProblem(await control.api.post('/v1/tokens', { kind: 'api', role: 'viewer', host: 'blv-op1' }), 400, 'ValidationFailed');
    expectProblem(await control.api.post('/v1/tokens', { kind: 'api', role: 'viewer', accept: true }), 400, 'ValidationFailed');
  });

  it('keeps a rogue host with plausible totals out of placement until an operator accepts it', async () => {
    const rogue = await enrol('blv-rogue', {}, hostFacts('blv-rogue', { logicalCores: 4096, memoryTotalBytes: 64 * 2 ** 40 }));
    await expect(hostOf('blv-rogue')).resolves.toMatchObject({ origin: 'agent', accepted: false });
    await expectStatus(report(rogue, aReport(1, { inventory: { vcpu: 4096, memoryBytes: 64 * 2 ** 40, storageBytes: 0 } })), 200);

    // Only the rogue host could take this much memory; unaccepted, it takes nothing, not even when named.
    const refused = expectProblem(await allocate({ memory: '32TiB' }), 409, 'InsufficientCapacity');
    expect(JSON.stringify(refused)).toContain('host has not been accepted by an operator');
    expectProblem(await allocate({ vcpu: 1 }, 'blv-rogue'), 409, 'InsufficientCapacity');
    await expect(hostOf('blv-rogue')).resolves.toMatchObject({ inventories: { memory: { allocated: 0 } } });

    await expect(control.api.patch('/v1/hosts/blv-rogue', { accepted: true })).resolves.toMatchObject({ status: 200, body: { accepted: true } });
    await expect(allocate({ memory: '32TiB' })).resolves.toMatchObject({ status: 201, body: { host: 'blv-rogue' } });
  });

  it('marks a host over-committed when its measured memory falls to 0 under an allocation, instead of a negative free', async () => {
    const agent = await enrol('blv-c07', { accept: true }, hostFacts('blv-c07', { logicalCores: 8, memoryTotalBytes: 16 * GIB, storage: [] }));
    await expectStatus(allocate({ vcpu: 1, memory: '8GiB' }, 'blv-c07'), 201);

    await expectStatus(report(agent, aReport(1, { inventory: { vcpu: 8, memoryBytes: 0, storageBytes: 0 } })), 200);

    const host = await hostOf('blv-c07');
    expect(host.overcommitted).toBe(true);
    expect(host.inventories.memory).toMatchObject({ total: 0, measuredTotal: 0, capacity: 0, allocated: 8 * GIB, free: 0, overcommitted: true });
    expect(host.inventories.vcpu).toMatchObject({ free: 31, overcommitted: false });
    // The vcpu it still has room for draws nothing onto it either.
    expectProblem(await allocate({ vcpu: 1 }, 'blv-c07'), 409, 'InsufficientCapacity');
    const capacity = await expectStatus(control.api.get('/v1/capacity'), 200);
    expect(capacity.sites.find((site: { site: string }) => site.site === 'unassigned').resources.memory.free).toBeGreaterThanOrEqual(0);

    const metrics = await series();
    expect(metrics.get('dcm_host_overcommitted{host="blv-c07",site="unassigned",resource="memory"}')).toBe(1);
    expect(metrics.get('dcm_host_overcommitted{host="blv-c07",site="unassigned",resource="vcpu"}')).toBe(0);
    expect(metrics.get('dcm_host_measured_total{host="blv-c07",resource="memory",unit="bytes"}')).toBe(0);
  });

  it('does not believe 100,000 cores or storage beyond 2^53: refused at enrolment, ignored in a report, and no placement follows them', async () => {
    expectProblem(await enrolWith((await issueJoin()).token, 'blv-huge', hostFacts('blv-huge', { logicalCores: 100_000 })), 400, 'ValidationFailed');
    expectProblem(await control.api.get('/v1/hosts/blv-huge'), 404, 'NotFound');
    // Each mount is a whole amount, but their sum is beyond 2^53: not a total to size a host by.
    const storage = [
      { mountpoint: '/srv/a', sizeBytes: 2 ** 52 },
      { mountpoint: '/srv/b', sizeBytes: 2 ** 52 + 2 },
    ];
    expectProblem(await enrolWith((await issueJoin()).token, 'blv-vast', hostFacts('blv-vast', { storage })), 400, 'ValidationFailed');
    expectProblem(await control.api.get('/v1/hosts/blv-vast'), 404, 'NotFound');

    const agent = await enrol('blv-c08', { accept: true }, hostFacts('blv-c08', { logicalCores: 8 }));
    await expectStatus(report(agent, aReport(1, { inventory: { vcpu: 100_000, memoryBytes: 512 * GIB, storageBytes: 0 } })), 200);

    await expect(hostOf('blv-c08')).resolves.toMatchObject({ inventories: { vcpu: { total: 8, measuredTotal: 8, capacity: 32 } } });
    expectProblem(await allocate({ vcpu: 1_000 }, 'blv-c08'), 409, 'InsufficientCapacity');
  });

  it('keeps an accepted host at the totals it was accepted with when its agent reports more, until an operator accepts it again', async () => {
    const agent = await enrol('blv-c10', { accept: true }, hostFacts('blv-c10', { logicalCores: 8, memoryTotalBytes: 16 * GIB, storage: [] }));
    await expectStatus(report(agent, aReport(1, { inventory: { vcpu: 16_384, memoryBytes: 16 * GIB, storageBytes: 20_480 * GIB } })), 200);

    const grown = await hostOf('blv-c10');
    expect(grown.inventories.vcpu).toMatchObject({ total: 8, measuredTotal: 16_384, capacity: 32 });
    // A class measured for the first time after acceptance is shown, not placeable.
    expect(grown.inventories.storage).toMatchObject({ total: 0, measuredTotal: 20_480 * GIB, capacity: 0 });
    expect((await series()).get('dcm_host_measured_total{host="blv-c10",resource="vcpu",unit="count"}')).toBe(16_384);
    expectProblem(await allocate({ vcpu: 1_000 }, 'blv-c10'), 409, 'InsufficientCapacity');
    await expect(hostOf('blv-c10')).resolves.toMatchObject({ inventories: { vcpu: { allocated: 0 } } });

    // Falls still apply at once.
    await expectStatus(report(agent, aReport(2, { inventory: { vcpu: 4, memoryBytes: 16 * GIB, storageBytes: 0 } })), 200);
    await expect(hostOf('blv-c10')).resolves.toMatchObject({ inventories: { vcpu: { total: 4, measuredTotal: 4 }, storage: { total: 0, measuredTotal: 0 } } });
    await expectStatus(report(agent, aReport(3, { inventory: { vcpu: 16_384, memoryBytes: 16 * GIB, storageBytes: 0 } })), 200);
    await expect(hostOf('blv-c10')).resolves.toMatchObject({ inventories: { vcpu: { total: 4, measuredTotal: 16_384 } } });

    // Accepting it again applies what the agent measures, and the audit log keeps the totals before and after.
    await expectStatus(control.api.patch('/v1/hosts/blv-c10', { accepted: true }), 200);
    await expect(hostOf('blv-c10')).resolves.toMatchObject({ origin: 'agent', inventories: { vcpu: { total: 16_384, measuredTotal: 16_384 } } });
    const events = (await expectStatus(control.api.get('/v1/audit?subjectType=host'), 200)) as {
      action: string;
      subject: string;
      before: unknown;
      after: unknown;
    }[];
    expect(events.filter((event) => event.subject === 'blv-c10' && event.action === 'host.update')).toEqual([
      expect.objectContaining({
        before: expect.objectContaining({ inventories: { vcpu: { total: 4 } } }),
        after: expect.objectContaining({ inventories: { vcpu: { total: 16_384 } } }),
      }),
    ]);
    await expect(allocate({ vcpu: 1_000 }, 'blv-c10')).resolves.toMatchObject({ status: 201, body: { host: 'blv-c10' } });
  });

  it("leaves a host nobody accepted out of the facility's capacity, its capacity sampling and dcm_host_capacity, and counts it as unaccepted", async () => {
    const sampling = control.app.get(CapacitySamplingService);
    const sampledVcpu = async () => (await sampling.sample()).filter((row) => row.resourceClass === 'vcpu').reduce((total, row) => total + row.capacity, 0);
    const before = await expectStatus(control.api.get('/v1/capacity'), 200);
    const sampledBefore = await sampledVcpu();

    const rogue = await enrol('blv-vast2', {}, hostFacts('blv-vast2', { logicalCores: 16_384, memoryTotalBytes: 2 ** 50 }));
    await expectStatus(report(rogue, aReport(1, { inventory: { vcpu: 16_384, memoryBytes: 2 ** 50, storageBytes: 20_480 * GIB } })), 200);

    const after = await expectStatus(control.api.get('/v1/capacity'), 200);
    expect(after.facility.resources).toEqual(before.facility.resources);
    expect(after.facility.hosts).toEqual({ ...before.facility.hosts, up: before.facility.hosts.up + 1, unaccepted: before.facility.hosts.unaccepted + 1 });
    const site = (capacity: { sites: { site: string; resources: unknown }[] }) => capacity.sites.find((entry) => entry.site === 'unassigned')!.resources;
    expect(site(after)).toEqual(site(before));
    await expect(sampledVcpu()).resolves.toBe(sampledBefore);
    const metrics = await series();
    expect(metrics.has('dcm_host_capacity{host="blv-vast2",site="unassigned",resource="vcpu",unit="count"}')).toBe(false);
    expect(metrics.has('dcm_host_allocated{host="blv-vast2",site="unassigned",resource="vcpu",unit="count"}')).toBe(false);
    expect(metrics.get('dcm_host_measured_total{host="blv-vast2",resource="vcpu",unit="count"}')).toBe(16_384);

    // Accepted, it counts.
    await expectStatus(control.api.patch('/v1/hosts/blv-vast2', { accepted: true }), 200);
    const accepted = await expectStatus(control.api.get('/v1/capacity'), 200);
    expect(accepted.facility.resources.vcpu.capacity).toBe(before.facility.resources.vcpu.capacity + 4 * 16_384);
    expect(accepted.facility.hosts.unaccepted).toBe(before.facility.hosts.unaccepted);
    await expect(sampledVcpu()).resolves.toBe(sampledBefore + 4 * 16_384);
    expect((await series()).get('dcm_host_capacity{host="blv-vast2",site="unassigned",resource="vcpu",unit="count"}')).toBe(4 * 16_384);
    await expectStatus(control.api.delete('/v1/hosts/blv-vast2'), 200);
  });

  it("keeps an operator's inventory and shows the agent's disagreement beside it, in the API and as a metric", async () => {
    await createHost(control.api, 'blv-op2', { vcpu: { total: 32 }, memory: { total: '256GiB' } });
    const agent = await expectStatus(enrolWith((await issueJoin({ host: 'blv-op2' })).token, 'blv-op2', hostFacts('blv-op2', { memoryTotalBytes: 0 })), 201);
    await expectStatus(report(agent, aReport(1, { inventory: { vcpu: 64, memoryBytes: 0, storageBytes: 20_480 * GIB } })), 200);

    const host = await hostOf('blv-op2');
    expect(host).toMatchObject({ origin: 'operator', accepted: true, overcommitted: false });
    expect(host.inventories.vcpu).toMatchObject({ total: 32, measuredTotal: 64, capacity: 128 });
    expect(host.inventories.memory).toMatchObject({ total: 256 * GIB, measuredTotal: 0 });
    expect(host.inventories.storage).toBeUndefined();
    const metrics = await series();
    expect(metrics.get('dcm_host_measured_total{host="blv-op2",resource="vcpu",unit="count"}')).toBe(64);
    expect(metrics.get('dcm_host_capacity{host="blv-op2",site="hall-a",resource="vcpu",unit="count"}')).toBe(128);
  });

  it("hands a host's inventory to the operator once an operator sets it: the agent's totals are then only shown", async () => {
    const agent = await enrol('blv-c09', { accept: true });
    await expectStatus(control.api.put('/v1/hosts/blv-c09/inventories/vcpu', { total: 48 }), 200);
    await expectStatus(report(agent, aReport(1, { inventory: { vcpu: 16, memoryBytes: 512 * GIB, storageBytes: 20_480 * GIB } })), 200);

    const host = await hostOf('blv-c09');
    expect(host.origin).toBe('operator');
    expect(host.inventories.vcpu).toMatchObject({ total: 48, measuredTotal: 16 });
  });
});
