import type { ResourceUnit } from '@dcm/domain';
import {
  hostBlock,
  hostBlockIsCurrent,
  measurementBlock,
  MEASUREMENT_SECTIONS,
  parseInventories,
  parseQuotas,
  tenantBlock,
  tenantUsedLines,
  usedBlock,
  usedBlockIsCurrent,
} from './exposition-blocks';
import { Sections, sectionText } from './exposition';
import type { MetricsHostRow } from './metrics.repository';
import { digestOf, readDigest } from '../telemetry/report-digest';

const GIB = 2 ** 30;
const units = new Map<string, ResourceUnit>([
  ['vcpu', 'count'],
  ['memory', 'bytes'],
  ['storage', 'bytes'],
  ['custom_gpu', 'count'],
]);
const host = (overrides: Partial<MetricsHostRow> = {}): MetricsHostRow => ({
  id: 'h1',
  name: 'blv-c01',
  site: 'hall-a',
  status: 'up',
  accepted: true,
  lastReportAt: null,
  inventoryVersion: 1,
  ...overrides,
});
const text = (sections: Sections) => sections.offsets.slice(1).map((_end, index) => sectionText(sections, index));

describe(parseInventories.name, () => {
  it("reads both databases' folding (SQLite writes 4.0, PostgreSQL 4) in class order", () => {
    expect(parseInventories('vcpu:64:4:4.0:8:,memory:1024:0:1.15:0:2048')).toEqual([
      { resourceClass: 'memory', total: 1024, reserved: 0, allocationRatio: 1.15, allocated: 0, measuredTotal: 2048 },
      { resourceClass: 'vcpu', total: 64, reserved: 4, allocationRatio: 4, allocated: 8, measuredTotal: null },
    ]);
    expect(parseInventories(undefined)).toEqual([]);
  });
});

describe(parseQuotas.name, () => {
  it('reads limit, allocated and state in class order', () => {
    expect(parseQuotas('vcpu:64:8:warning,memory:100:0:ok')).toEqual([
      { resourceClass: 'memory', limit: 100, allocated: 0, state: 'ok' },
      { resourceClass: 'vcpu', limit: 64, allocated: 8, state: 'warning' },
    ]);
  });
});

describe(hostBlock.name, () => {
  it('writes capacity by the domain rule, allocated, and up with the unit of each class', () => {
    const sut = hostBlock(host(), `vcpu:64:4:4.0:8:64,memory:${512 * GIB}:${16 * GIB}:1.5:${GIB}:,custom_gpu:4:0:1:1:`, units);
    expect(text(sut.lines)).toEqual([
      'dcm_host_capacity{host="blv-c01",site="hall-a",resource="custom_gpu",unit="count"} 4\n' +
        `dcm_host_capacity{host="blv-c01",site="hall-a",resource="memory",unit="bytes"} ${744 * GIB}\n` +
        'dcm_host_capacity{host="blv-c01",site="hall-a",resource="vcpu",unit="count"} 240\n',
      'dcm_host_allocated{host="blv-c01",site="hall-a",resource="custom_gpu",unit="count"} 1\n' +
        `dcm_host_allocated{host="blv-c01",site="hall-a",resource="memory",unit="bytes"} ${GIB}\n` +
        'dcm_host_allocated{host="blv-c01",site="hall-a",resource="vcpu",unit="count"} 8\n',
      'dcm_host_up{host="blv-c01",site="hall-a"} 1\n',
      'dcm_host_measured_total{host="blv-c01",resource="vcpu",unit="count"} 64\n',
      'dcm_host_overcommitted{host="blv-c01",site="hall-a",resource="custom_gpu"} 0\n' +
        'dcm_host_overcommitted{host="blv-c01",site="hall-a",resource="memory"} 0\n' +
        'dcm_host_overcommitted{host="blv-c01",site="hall-a",resource="vcpu"} 0\n',
    ]);
  });

  it('says 1 where a total fell below what is allocated, and shows the measured total beside the inventory', () => {
    const sut = hostBlock(host(), `memory:0:0:1:${8 * GIB}:0`, units);
    expect(text(sut.lines).slice(3)).toEqual([
      'dcm_host_measured_total{host="blv-c01",resource="memory",unit="bytes"} 0\n',
      'dcm_host_overcommitted{host="blv-c01",site="hall-a",resource="memory"} 1\n',
    ]);
  });

  it('leaves capacity and allocated out for a host no operator has accepted, and shows the rest', () => {
    const sut = hostBlock(host({ accepted: false }), 'vcpu:16384:0:4.0:0:16384', units);
    expect(text(sut.lines)).toEqual([
      '',
      '',
      'dcm_host_up{host="blv-c01",site="hall-a"} 1\n',
      'dcm_host_measured_total{host="blv-c01",resource="vcpu",unit="count"} 16384\n',
      'dcm_host_overcommitted{host="blv-c01",site="hall-a",resource="vcpu"} 0\n',
    ]);
    expect(hostBlockIsCurrent(sut, host({ accepted: true }))).toBe(false);
  });

  it.each(['stale', 'down', 'maintenance'] as const)('says 0 for a host that is %s', (status) => {
    expect(text(hostBlock(host({ status }), undefined, units).lines)).toEqual(['', '', 'dcm_host_up{host="blv-c01",site="hall-a"} 0\n', '', '']);
  });
});

