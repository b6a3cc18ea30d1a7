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
    ['the schema version as a string', { ...aReport(), schemaVersion: '1' }],
    ['seq 0', aReport({ seq: 0 })],
    ['a fractional seq', aReport({ seq: 1.5 })],
    ['a seq sent as a string (no coercion)', { ...aReport(), seq: '5' }],
    ['a seq beyond 2^53 − 1', aReport({ seq: Number.MAX_SAFE_INTEGER + 1 })],
    ['a negative byte count', aReport({ memory: { totalBytes: -1, availableBytes: 0 } })],
    ['a negative load', aReport({ cpu: { usageRatio: 0, load1: -0.5, load5: 0, load15: 0, logicalCores: 1 } })],
    ['bytes beyond 2^53', aReport({ memory: { totalBytes: 2 ** 53, availableBytes: 0 } })],
    ['fractional bytes', aReport({ inventory: { vcpu: 2, memoryBytes: 1.5, storageBytes: 0 } })],
    ['a CPU ratio above 1', aReport({ cpu: { usageRatio: 1.5, load1: 0, load5: 0, load15: 0, logicalCores: 1 } })],
    ['no logical cores', aReport({ cpu: { usageRatio: 0, load1: 0, load5: 0, load15: 0, logicalCores: 0 } })],
    ['NaN', aReport({ cpu: { usageRatio: NaN, load1: 0, load5: 0, load15: 0, logicalCores: 1 } })],
    ['Infinity', aReport({ cpu: { usageRatio: 0, load1: Infinity, load5: 0, load15: 0, logicalCores: 1 } })],
    ['NaN sent as a string', { ...aReport(), cpu: { usageRatio: 'NaN', load1: 0, load5: 0, load15: 0, logicalCores: 1 } }],
    ['a date that is not a date', aReport({ collectedAt: 'yesterday' })],
    ['a date without a time', aReport({ collectedAt: '2026-11-22' })],
    ['an unknown property', { ...aReport(), extra: true }],
    ['an unknown property in a filesystem', aReport({ filesystems: [{ ...aReport().filesystems[0], inodes: 5 } as Report['filesystems'][0]] })],
    ['an unknown property in a tenant', aReport({ tenants: { torfaen: { gpus: 2 } as Report['tenants'][string] } })],
    ['an empty mount point', aReport({ filesystems: [{ ...aReport().filesystems[0], mountpoint: '' }] })],
    ['a device name longer than 64', aReport({ network: [{ device: 'x'.repeat(65), rxBytesTotal: 0, txBytesTotal: 0 }] })],
    [
      'more than 256 filesystems',
      aReport({ filesystems: Array.from({ length: 257 }, (_, index) => ({ ...aReport().filesystems[0], mountpoint: `/m${index}` })) }),
    ],
    ['more than 256 tenants', aReport({ tenants: Object.fromEntries(Array.from({ length: 257 }, (_, index) => [`tenant-${index}`, {}])) })],
    ['a tenant key that is not a slug', aReport({ tenants: { 'Not A Slug': {} } })],
    ['a prototype key among the tenants', { ...aReport(), tenants: JSON.parse('{"__proto__": {"memoryBytes": 1}}') }],
    ['a prototype key at the top', JSON.parse(JSON.stringify(aReport()).replace(/^\{/, '{"__proto__":{"polluted":true},'))],
    ['a constructor key in a section', JSON.parse(JSON.stringify(aReport()).replace('"memory":{', '"memory":{"constructor":{"prototype":{}},'))],
    ['a missing section', (({ network: _network, ...rest }) => rest)(aReport())],
    ['not an object at all', 'report'],
    ['null', null],
  ])('refuses %s with a readable reason', (_case, report) => {
    const result = validateReport(report);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors.length).toBeGreaterThan(0);
      for (const error of result.errors) expect(error).toMatch(/^(\/|\(body\))\S*: ./);
    }
  });
});

describe(`${validateReport.name}: what it says`, () => {
  it('names the path and the reason of every fault at once', () => {
    const result = validateReport({ ...aReport({ seq: 0, cpu: { usageRatio: 2, load1: 0, load5: 0, load15: 0, logicalCores: 1 } }), extra: 1 });
    expect(result).toEqual({
      ok: false,
      errors: expect.arrayContaining(['/seq: must be >= 1', '/cpu/usageRatio: must be <= 1', '(body): unknown property "extra"']),
    });
  });

  it('leaves the report as sent: no coercion, no defaults', () => {
    const report = aReport({ tenants: { torfaen: {} } });
    const sent = JSON.stringify(report);
    const result = validateReport(report);
    expect(result.ok && result.value).toBe(report);
    expect(JSON.stringify(report)).toBe(sent);
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

  it('accepts text beyond ASCII written in surrogate pairs', () => {
    const unicode = { ...request, facts: { ...request.facts, cpuModel: 'Ryzen™ 🚀 Prosesydd', storage: [{ mountpoint: '/srv/ŵyn', sizeBytes: 1 }] } };
    expect(validateEnrolRequest(unicode)).toEqual({ ok: true, value: unicode });
  });

  it.each<[string, unknown]>([
    ['an unknown property in the facts', { ...request, facts: { ...request.facts, gpu: 'A100' } }],
    ['no logical cores', { ...request, facts: { ...request.facts, logicalCores: 0 } }],
    [
      'more than 64 storage mounts',
      { ...request, facts: { ...request.facts, storage: Array.from({ length: 65 }, (_, index) => ({ mountpoint: `/m${index}`, sizeBytes: 1 })) } },
    ],
    ['memory beyond 2^53', { ...request, facts: { ...request.facts, memoryTotalBytes: 2 ** 53 } }],
    ['a join token longer than 200', { ...request, joinToken: 'x'.repeat(201) }],
    ['a hostname longer than 63', { ...request, hostname: 'a'.repeat(64) }],
    ['a carriage return in the OS name', { ...request, facts: { ...request.facts, os: 'Debian\r\nX-Injected: 1' } }],
    ['a NUL in the kernel', { ...request, facts: { ...request.facts, kernel: '6.1.0\u0000' } }],
    ['a lone surrogate in the CPU model', { ...request, facts: { ...request.facts, cpuModel: 'EPYC \ud800' } }],
    ['a lone surrogate in a storage mount', { ...request, facts: { ...request.facts, storage: [{ mountpoint: '/srv\udc00', sizeBytes: 1 }] } }],
  ])('refuses %s', (_case, body) => {
    expect(validateEnrolRequest(body).ok).toBe(false);
  });

  it('refuses a hostname that could not name a host, and a short join token', () => {
    const result = validateEnrolRequest({ ...request, hostname: 'BLV C01', joinToken: 'short' });
    expect(result).toEqual({ ok: false, errors: expect.arrayContaining([expect.stringContaining('/hostname'), expect.stringContaining('/joinToken')]) });
  });
});
