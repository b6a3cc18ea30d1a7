import type { ResourceUnit } from '@dcm/domain';
import { Clock } from '../common/clock';
import { METRIC_CATALOGUE } from '../telemetry/metric-catalogue';
import { AgentFactsRow, InventoriesRow, MeasurementRow, MetricsHostRow, MetricsRepository, MetricsSnapshot, MetricsTenantRow } from './metrics.repository';
import { MetricsService } from './metrics.service';
import { ProcessMetrics } from '../telemetry/process-metrics';
import { digestOf } from '../telemetry/report-digest';
import { asDependency } from '../testing/fakes';

const NOW = Date.UTC(2026, 10, 22, 10, 0, 0);

/** An in-memory stand-in for the database, shaped as MetricsRepository returns it. */
class FakeRepository {
  units = new Map<string, ResourceUnit>([
    ['vcpu', 'count'],
    ['memory', 'bytes'],
    ['storage', 'bytes'],
  ]);
  hosts: MetricsHostRow[] = [];
  private readonly folded = new Map<string, string>();
  tenants: MetricsTenantRow[] = [];
  reports = new Map<string, string>();
  reportReads: string[][] = [];
  inventoryReads: string[][] = [];
  facts = new Map<string, string>();
  factReads: string[][] = [];

  /** Sets a host's inventories, moving its inventory version as the database's triggers do. */
  setInventories(id: string, folded: string): void {
    this.folded.set(id, folded);
    this.hosts.find((host) => host.id === id)!.inventoryVersion++;
  }

  async snapshot(): Promise<MetricsSnapshot> {
    const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
    return {
      units: new Map(this.units),
      hosts: this.hosts.map((host) => ({ ...host })).sort(byName),
      tenants: this.tenants.map((tenant) => ({ ...tenant })).sort((a, b) => a.slug.localeCompare(b.slug)),
    };
  }

  async inventories(hostIds: readonly string[]): Promise<InventoriesRow[]> {
    this.inventoryReads.push([...hostIds]);
    return hostIds.filter((id) => this.folded.has(id)).map((id) => ({ hostId: id, inventories: this.folded.get(id)! }));
  }

  async agentFacts(agentIds: readonly string[]): Promise<AgentFactsRow[]> {
    this.factReads.push([...agentIds]);
    return agentIds.filter((id) => this.facts.has(id)).map((id) => ({ agentId: id, facts: this.facts.get(id)! }));
  }

  /** Enrols a new agent for the host, declaring these storage mounts. */
  enrol(hostId: string, agentId: string, mounts: string[]): void {
    this.facts.set(agentId, JSON.stringify({ storage: mounts.map((mountpoint) => ({ mountpoint, sizeBytes: 100 })) }));
    this.hosts.find((host) => host.id === hostId)!.agentId = agentId;
  }

  async measurements(hostIds: readonly string[]): Promise<MeasurementRow[]> {
    this.reportReads.push([...hostIds]);
    // As ingest stores them: the whole report and its digest.
    return hostIds
      .filter((id) => this.reports.has(id))
      .map((id) => ({ hostId: id, digest: JSON.stringify(digestOf(JSON.parse(this.reports.get(id)!))), report: null }));
  }
}

const report = (seq: number, tenant = 'torfaen') =>
  JSON.stringify({
    cpu: { usageRatio: (seq % 100) / 100, load1: seq, logicalCores: 8 },
    memory: { totalBytes: 1000, availableBytes: seq },
    filesystems: [
      { mountpoint: '/', sizeBytes: 100, availBytes: seq },
      { mountpoint: '/srv', sizeBytes: 5000, usedBytes: seq, availBytes: 10 },
      { mountpoint: '/data', sizeBytes: 5000, usedBytes: 2 * seq, availBytes: 10 },
    ],
    network: [{ device: 'eno1', rxBytesTotal: seq, txBytesTotal: seq }],
    tenants: { [tenant]: { memoryBytes: seq } },
    collectedAt: new Date(NOW).toISOString(),
  });

/** The dcm_ part of the exposition: process metrics (CPU, memory) differ from one scrape to the next. */
const domainPart = (exposition: Buffer) => {
  const text = exposition.toString();
  return text.slice(0, text.indexOf('# HELP dcm_capacity_forecast_full_timestamp_seconds'));
};