describe(measurementBlock.name, () => {
  const report = {
    cpu: { usageRatio: 0.5, load1: 2, load5: 1.5, load15: 0.75 },
    memory: { totalBytes: 8 * GIB, availableBytes: GIB },
    filesystems: [
      // Root-reserved blocks: used + avail falls short of size, as on ext4.
      { mountpoint: '/', sizeBytes: 100, usedBytes: 55, availBytes: 40 },
      { mountpoint: 'C:\\"x"', sizeBytes: 10, availBytes: 5 },
      { mountpoint: '/', sizeBytes: 999, availBytes: 999 },
    ],
    network: [{ device: 'eno1', rxBytesTotal: 7, txBytesTotal: 9 }],
    tenants: { torfaen: { memoryBytes: GIB, cpuUsageSecondsTotal: 3 }, empty: { cpuUsageSecondsTotal: 1 } },
  };

  it('writes when the host last reported, in seconds', () => {
    expect(text(measurementBlock('blv-c01', 1_763_805_600_123, digestOf({})).lines)[MEASUREMENT_SECTIONS.lastReport]).toBe(
      'dcm_host_last_report_timestamp_seconds{host="blv-c01"} 1763805600.123\n',
    );
  });

  it("writes the host's clock skew in seconds, negative when the host is ahead, and nothing before it is known", () => {
    expect(text(measurementBlock('blv-c01', 1, digestOf({}), -2_500).lines)[MEASUREMENT_SECTIONS.clockSkew]).toBe(
      'dcm_agent_clock_skew_seconds{host="blv-c01"} -2.5\n',
    );
    expect(text(measurementBlock('blv-c01', 1, digestOf({}), null).lines)[MEASUREMENT_SECTIONS.clockSkew]).toBe('');
  });

  it('writes one line per value, each mountpoint and device once, escaped', () => {
    const sut = measurementBlock('blv-c01', 1, digestOf(report));
    const lines = text(sut.lines);
    expect(lines[MEASUREMENT_SECTIONS.cpuUsage]).toBe('dcm_host_cpu_usage_ratio{host="blv-c01"} 0.5\n');
    expect(lines[MEASUREMENT_SECTIONS.memoryAvailable]).toBe(`dcm_host_memory_available_bytes{host="blv-c01"} ${GIB}\n`);
    expect(lines[MEASUREMENT_SECTIONS.filesystemSize]).toBe(
      'dcm_host_filesystem_size_bytes{host="blv-c01",mountpoint="/"} 100\ndcm_host_filesystem_size_bytes{host="blv-c01",mountpoint="C:\\\\\\"x\\""} 10\n',
    );
    expect(lines[MEASUREMENT_SECTIONS.load5]).toBe('dcm_host_load5{host="blv-c01"} 1.5\n');
    expect(lines[MEASUREMENT_SECTIONS.load15]).toBe('dcm_host_load15{host="blv-c01"} 0.75\n');
    // A filesystem whose report has no used figure gets no used line.
    expect(lines[MEASUREMENT_SECTIONS.filesystemUsed]).toBe('dcm_host_filesystem_used_bytes{host="blv-c01",mountpoint="/"} 55\n');
    expect(lines[MEASUREMENT_SECTIONS.networkTransmit]).toBe('dcm_host_network_transmit_bytes_total{host="blv-c01",device="eno1"} 9\n');
    expect(sut.tenants).toEqual([{ slug: 'torfaen', memory: GIB, storage: null }]);
  });

  it.each([null, 'not json', '[]', '{"cpu": "busy"}'])('shows only when it arrived of a report it cannot read (%p)', (json) => {
    const sut = measurementBlock('blv-c01', 1000, readDigest(null, json));
    expect(sut.lines.bytes.toString()).toBe('dcm_host_last_report_timestamp_seconds{host="blv-c01"} 1\n');
    expect(sut.tenants).toEqual([]);
  });

  it('reads the digest ingest stored, and digests the whole report where there is none or it is unreadable', () => {
    const expected = text(measurementBlock('blv-c01', 1, digestOf(report)).lines);
    const stored = JSON.stringify(digestOf(JSON.parse(JSON.stringify(report))));
    expect(text(measurementBlock('blv-c01', 1, readDigest(stored, null)).lines)).toEqual(expected);
    expect(text(measurementBlock('blv-c01', 1, readDigest(null, JSON.stringify(report))).lines)).toEqual(expected);
    expect(text(measurementBlock('blv-c01', 1, readDigest('{"not":"a digest"}', JSON.stringify(report))).lines)).toEqual(expected);
    expect(JSON.parse(stored).filesystems).toEqual([
      ['/', 100, 40, 55],
      ['C:\\"x"', 10, 5, null],
    ]);
  });

  it('reads a digest stored before load5, load15 and used bytes were exported, leaving those lines out', () => {
    const stored = JSON.stringify({ ...digestOf(report), load5: undefined, load15: undefined, filesystems: [['/', 100, 40]] });
    const lines = text(measurementBlock('blv-c01', 1, readDigest(stored, null)).lines);
    expect(lines[MEASUREMENT_SECTIONS.load1]).toBe('dcm_host_load1{host="blv-c01"} 2\n');
    expect([lines[MEASUREMENT_SECTIONS.load5], lines[MEASUREMENT_SECTIONS.load15], lines[MEASUREMENT_SECTIONS.filesystemUsed]]).toEqual(['', '', '']);
    expect(lines[MEASUREMENT_SECTIONS.filesystemAvail]).toBe('dcm_host_filesystem_avail_bytes{host="blv-c01",mountpoint="/"} 40\n');
  });
});

