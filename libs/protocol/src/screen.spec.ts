import { HOST_SERIES_BUDGET, REPORT_SCHEMA_VERSION } from './constants';
import { Report } from './schema';
import { screenReport } from './screen';
import { cleanText, isCleanText } from './text';
import { validateReport } from './validate';

const GIB = 2 ** 30;

function aReport(overrides: Partial<Report> = {}): Report {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    seq: 1,
    collectedAt: '2026-11-22T10:00:00.000Z',
    cpu: { usageRatio: 0.25, load1: 0.5, load5: 0.4, load15: 0.3, logicalCores: 2 },
    memory: { totalBytes: 64 * GIB, availableBytes: 32 * GIB },
    filesystems: [
      { mountpoint: '/', fstype: 'ext4', sizeBytes: 100 * GIB, usedBytes: 20 * GIB, availBytes: 75 * GIB },
      { mountpoint: '/srv', fstype: 'xfs', sizeBytes: 900 * GIB, usedBytes: 100 * GIB, availBytes: 800 * GIB },
    ],
    network: [{ device: 'eth0', rxBytesTotal: 1, txBytesTotal: 2 }],
    inventory: { vcpu: 2, memoryBytes: 64 * GIB, storageBytes: 900 * GIB },
    tenants: { torfaen: { storageUsedBytes: 10 * GIB, memoryBytes: GIB } },
    ...overrides,
  };
}

const anyTenant = () => true;
/** The host's memory total as control records it (its memory inventory). */
const RECORDED = { memoryBytes: 64 * GIB, storageBytes: 1024 ** 5 };
const fs = (mountpoint: string, fstype = 'ext4') => ({ mountpoint, fstype, sizeBytes: GIB, usedBytes: 0, availBytes: GIB });

describe(isCleanText.name, () => {
  it.each([
    ['a lone high surrogate', 'a\ud800b'],
    ['a lone low surrogate', '\udc00'],
    ['NUL', 'x\u0000'],
    ['a carriage return', 'x\r'],
    ['a line feed', 'x\ny'],
    ['DEL', '\u007f'],
    ['a C1 control', '\u0085'],
  ])('refuses %s', (_case, text) => {
    expect(isCleanText(text)).toBe(false);
  });

  it.each([
    ['plain ASCII', '/srv/tenants/torfaen'],
    ['Welsh', '/srv/ŵyn'],
    ['a surrogate pair', '/mnt/🚀'],
    ['empty', ''],
  ])('accepts %s', (_case, text) => {
    expect(isCleanText(text)).toBe(true);
  });
});

describe(cleanText.name, () => {
  it('replaces control characters and lone surrogates, and never cuts a surrogate pair in half', () => {
    expect(cleanText('EPYC\r\n9354\u0000', 200)).toBe('EPYC\ufffd\ufffd9354\ufffd');
    expect(cleanText('ab🚀', 3)).toBe('ab\ufffd');
    expect(isCleanText(cleanText('x\ud800y', 200))).toBe(true);
    expect(cleanText('Debian GNU/Linux 12', 200)).toBe('Debian GNU/Linux 12');
  });
});