describe(MetricsService.name, () => {
  let repository: FakeRepository;
  let processMetrics: ProcessMetrics;
  let sut: MetricsService;
  const clock = { now: () => new Date(NOW) } as Clock;
  const fresh = () => new MetricsService(asDependency<MetricsRepository>(repository), processMetrics, clock, { reportIntervalSeconds: 15 });

  beforeEach(() => {
    repository = new FakeRepository();
    processMetrics = new ProcessMetrics();
    sut = fresh();
    for (let index = 0; index < 20; index++) {
      const id = `h${index}`;
      repository.hosts.push({
        id,
        name: `blv-${String(index).padStart(2, '0')}`,
        site: 'hall-a',
        status: 'up',
        accepted: true,
        lastReportAt: index % 4 ? 1000 : null,
        inventoryVersion: 0,
      });
      repository.setInventories(id, `vcpu:16:0:4.0:${index},memory:1024:0:1.0:0,storage:10000:0:1.0:0`);
      if (index % 4) repository.reports.set(id, report(index));
      if (index % 2) repository.enrol(id, `agent-${index}`, ['/srv']);
    }
    for (const slug of ['torfaen', 'blaenau']) repository.tenants.push({ id: slug, slug, state: 'active', quotas: 'vcpu:64:8:ok' });
  });

  afterEach(() => processMetrics.onModuleDestroy());

  it('announces every family of the catalogue once, in catalogue order, with its series right after', async () => {
    const text = Buffer.concat(await sut.exposition()).toString();
    const announced = [...text.matchAll(/^# HELP (\S+)/gm)].map((match) => match[1]).filter((name) => name.startsWith('dcm_'));
    expect(announced).toEqual(METRIC_CATALOGUE.map((definition) => definition.name));
    let family = '';
    for (const line of text.split('\n')) {
      if (line.startsWith('# TYPE ')) family = line.split(' ')[2];
      else if (line.startsWith('dcm_')) expect(line.startsWith(family)).toBe(true);
    }
    expect(text).toContain('\nprocess_cpu_user_seconds_total ');
    expect(text).not.toContain('nodejs_active_handles_total');
  });

  it('reads only the reports that changed since the previous scrape', async () => {
    await sut.exposition();
    expect(repository.reportReads).toHaveLength(1);
    expect(repository.reportReads[0]).toHaveLength(15);

    await sut.exposition();
    expect(repository.reportReads).toHaveLength(1);

    repository.hosts.find((host) => host.id === 'h5')!.lastReportAt = 2000;
    repository.reports.set('h5', report(555));
    const text = Buffer.concat(await sut.exposition()).toString();
    expect(repository.reportReads[1]).toEqual(['h5']);
    expect(text).toContain('dcm_host_load1{host="blv-05"} 555\n');
  });

  it('reads only the inventories whose version moved since the previous scrape, and the new hosts', async () => {
    await sut.exposition();
    expect(repository.inventoryReads).toEqual([repository.hosts.map((host) => host.id)]);

    repository.hosts.find((host) => host.id === 'h7')!.status = 'down';
    await sut.exposition();
    expect(repository.inventoryReads).toHaveLength(1);

    repository.setInventories('h3', 'vcpu:16:0:4.0:12');
    repository.hosts.push({ id: 'h99', name: 'blv-99', site: 'hall-b', status: 'up', accepted: true, lastReportAt: null, inventoryVersion: 0 });
    const text = Buffer.concat(await sut.exposition()).toString();
    expect(repository.inventoryReads[1]).toEqual(['h3', 'h99']);
    expect(text).toContain('dcm_host_allocated{host="blv-03",site="hall-a",resource="vcpu",unit="count"} 12\n');
    expect(text).not.toContain('dcm_host_allocated{host="blv-03",site="hall-a",resource="memory"');
    expect(text).toContain('dcm_host_up{host="blv-07",site="hall-a"} 0\n');
    expect(text).toContain('dcm_host_up{host="blv-99",site="hall-b"} 1\n');
  });

  it("reads an agent's storage mounts once, and a new agent's when the host is enrolled again", async () => {
    let text = Buffer.concat(await sut.exposition()).toString();
    expect(repository.factReads).toEqual([repository.hosts.filter((host) => host.agentId).map((host) => host.agentId)]);
    expect(text).toContain('dcm_host_used{host="blv-05",site="hall-a",resource="storage",unit="bytes"} 5\n'); // /srv
    expect(text).toContain('dcm_host_used{host="blv-05",site="hall-a",resource="memory",unit="bytes"} 995\n');
    expect(text).toContain('dcm_host_used{host="blv-05",site="hall-a",resource="vcpu",unit="count"} 0.4\n');
    expect(text).not.toContain('dcm_host_used{host="blv-06",site="hall-a",resource="storage"'); // no agent: no storage mounts
    expect(text).toContain('dcm_host_used{host="blv-06",site="hall-a",resource="memory",unit="bytes"} 994\n');

    await sut.exposition();
    expect(repository.factReads).toHaveLength(1);

    repository.enrol('h5', 'agent-5-again', ['/srv', '/data']);
    text = Buffer.concat(await sut.exposition()).toString();
    expect(repository.factReads[1]).toEqual(['agent-5-again']);
    expect(text).toContain('dcm_host_used{host="blv-05",site="hall-a",resource="storage",unit="bytes"} 15\n'); // /srv and /data
  });

  it('shows no measured use of a report older than a host counts as reporting', async () => {
    const later = new MetricsService(
      asDependency<MetricsRepository>(repository),
      processMetrics,
      { now: () => new Date(NOW + 10 * 15_000 + 60_001) } as Clock,
      {
        reportIntervalSeconds: 15,
      },
    );
    const text = Buffer.concat(await later.exposition()).toString();
    expect(text).toContain('dcm_host_memory_total_bytes{host="blv-05"} 1000\n');
    expect(text).not.toContain('dcm_host_used{');
    expect(Buffer.concat(await sut.exposition()).toString()).toContain('dcm_host_used{host="blv-05"');
  });

  it('shows exactly what a fresh renderer shows after any sequence of changes', async () => {
    let state = 7;
    const random = (below: number) => {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      return state % below;
    };
    const changes: (() => void)[] = [
      () => (repository.hosts[random(repository.hosts.length)].status = (['up', 'stale', 'down', 'maintenance'] as const)[random(4)]),
      () => repository.setInventories(repository.hosts[random(repository.hosts.length)].id, `vcpu:16:0:4.0:${random(50)},memory:1024:${random(9)}:1.5:0`),
      () => {
        const host = repository.hosts[random(repository.hosts.length)];
        host.lastReportAt = 3000 + random(1_000_000);
        repository.reports.set(host.id, report(random(1000), random(2) ? 'torfaen' : 'blaenau'));
      },
      () => (repository.hosts[random(repository.hosts.length)].name = `renamed-${random(1_000_000)}`),
      () => repository.enrol(repository.hosts[random(repository.hosts.length)].id, `agent-${random(1_000_000)}`, random(2) ? ['/srv'] : ['/data', '/']),
      () => (repository.hosts[random(repository.hosts.length)].accepted = random(2) === 1),
      // Never the last host: the other changes pick one.
      () => repository.hosts.length > 1 && repository.hosts.splice(random(repository.hosts.length), 1),
      () =>
        repository.hosts.push({
          id: `new-${random(1_000_000)}`,
          name: `new-${random(1_000_000)}`,
          site: 'hall-b',
          status: 'up',
          accepted: random(2) === 1,
          lastReportAt: null,
          inventoryVersion: 0,
        }),
      () => (repository.tenants[random(repository.tenants.length)].quotas = `vcpu:64:${random(70)}:${(['ok', 'warning', 'over'] as const)[random(3)]}`),
      () => (repository.tenants[random(repository.tenants.length)].state = random(2) ? 'frozen' : 'active'),
    ];
    for (let round = 0; round < 200; round++) {
      for (let count = random(4); count >= 0; count--) changes[random(changes.length)]();
      const cached = domainPart(Buffer.concat(await sut.exposition()));
      expect(cached).toBe(domainPart(Buffer.concat(await fresh().exposition())));
    }
  });
});