describe(usedBlock.name, () => {
  const inventories = `vcpu:64:4:4.0:8:64,memory:${512 * GIB}:0:1:0:,storage:${20 * 1024 * GIB}:0:1:0:,custom_gpu:4:0:1:1:`;
  const report = {
    collectedAt: '2026-11-22T10:00:00Z',
    cpu: { usageRatio: 0.25, logicalCores: 64 },
    memory: { totalBytes: 512 * GIB, availableBytes: 300 * GIB },
    filesystems: [
      { mountpoint: '/', sizeBytes: 100 * GIB, usedBytes: 20 * GIB, availBytes: 75 * GIB },
      { mountpoint: '/srv', sizeBytes: 20_000 * GIB, usedBytes: 6_000 * GIB, availBytes: 14_000 * GIB },
      { mountpoint: '/data', sizeBytes: 100 * GIB, usedBytes: 7 * GIB, availBytes: 93 * GIB },
    ],
  };
  const storageMounts = new Set(['/srv', '/data', '/not-reported']);

  it("writes per inventory class the domain measures what the report measured, storage on the agent's mounts only", () => {
    const sut = usedBlock(hostBlock(host(), inventories, units), measurementBlock('blv-c01', 1, digestOf(report)), storageMounts, units);
    expect(text(sut.lines)).toEqual([
      `dcm_host_used{host="blv-c01",site="hall-a",resource="memory",unit="bytes"} ${212 * GIB}\n` +
        `dcm_host_used{host="blv-c01",site="hall-a",resource="storage",unit="bytes"} ${6_007 * GIB}\n` +
        'dcm_host_used{host="blv-c01",site="hall-a",resource="vcpu",unit="count"} 16\n',
    ]);
  });

  it('leaves out storage without declared mounts, classes the host has no inventory of, and a report lacking a figure', () => {
    const measurement = measurementBlock('blv-c01', 1, digestOf(report));
    expect(text(usedBlock(hostBlock(host(), 'vcpu:64:0:1:0:', units), measurement, new Set(), units).lines)).toEqual([
      'dcm_host_used{host="blv-c01",site="hall-a",resource="vcpu",unit="count"} 16\n',
    ]);
    expect(text(usedBlock(hostBlock(host(), inventories, units), measurement, new Set(), units).lines)[0]).not.toContain('resource="storage"');
    const withoutCores = measurementBlock('blv-c01', 1, digestOf({ ...report, cpu: { usageRatio: 0.25 } }));
    expect(text(usedBlock(hostBlock(host(), inventories, units), withoutCores, storageMounts, units).lines)).toEqual(['']);
    // A digest stored before logical cores were kept: no measured use until the host reports again.
    const stored = JSON.stringify({ ...digestOf(report), logicalCores: undefined });
    expect(
      text(usedBlock(hostBlock(host(), inventories, units), measurementBlock('blv-c01', 1, readDigest(stored, null)), storageMounts, units).lines),
    ).toEqual(['']);
  });

  it('is current while its host block, report and storage mounts are the same ones', () => {
    const block = hostBlock(host(), inventories, units);
    const measurement = measurementBlock('blv-c01', 1, digestOf(report));
    const sut = usedBlock(block, measurement, storageMounts, units);
    expect(usedBlockIsCurrent(sut, block, measurement, storageMounts)).toBe(true);
    expect(usedBlockIsCurrent(sut, hostBlock(host({ site: 'hall-b' }), inventories, units), measurement, storageMounts)).toBe(false);
    expect(usedBlockIsCurrent(sut, block, measurementBlock('blv-c01', 2, digestOf(report)), storageMounts)).toBe(false);
    expect(usedBlockIsCurrent(sut, block, measurement, new Set(storageMounts))).toBe(false);
    expect(usedBlockIsCurrent(undefined, block, measurement, storageMounts)).toBe(false);
  });
});