describe(screenReport.name, () => {
  it('keeps a sound report whole, as the same object', () => {
    const report = aReport();
    const sut = screenReport(report, anyTenant, RECORDED);
    expect(sut.report).toBe(report);
    expect(sut.dropped.size).toBe(0);
  });

  it('drops two mountpoints that differ only in lone surrogates (they encode to the same UTF-8), and keeps the rest', () => {
    const report = aReport({ filesystems: [fs('/'), fs('/data\ud800'), fs('/data\udbff'), fs('/var', 'ext4\r')], tenants: {} });
    expect(validateReport(report).ok).toBe(true);
    const sut = screenReport(report, anyTenant, RECORDED);
    expect(sut.report.filesystems.map((kept) => kept.mountpoint)).toEqual(['/']);
    expect(Object.fromEntries(sut.dropped)).toEqual({ 'malformed-text': 3 });
  });

  it('drops a device with a NUL and a duplicate device', () => {
    const nic = (device: string) => ({ device, rxBytesTotal: 0, txBytesTotal: 0 });
    const sut = screenReport(aReport({ network: [nic('eth0'), nic('eth\u00001'), nic('eth0')] }), anyTenant, RECORDED);
    expect(sut.report.network.map((kept) => kept.device)).toEqual(['eth0']);
    expect(Object.fromEntries(sut.dropped)).toEqual({ 'malformed-text': 1, duplicate: 1 });
  });

  it("keeps a host's filesystems and interfaces within its series budget and label length", () => {
    const many = Array.from({ length: HOST_SERIES_BUDGET.filesystems + 5 }, (_, index) => fs(`/m${index}`));
    const long = fs(`/${'x'.repeat(HOST_SERIES_BUDGET.labelLength)}`);
    const sut = screenReport(aReport({ filesystems: [long, ...many], tenants: {} }), anyTenant, RECORDED);
    expect(sut.report.filesystems).toHaveLength(HOST_SERIES_BUDGET.filesystems);
    expect(sut.report.filesystems[0].mountpoint).toBe('/m0');
    expect(Object.fromEntries(sut.dropped)).toEqual({ 'label-too-long': 1, 'series-budget': 5 });
  });

  it('drops use for tenants the host may not speak for, and names them', () => {
    const report = aReport({ tenants: { torfaen: { memoryBytes: GIB }, victim: { memoryBytes: GIB } } });
    const sut = screenReport(report, (slug) => slug === 'torfaen', RECORDED);
    expect(sut.report.tenants).toEqual({ torfaen: { memoryBytes: GIB } });
    expect(sut.foreignTenants).toEqual(['victim']);
    expect(Object.fromEntries(sut.dropped)).toEqual({ 'tenant-not-on-host': 1 });
  });

  it('drops a tenant entry above what the same report says the host has, alone and in sum', () => {
    const report = aReport({
      tenants: {
        huge: { memoryBytes: 65 * GIB },
        disk: { storageUsedBytes: 1001 * GIB },
        first: { memoryBytes: 40 * GIB, storageUsedBytes: 600 * GIB },
        second: { memoryBytes: 30 * GIB },
        third: { storageUsedBytes: 500 * GIB },
        fourth: { memoryBytes: 24 * GIB, storageUsedBytes: 400 * GIB },
      },
    });
    const sut = screenReport(report, anyTenant, RECORDED);
    expect(Object.keys(sut.report.tenants)).toEqual(['first', 'fourth']);
    expect(Object.fromEntries(sut.dropped)).toEqual({ 'above-host-total': 4 });
  });

  it("bounds tenant memory by control's recorded total when the report claims more, and takes none without one", () => {
    const report = aReport({
      memory: { totalBytes: 2 ** 53 - 1, availableBytes: 0 },
      tenants: { victim: { memoryBytes: 2 ** 52 }, torfaen: { memoryBytes: 40 * GIB }, gwent: { memoryBytes: 30 * GIB }, dyfed: { storageUsedBytes: GIB } },
    });
    const sut = screenReport(report, anyTenant, RECORDED);
    expect(Object.keys(sut.report.tenants)).toEqual(['torfaen', 'dyfed']);
    expect(Object.fromEntries(sut.dropped)).toEqual({ 'above-host-total': 2 });
    const unrecorded = screenReport(report, anyTenant, { ...RECORDED, memoryBytes: null });
    expect(Object.keys(unrecorded.report.tenants)).toEqual(['dyfed']);
  });

  it("bounds tenant storage by control's recorded storage total when the report's filesystems claim more, and takes none without one", () => {
    const report = aReport({
      filesystems: [{ ...fs('/srv'), sizeBytes: 2 ** 53 - 1 }],
      tenants: { victim: { storageUsedBytes: 2 ** 52 }, torfaen: { storageUsedBytes: 600 * GIB }, gwent: { storageUsedBytes: 500 * GIB } },
    });
    const sut = screenReport(report, anyTenant, { ...RECORDED, storageBytes: 1024 * GIB });
    expect(Object.keys(sut.report.tenants)).toEqual(['torfaen']);
    expect(Object.fromEntries(sut.dropped)).toEqual({ 'above-host-total': 2 });
    const unrecorded = screenReport(report, anyTenant, { ...RECORDED, storageBytes: null });
    expect(Object.keys(unrecorded.report.tenants)).toEqual([]);
  });

  it('clamps a filesystem whose used bytes exceed its size to its size, and leaves the others as they were', () => {
    const report = aReport({ filesystems: [{ ...fs('/'), usedBytes: 2 ** 53 - 1 }, fs('/srv')], tenants: {} });
    const sut = screenReport(report, anyTenant, RECORDED);
    expect(sut.report.filesystems.map((kept) => kept.usedBytes)).toEqual([GIB, 0]);
    expect(sut.report.filesystems[1]).toBe(report.filesystems[1]);
    expect(report.filesystems[0].usedBytes).toBe(2 ** 53 - 1);
    expect(sut.dropped.size).toBe(0);
  });
});
