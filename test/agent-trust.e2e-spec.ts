import { request } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { IngestResponse, Report } from '@dcm/protocol';
import { EnforcementService } from '../apps/control/src/enforcement/enforcement.service';
import { CapacitySamplingService } from '../apps/control/src/history/capacity-sampling.service';
import { RunningControl, startControl } from './support/control';
import { createHost, createTenant, enrolAgent, expectStatus, hostFacts, setQuotas } from './support/facility';
import { expectProblem } from './support/problems';
import { aReport } from './support/reports';

const GIB = 2 ** 30;
const DAY_MS = 86_400_000;

type Path = 'fast path' | 'framework';
const PATHS: Path[] = ['fast path', 'framework'];

/**
 * Posts a body to an agent's report route: with a Content-Length (served by the fast path) or chunked (served by the
 * framework). Every attack below is sent both ways and must be answered alike.
 */
function post(url: string, agent: Agent, body: unknown, path: Path): Promise<{ status: number; body: IngestResponse & { code?: string } }> {
  const text = JSON.stringify(body);
  const chunked = path === 'framework';
  return new Promise((resolve, reject) => {
    const outgoing = request(
      `${url}/v1/agents/${agent.agentId}/reports`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${agent.agentToken}`,
          ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': Buffer.byteLength(text) }),
        },
      },
      (incoming) => {
        let answer = '';
        incoming.setEncoding('utf8');
        incoming.on('data', (chunk) => (answer += chunk));
        incoming.on('end', () => resolve({ status: incoming.statusCode!, body: JSON.parse(answer) }));
      },
    );
    outgoing.on('error', reject);
    if (chunked) {
      outgoing.write(text.slice(0, Math.floor(text.length / 2)));
      outgoing.end(text.slice(Math.floor(text.length / 2)));
    } else outgoing.end(text);
  });
}

interface Agent {
  agentId: string;
  agentToken: string;
  seq: number;
}

describe('agents speak only for their own host and its tenants (SQLite)', () => {
  let control: RunningControl;
  const agents = new Map<string, Agent>();

  const enrol = async (hostname: string, join: Record<string, unknown> = {}): Promise<Agent> => {
    const enrolled = await enrolAgent(control.api, hostname, undefined, join);
    const agent = { agentId: enrolled.agentId, agentToken: enrolled.agentToken, seq: 0 };
    agents.set(hostname, agent);
    return agent;
  };
  /** A report collected now (by control's clock), with the agent's next seq. */
  const next = (agent: Agent, overrides: Partial<Report> = {}): Report => aReport(++agent.seq, { collectedAt: new Date().toISOString(), ...overrides });
  const send = async (agent: Agent, body: unknown, path: Path) => expectStatus(post(control.url, agent, body, path), 200);
  const host = (name: string) => expectStatus(control.api.get(`/v1/hosts/${name}`), 200);
  const metrics = async () => {
    const text = (await control.api.get('/metrics')).body as string;
    return new Map(
      text
        .split('\n')
        .filter((line) => line !== '' && !line.startsWith('#'))
        .map((line) => [line.slice(0, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1))]),
    );
  };
  const dropped = async (reason: string) => (await metrics()).get(`dcm_agent_report_entries_dropped_total{reason="${reason}"}`) ?? 0;
  const tenantSamples = (slug: string) => {
    const db = new Database(join(control.dataDir, 'dcm.sqlite'), { readonly: true });
    try {
      return db.prepare('SELECT s.memory_bytes, s.storage_used FROM tenant_samples s JOIN tenants t ON t.id = s.tenant_id WHERE t.slug = ?').all(slug) as {
        memory_bytes: number | null;
        storage_used: number | null;
      }[];
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    control = await startControl({ freezeGraceSeconds: 0, reportIntervalSeconds: 15, bodyLimitBytes: 4 * 1024 * 1024 });
    for (const slug of ['victim', 'torfaen']) {
      await createTenant(control.api, slug);
      await setQuotas(control.api, slug, { memory: '4GiB', storage: '10GiB', vcpu: 8 });
    }
    await enrol('blv-rogue');
  });

  afterAll(async () => {
    await control?.close();
  });

  it('drops use reported for a tenant with no allocation or binding on the host: the victim is never over nor frozen, the rest is stored', async () => {
    const rogue = agents.get('blv-rogue')!;
    const droppedBefore = await dropped('tenant-not-on-host');
    const forged = { victim: { memoryBytes: 400 * GIB, storageUsedBytes: 19_000 * GIB } };
    for (const path of PATHS) {
      const answer = await send(rogue, next(rogue, { tenants: forged }), path);
      expect(answer).toMatchObject({ accepted: 1, refused: [], lastSeq: rogue.seq });
    }
    await expect(dropped('tenant-not-on-host')).resolves.toBe(droppedBefore + 2);
    expect(tenantSamples('victim')).toEqual([]);
    expect((await host('blv-rogue')).measurements).toMatchObject({ seq: rogue.seq, tenants: {}, memory: aReport(1).memory });

    await control.app.get(EnforcementService).evaluate();
    const victim = await expectStatus(control.api.get('/v1/tenants/victim'), 200);
    expect(victim.state).toBe('active');
    const quotas = (await expectStatus(control.api.get('/v1/tenants/victim/quotas'), 200)).quotas;
    expect(quotas.memory).toMatchObject({ used: null, state: 'ok' });
    expect(quotas.storage).toMatchObject({ used: null, state: 'ok' });
  });

  it('takes use for a tenant an operator bound to the host (audited) until unbound, and for one allocated there', async () => {
    const rogue = agents.get('blv-rogue')!;
    const bound = await expectStatus(control.api.put('/v1/hosts/blv-rogue/tenants/torfaen'), 200);
    expect(bound.boundTenants).toEqual(['torfaen']);
    await expectStatus(control.api.put('/v1/hosts/blv-rogue/tenants/torfaen'), 200); // again: no change
    for (const path of PATHS) await send(rogue, next(rogue, { tenants: { torfaen: { memoryBytes: 5 * GIB } } }), path);
    expect(tenantSamples('torfaen')).toEqual([{ memory_bytes: 5 * GIB, storage_used: null }]);
    // What the victim would have suffered: measured use over the quota freezes (grace 0 here).
    await control.app.get(EnforcementService).evaluate();
    await expect(expectStatus(control.api.get('/v1/tenants/torfaen'), 200)).resolves.toMatchObject({ state: 'frozen' });

    const unbound = await expectStatus(control.api.delete('/v1/hosts/blv-rogue/tenants/torfaen'), 200);
    expect(unbound.boundTenants).toEqual([]);
    expectProblem(await control.api.delete('/v1/hosts/blv-rogue/tenants/torfaen'), 404, 'NotFound');
    expectProblem(await control.api.put('/v1/hosts/blv-rogue/tenants/no-such-tenant'), 404, 'NotFound');
    const answer = await send(rogue, next(rogue, { tenants: { torfaen: { memoryBytes: 6 * GIB } } }), 'fast path');
    expect(answer.accepted).toBe(1);
    expect(tenantSamples('torfaen').map((row) => row.memory_bytes)).not.toContain(6 * GIB);

    const events = (await expectStatus(control.api.get('/v1/audit?subjectType=host-tenant'), 200)) as { action: string; subject: string }[];
    expect(events.map((event) => [event.action, event.subject])).toEqual([
      ['host.unbind-tenant', 'blv-rogue/torfaen'],
      ['host.bind-tenant', 'blv-rogue/torfaen'],
    ]);

    await createHost(control.api, 'blv-allocated', { vcpu: { total: 64 }, memory: { total: '512GiB' }, storage: { total: '20TiB' } });
    await createTenant(control.api, 'monmouth');
    await setQuotas(control.api, 'monmouth', { memory: '64GiB', vcpu: 8 });
    await expectStatus(control.api.post('/v1/allocations', { tenant: 'monmouth', host: 'blv-allocated', resources: { vcpu: 2 } }), 201);
    const allocated = await enrol('blv-allocated', { host: 'blv-allocated' }); // an operator's host: a token issued for it
    await send(allocated, next(allocated, { tenants: { monmouth: { memoryBytes: GIB }, victim: { memoryBytes: GIB } } }), 'framework');
    expect(tenantSamples('monmouth')).toEqual([{ memory_bytes: GIB, storage_used: null }]);
    expect(tenantSamples('victim')).toEqual([]);
  });

  it('refuses, on their own, reports collected in the year 9999 or long ago; an honest report then becomes the latest', async () => {
    const agent = await enrol('blv-clock');
    for (const path of PATHS) {
      const honest = next(agent);
      const future = next(agent, { collectedAt: '9999-12-31T23:59:59.000Z' });
      const past = next(agent, { collectedAt: new Date(Date.now() - 8 * DAY_MS).toISOString() });
      const answer = await send(agent, [honest, future, past], path);
      expect(answer).toEqual({
        accepted: 1,
        duplicates: 0,
        refused: [
          { seq: future.seq, reason: 'collected-too-far-ahead' },
          { seq: past.seq, reason: 'collected-too-far-behind' },
        ],
        lastSeq: honest.seq,
        reportIntervalSeconds: 15,
      });
      const later = next(agent);
      expect(await send(agent, later, path)).toMatchObject({ accepted: 1, refused: [], lastSeq: later.seq });
      expect((await host('blv-clock')).measurements).toMatchObject({ seq: later.seq, collectedAt: later.collectedAt });
    }
    const series = await metrics();
    expect(series.get('dcm_agent_reports_total{outcome="refused"}')).toBe(4);
    const skew = series.get('dcm_agent_clock_skew_seconds{host="blv-clock"}')!;
    expect(skew).toBeGreaterThanOrEqual(0);
    expect(skew).toBeLessThan(60);

    // A host whose clock runs an hour ahead: refused, and its skew shows it (negative: the host is ahead).
    const ahead = next(agent, { collectedAt: new Date(Date.now() + 3_600_000).toISOString() });
    expect(await send(agent, ahead, 'fast path')).toMatchObject({ accepted: 0, refused: [{ seq: ahead.seq, reason: 'collected-too-far-ahead' }] });
    expect((await metrics()).get('dcm_agent_clock_skew_seconds{host="blv-clock"}')).toBeLessThan(-3500);
  });

  it('refuses, on its own, a report collected at a leap second (a date-time no Date holds), never answering 500', async () => {
    const agent = await enrol('blv-leap');
    for (const path of PATHS) {
      const leap = next(agent, { collectedAt: '2026-12-06T23:59:60Z' });
      const honest = next(agent);
      expect(await send(agent, [leap, honest], path)).toMatchObject({
        accepted: 1,
        refused: [{ seq: leap.seq, reason: 'collected-at-invalid' }],
        lastSeq: honest.seq,
      });
      const alone = next(agent, { collectedAt: '2026-12-06T23:59:60.5+00:00' });
      expect(await send(agent, alone, path)).toMatchObject({ accepted: 0, refused: [{ seq: alone.seq, reason: 'collected-at-invalid' }], lastSeq: honest.seq });
      expect((await host('blv-leap')).measurements).toMatchObject({ seq: honest.seq, collectedAt: honest.collectedAt });
    }
    const skew = (await metrics()).get('dcm_agent_clock_skew_seconds{host="blv-leap"}')!;
    expect(Number.isFinite(skew)).toBe(true);
  });

  it('answers 200 to a batch naming 500 × 256 distinct tenants, more slugs than one statement may bind, and finds the one it may speak for', async () => {
    const agent = await enrol('blv-slugs');
    await createTenant(control.api, 'last-named');
    await expectStatus(control.api.put('/v1/hosts/blv-slugs/tenants/last-named'), 200);
    for (const path of PATHS) {
      let named = 0;
      const batch = Array.from({ length: 500 }, () =>
        next(agent, {
          filesystems: [],
          network: [],
          tenants: Object.fromEntries(Array.from({ length: 256 }, () => [`t${(named++).toString(36)}-${path === 'framework' ? 'f' : 'p'}`, {}])),
        }),
      );
      batch[499].tenants = { ...Object.fromEntries(Object.entries(batch[499].tenants).slice(1)), 'last-named': { memoryBytes: GIB } };
      expect(await send(agent, batch, path)).toMatchObject({ accepted: 500, refused: [], lastSeq: agent.seq });
    }
    expect(new Set(tenantSamples('last-named').map((row) => row.memory_bytes))).toEqual(new Set([GIB])); // a sample a minute
  });

  it('refuses a seq more than 1,000,000 beyond the last without moving lastSeq, so that later reports are not duplicates', async () => {
    const agent = await enrol('blv-seq');
    await send(agent, next(agent), 'fast path');
    const last = agent.seq;
    for (const path of PATHS) {
      const forged = aReport(last + 1_000_001, { collectedAt: new Date().toISOString() });
      expect(await send(agent, forged, path)).toMatchObject({ accepted: 0, duplicates: 0, refused: [{ seq: forged.seq, reason: 'seq-jump' }], lastSeq: last });
    }
    const honest = next(agent);
    expect(await send(agent, honest, 'framework')).toMatchObject({ accepted: 1, duplicates: 0, refused: [], lastSeq: honest.seq });
    // Exactly 1,000,000 ahead is still taken.
    const far = aReport(honest.seq + 1_000_000, { collectedAt: new Date().toISOString() });
    expect(await send(agent, far, 'fast path')).toMatchObject({ accepted: 1, lastSeq: far.seq });
  });

  it('drops tenant use above what the same report says the host has, alone and in sum', async () => {
    const agent = await enrol('blv-totals');
    await expectStatus(control.api.put('/v1/hosts/blv-totals/tenants/victim'), 200);
    await expectStatus(control.api.put('/v1/hosts/blv-totals/tenants/monmouth'), 200);
    const before = await dropped('above-host-total');
    const memory = { totalBytes: 64 * GIB, availableBytes: 32 * GIB };
    for (const path of PATHS) {
      // The filesystems of aReport add up to 20,781 GiB; memory is 64 GiB.
      await send(agent, next(agent, { memory, tenants: { victim: { memoryBytes: 65 * GIB } } }), path);
      await send(agent, next(agent, { memory, tenants: { victim: { storageUsedBytes: 30_000 * GIB } } }), path);
      await send(agent, next(agent, { memory, tenants: { monmouth: { memoryBytes: 40 * GIB }, victim: { memoryBytes: 30 * GIB } } }), path);
    }
    await expect(dropped('above-host-total')).resolves.toBe(before + 6);
    expect(tenantSamples('victim')).toEqual([]);
    expect((await host('blv-totals')).measurements.tenants).toEqual({ monmouth: { memoryBytes: 40 * GIB } });
  });

  it("bounds an allocated tenant's memory by control's recorded memory total, not the report's: a 2^53 memory total freezes no one", async () => {
    await createHost(control.api, 'blv-inflated', { vcpu: { total: 16 }, memory: { total: '64GiB' }, storage: { total: '1TiB' } });
    await createTenant(control.api, 'gwent');
    await setQuotas(control.api, 'gwent', { memory: '4GiB', vcpu: 8 });
    await expectStatus(control.api.post('/v1/allocations', { tenant: 'gwent', host: 'blv-inflated', resources: { vcpu: 2 } }), 201);
    const agent = await enrol('blv-inflated', { host: 'blv-inflated' });
    const before = await dropped('above-host-total');
    const inflated = { totalBytes: Number.MAX_SAFE_INTEGER, availableBytes: 0 };
    for (const path of PATHS) {
      expect(await send(agent, next(agent, { memory: inflated, tenants: { gwent: { memoryBytes: 2 ** 52 } } }), path)).toMatchObject({ accepted: 1 });
    }
    await expect(dropped('above-host-total')).resolves.toBe(before + 2);
    expect(tenantSamples('gwent')).toEqual([]);
    await control.app.get(EnforcementService).evaluate();
    await expect(expectStatus(control.api.get('/v1/tenants/gwent'), 200)).resolves.toMatchObject({ state: 'active' });
    expect((await expectStatus(control.api.get('/v1/tenants/gwent/quotas'), 200)).quotas.memory).toMatchObject({ used: null, state: 'ok' });

    // Use within the recorded total is still taken, whatever total the report claims.
    await send(agent, next(agent, { memory: inflated, tenants: { gwent: { memoryBytes: GIB } } }), 'fast path');
    expect(tenantSamples('gwent').map((row) => row.memory_bytes)).toEqual([GIB]);
  });

  it("bounds an allocated tenant's storage by control's recorded storage total, not the report's filesystems: a 2^53-byte filesystem freezes no one", async () => {
    await createHost(control.api, 'blv-hoard', { vcpu: { total: 16 }, memory: { total: '64GiB' }, storage: { total: '1TiB' } });
    await createTenant(control.api, 'powys');
    await setQuotas(control.api, 'powys', { storage: '100GiB', vcpu: 8 });
    await expectStatus(control.api.post('/v1/allocations', { tenant: 'powys', host: 'blv-hoard', resources: { vcpu: 2 } }), 201);
    const agent = await enrol('blv-hoard', { host: 'blv-hoard' });
    const before = await dropped('above-host-total');
    const huge = [{ mountpoint: '/srv', fstype: 'xfs', sizeBytes: Number.MAX_SAFE_INTEGER, usedBytes: 2 ** 52, availBytes: 0 }];
    for (const path of PATHS) {
      const report = next(agent, { filesystems: huge, tenants: { powys: { storageUsedBytes: 2 ** 52 } } });
      expect(await send(agent, report, path)).toMatchObject({ accepted: 1 });
    }
    await expect(dropped('above-host-total')).resolves.toBe(before + 2);
    await control.app.get(EnforcementService).evaluate();
    await expect(expectStatus(control.api.get('/v1/tenants/powys'), 200)).resolves.toMatchObject({ state: 'active' });
    expect((await expectStatus(control.api.get('/v1/tenants/powys/quotas'), 200)).quotas.storage).toMatchObject({ used: null, state: 'ok' });
  });

  it("keeps a host's measured use within its recorded totals in GET /v1/capacity and the forecast's samples, whatever cores, memory or bytes used it reports", async () => {
    const totals = { vcpu: 16, memory: 64 * GIB, storage: 1024 * GIB };
    await createHost(control.api, 'blv-absurd', { vcpu: { total: 16 }, memory: { total: '64GiB' }, storage: { total: '1TiB' } }, { site: 'hall-absurd' });
    const agent = await enrol('blv-absurd', { host: 'blv-absurd' });
    const max = Number.MAX_SAFE_INTEGER;
    const absurd = {
      cpu: { usageRatio: 1, load1: 0, load5: 0, load15: 0, logicalCores: 100_000 },
      memory: { totalBytes: max, availableBytes: 0 },
      // '/srv' is the storage mount the agent enrolled with.
      filesystems: [{ mountpoint: '/srv', fstype: 'xfs', sizeBytes: max, usedBytes: max, availBytes: 0 }],
    };
    for (const path of PATHS) expect(await send(agent, next(agent, absurd), path)).toMatchObject({ accepted: 1 });
    const inventories = (await host('blv-absurd')).inventories as Record<string, { total: number }>;
    expect({ vcpu: inventories.vcpu.total, memory: inventories.memory.total, storage: inventories.storage.total }).toEqual(totals);

    const capacity = await expectStatus(control.api.get('/v1/capacity'), 200);
    const site = (capacity.sites as { site: string; resources: Record<string, { capacity: number; used: number | null }> }[]).find(
      (scope) => scope.site === 'hall-absurd',
    )!;
    for (const [resourceClass, total] of Object.entries(totals)) {
      expect(site.resources[resourceClass].used).toBe(total);
      expect(site.resources[resourceClass].used).toBeLessThanOrEqual(site.resources[resourceClass].capacity);
    }
    const samples = await control.app.get(CapacitySamplingService).sample();
    expect(Object.fromEntries(samples.filter((sample) => sample.site === 'hall-absurd').map((sample) => [sample.resourceClass, sample.used]))).toEqual(totals);

    // Half busy: the fewer of the reported and the recorded cores, times the ratio.
    await send(agent, next(agent, { ...absurd, cpu: { ...absurd.cpu, usageRatio: 0.5 } }), 'fast path');
    const after = await expectStatus(control.api.get('/v1/capacity'), 200);
    expect(after.sites.find((scope: { site: string }) => scope.site === 'hall-absurd').resources.vcpu.used).toBe(8);
  });

  it('drops a filesystem or interface with text that is not well-formed or has control characters, and stores the rest', async () => {
    const agent = await enrol('blv-text');
    const before = await dropped('malformed-text');
    const fs = (mountpoint: string, fstype = 'ext4') => ({ mountpoint, fstype, sizeBytes: GIB, usedBytes: 0, availBytes: GIB });
    for (const path of PATHS) {
      const report = next(agent, {
        // Two mountpoints that differ only in lone surrogates would encode to the same UTF-8: duplicate series.
        filesystems: [fs('/'), fs('/data\ud800'), fs('/data\udbff'), fs('/nul\u0000'), fs('/var', 'ext4\r\nX: 1')],
        network: [
          { device: 'eth0', rxBytesTotal: 1, txBytesTotal: 1 },
          { device: 'eth\u001b[31m', rxBytesTotal: 1, txBytesTotal: 1 },
        ],
      });
      expect(await send(agent, report, path)).toMatchObject({ accepted: 1, refused: [] });
    }
    await expect(dropped('malformed-text')).resolves.toBe(before + 10);
    const measurements = (await host('blv-text')).measurements;
    expect(measurements.filesystems.map((kept: { mountpoint: string }) => kept.mountpoint)).toEqual(['/']);
    expect(measurements.network.map((kept: { device: string }) => kept.device)).toEqual(['eth0']);
    const series = [...(await metrics()).keys()].filter((key) => key.includes('host="blv-text"'));
    expect(series.filter((key) => key.startsWith('dcm_host_filesystem_size_bytes'))).toEqual([
      'dcm_host_filesystem_size_bytes{host="blv-text",mountpoint="/"}',
    ]);
  });

  it('leaves no binding behind when the tenant is offboarded or the host decommissioned', async () => {
    const bindings = () => {
      const db = new Database(join(control.dataDir, 'dcm.sqlite'), { readonly: true });
      try {
        return (
          db
            .prepare(
              'SELECT h.name AS host, t.slug AS tenant FROM host_tenants b JOIN hosts h ON h.id = b.host_id JOIN tenants t ON t.id = b.tenant_id ORDER BY 1, 2',
            )
            .all() as {
            host: string;
            tenant: string;
          }[]
        ).map((row) => `${row.host}/${row.tenant}`);
      } finally {
        db.close();
      }
    };
    await createTenant(control.api, 'leaving');
    await createHost(control.api, 'blv-retiring', { vcpu: { total: 8 } });
    for (const [host, tenant] of [
      ['blv-retiring', 'leaving'],
      ['blv-retiring', 'victim'],
      ['blv-rogue', 'leaving'],
    ]) {
      await expectStatus(control.api.put(`/v1/hosts/${host}/tenants/${tenant}`), 200);
    }
    expect(bindings()).toEqual(expect.arrayContaining(['blv-retiring/leaving', 'blv-retiring/victim', 'blv-rogue/leaving']));

    await expectStatus(control.api.delete('/v1/tenants/leaving'), 200);
    expect(bindings().filter((binding) => binding.endsWith('/leaving'))).toEqual([]);
    await expectStatus(control.api.delete('/v1/hosts/blv-retiring'), 200);
    expect(bindings().filter((binding) => binding.startsWith('blv-retiring/'))).toEqual([]);
  });

  it('refuses an enrolment whose facts carry control characters or lone surrogates', async () => {
    for (const facts of [hostFacts('blv-bad-1', { os: 'Debian\r\n' }), hostFacts('blv-bad-1', { storage: [{ mountpoint: '/srv\udc00', sizeBytes: GIB }] })]) {
      const join = await expectStatus(control.api.post('/v1/tokens', { kind: 'join', uses: 1 }), 201);
      expectProblem(
        await control.api.post('/v1/agents/enrol', { joinToken: join.token, hostname: 'blv-bad-1', facts }, { token: null }),
        400,
        'ValidationFailed',
      );
    }
    expectProblem(await control.api.get('/v1/hosts/blv-bad-1'), 404, 'NotFound');
  });
});