describe(tenantBlock.name, () => {
  it('writes limit, allocated, one line per enforcement state and frozen', () => {
    const sut = tenantBlock({ id: 't1', slug: 'torfaen', state: 'frozen', quotas: 'vcpu:64:8:over' }, units);
    expect(text(sut.lines)).toEqual([
      'dcm_tenant_quota_limit{tenant="torfaen",resource="vcpu",unit="count"} 64\n',
      'dcm_tenant_allocated{tenant="torfaen",resource="vcpu",unit="count"} 8\n',
      'dcm_tenant_quota_state{tenant="torfaen",resource="vcpu",state="ok"} 0\n' +
        'dcm_tenant_quota_state{tenant="torfaen",resource="vcpu",state="warning"} 0\n' +
        'dcm_tenant_quota_state{tenant="torfaen",resource="vcpu",state="over"} 1\n',
      'dcm_tenant_frozen{tenant="torfaen"} 1\n',
    ]);
  });
});

describe(tenantUsedLines.name, () => {
  it("sums each tenant's current measured use over hosts, for known tenants only, in tenant order", () => {
    const since = Date.UTC(2026, 10, 22, 10, 0);
    const measured = (tenants: object, collectedAt = new Date(since + 59_000)) =>
      measurementBlock('h', 1, digestOf(JSON.parse(JSON.stringify({ tenants, collectedAt }))));
    const sut = tenantUsedLines(
      [
        { id: '1', slug: 'blaenau', state: 'active', quotas: null },
        { id: '2', slug: 'torfaen', state: 'active', quotas: null },
      ],
      [
        measured({ torfaen: { memoryBytes: 2, storageUsedBytes: 10 }, unknown: { memoryBytes: 1 } }),
        undefined,
        measured({ torfaen: { memoryBytes: 3 }, blaenau: { storageUsedBytes: 7 } }),
        measured({ torfaen: { memoryBytes: 1000 } }, new Date(since - 1)), // collected before `since`: no longer current
        measurementBlock('h', 1, digestOf({ tenants: { torfaen: { memoryBytes: 1000 } } })), // no collection time
      ],
      units,
      since,
    );
    expect(sut).toBe(
      'dcm_tenant_used{tenant="blaenau",resource="storage",unit="bytes"} 7\n' +
        'dcm_tenant_used{tenant="torfaen",resource="memory",unit="bytes"} 5\n' +
        'dcm_tenant_used{tenant="torfaen",resource="storage",unit="bytes"} 10\n',
    );
  });
});
