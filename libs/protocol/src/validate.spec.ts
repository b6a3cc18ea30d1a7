import { MAX_REPORTS_PER_BATCH, REPORT_SCHEMA_VERSION } from './constants';
import { Report } from './schema';
import { isReportArray, validateEnrolRequest, validateReport, validateReportBatch } from './validate';

function aReport(overrides: Partial<Report> = {}): Report {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    seq: 1,
    collectedAt: '2026-11-22T10:00:00.000Z',
    cpu: { usageRatio: 0.25, load1: 0.5, load5: 0.4, load15: 0.3, logicalCores: 2 },
    memory: { totalBytes: 25_769_803_776, availableBytes: 20_000_000_000 },
    filesystems: [{ mountpoint: '/', fstype: 'ext4', sizeBytes: 270_000_000_000, usedBytes: 25_000_000_000, availBytes: 230_000_000_000 }],
    network: [{ device: 'eth0', rxBytesTotal: 123_456, txBytesTotal: 654_321 }],
    inventory: { vcpu: 2, memoryBytes: 25_769_803_776, storageBytes: 270_000_000_000 },
    tenants: { torfaen: { storageUsedBytes: 4096, memoryBytes: 1_048_576, cpuUsageSecondsTotal: 12.5 } },
    ...overrides,
  };
}

describe(validateReport.name, () => {
  it('accepts a realistic report as sent', () => {
    const report = aReport();
    expect(validateReport(report)).toEqual({ ok: true, value: report });
  });

  it.each<[string, unknown]>([
    ['another schema version', { ...aReport(), schemaVersion: 2 }],
    ['seq 0', aReport({ seq: 0 })],
    ['a fractional seq', aReport({ seq: 1.5 })],
    ['a negative byte count', aReport({ memory: { totalBytes: -1, availableBytes: 0 } })],
    ['bytes beyond 2^53', aReport({ memory: { totalBytes: 2 ** 53, availableBytes: 0 } })],
    ['a CPU ratio above 1', aReport({ cpu: { usageRatio: 1.5, load1: 0, load5: 0, load15: 0, logicalCores: 1 } })],
    ['NaN sent as a string', { ...aReport(), cpu: { usageRatio: 'NaN', load1: 0, load5: 0, load15: 0, logicalCores: 1 } }],
    ['a date that is not a date', aReport({ collectedAt: 'yesterday' })],
    ['an unknown property', { ...aReport(), extra: true }],
    ['a tenant key that is not a slug', aReport({ tenants: { 'Not A Slug': {} } })],
    ['a prototype key among the tenants', { ...aReport(), tenants: JSON.parse('{"__proto__": {"memoryBytes": 1}}') }],
    ['a missing section', (({ network: _network, ...rest }) => rest)(aReport())],
  ])('refuses %s with a readable reason', (_case, report) => {
    const result = validateReport(report);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors.length).toBeGreaterThan(0);
      for (const error of result.errors) expect(error).toMatch(/^(\/|\(body\))\S*: ./);
    }
  });
});

describe(validateReportBatch.name, () => {
  it('accepts one report or an array of them', () => {
    const single = validateReportBatch(aReport());
    const many = validateReportBatch([aReport({ seq: 1 }), aReport({ seq: 2 })]);
    expect(single.ok && !isReportArray(single.value)).toBe(true);
    expect(many.ok && isReportArray(many.value) && many.value.length === 2).toBe(true);
  });

  it('refuses an empty array and one longer than the batch limit', () => {
    expect(validateReportBatch([]).ok).toBe(false);
    const tooMany = Array.from({ length: MAX_REPORTS_PER_BATCH + 1 }, (_, index) => aReport({ seq: index + 1 }));
    expect(validateReportBatch(tooMany).ok).toBe(false);
  });
});

describe(validateEnrolRequest.name, () => {
  const request = {
    joinToken: 'dcm_0123456789abcdefghijklmnopqrstuvwxyz',
    hostname: 'blv-c01',
    facts: {
      hostname: 'blv-c01',
      os: 'Debian GNU/Linux 12',
      kernel: '6.1.0',
      cpuModel: 'EPYC',
      logicalCores: 64,
      memoryTotalBytes: 2 ** 39,
      storage: [{ mountpoint: '/srv', sizeBytes: 2 ** 44 }],
    },
  };

  it('accepts a well-formed enrolment', () => {
    expect(validateEnrolRequest(request)).toEqual({ ok: true, value: request });
  });

  it('refuses a hostname that could not name a host, and a short join token', () => {
    const result = validateEnrolRequest({ ...request, hostname: 'BLV C01', joinToken: 'short' });
    expect(result).toEqual({ ok: false, errors: expect.arrayContaining([expect.stringContaining('/hostname'), expect.stringContaining('/joinToken')]) });
  });
});
