import fc from 'fast-check';
import { filesystemsUsed, freeOf, HostUseFigures, isOvercommitted, measuredUse, storageUsedOn, sumUsage, UsageFigures, usageOf } from './usage';

const GIB = 2 ** 30;
const aHost: HostUseFigures = { cpuUsageRatio: 0.25, logicalCores: 8, memoryTotal: 16 * GIB, memoryAvailable: 6 * GIB, storageUsed: 40 * GIB };
/** The host's totals as control records them (its inventories), here what it reports. */
const RECORDED = { vcpu: 8, memory: 16 * GIB, storage: 100 * GIB, custom_gpu: 4 };
const MAX = Number.MAX_SAFE_INTEGER;

describe(measuredUse.name, () => {
  it('is vCPU busy, memory total − available and bytes used on the storage mounts', () => {
    expect(measuredUse('vcpu', aHost, RECORDED.vcpu)).toBe(2);
    expect(measuredUse('memory', aHost, RECORDED.memory)).toBe(10 * GIB);
    expect(measuredUse('storage', aHost, RECORDED.storage)).toBe(40 * GIB);
  });

  it('knows nothing of custom classes or of storage without mounts, and never measures memory below 0', () => {
    expect(measuredUse('custom_gpu', aHost, RECORDED.custom_gpu)).toBeNull();
    expect(measuredUse('storage', { ...aHost, storageUsed: null }, RECORDED.storage)).toBeNull();
    expect(measuredUse('memory', { ...aHost, memoryAvailable: 17 * GIB }, RECORDED.memory)).toBe(0);
  });

  it("never exceeds the host's recorded totals, whatever cores, memory or bytes used the report claims", () => {
    const absurd: HostUseFigures = { cpuUsageRatio: 1, logicalCores: 100_000, memoryTotal: MAX, memoryAvailable: 0, storageUsed: MAX };
    expect(measuredUse('vcpu', absurd, RECORDED.vcpu)).toBe(8);
    expect(measuredUse('vcpu', { ...absurd, cpuUsageRatio: 0.5 }, RECORDED.vcpu)).toBe(4);
    expect(measuredUse('memory', absurd, RECORDED.memory)).toBe(16 * GIB);
    expect(measuredUse('storage', absurd, RECORDED.storage)).toBe(100 * GIB);
  });

  it('is at most the recorded total and never below 0 for any report, and is the plain definition where the report stays within it', () => {
    const figures = fc.record({
      cpuUsageRatio: fc.double({ min: 0, max: 1, noNaN: true }),
      logicalCores: fc.integer({ min: 1, max: 100_000 }),
      memoryTotal: fc.nat(MAX),
      memoryAvailable: fc.nat(MAX),
      storageUsed: fc.option(fc.nat(MAX), { nil: null }),
    });
    fc.assert(
      fc.property(figures, fc.constantFrom('vcpu', 'memory', 'storage'), fc.nat(MAX), (use: HostUseFigures, resourceClass, recordedTotal) => {
        const sut = measuredUse(resourceClass, use, recordedTotal);
        if (sut === null) return expect(resourceClass === 'storage' && use.storageUsed === null).toBe(true);
        expect(sut).toBeGreaterThanOrEqual(0);
        expect(sut).toBeLessThanOrEqual(recordedTotal);
        const plain = { vcpu: use.cpuUsageRatio * use.logicalCores, memory: Math.max(0, use.memoryTotal - use.memoryAvailable), storage: use.storageUsed! };
        const within = { vcpu: use.logicalCores <= recordedTotal, memory: plain.memory <= recordedTotal, storage: plain.storage <= recordedTotal };
        if (within[resourceClass]) expect(sut).toBe(plain[resourceClass]);
      }),
    );
  });
});

describe(filesystemsUsed.name, () => {
  it('counts each filesystem at most at its size, and adds up reports that stay within their sizes unchanged', () => {
    const filesystem = fc.record({ sizeBytes: fc.nat(2 ** 40), usedBytes: fc.nat(2 ** 40) });
    fc.assert(
      fc.property(fc.array(filesystem, { maxLength: 128 }), (filesystems) => {
        const sut = filesystemsUsed(filesystems);
        const sum = (figures: number[]) => figures.reduce((total, figure) => total + figure, 0);
        expect(sut).toBeLessThanOrEqual(sum(filesystems.map((fs) => fs.sizeBytes)));
        if (filesystems.every((fs) => fs.usedBytes <= fs.sizeBytes)) expect(sut).toBe(sum(filesystems.map((fs) => fs.usedBytes)));
      }),
    );
    expect(filesystemsUsed([{ sizeBytes: GIB, usedBytes: MAX }])).toBe(GIB);
  });
});

describe(storageUsedOn.name, () => {
  const mounts = new Set(['/srv', '/data']);

  it('adds the bytes used on the storage mounts only, each mountpoint once, at its first reading', () => {
    const filesystems: [string, number | null][] = [
      ['/', 20 * GIB],
      ['/srv', 6 * GIB],
      ['/data', GIB],
      ['/srv', 99 * GIB],
    ];
    expect(storageUsedOn(mounts, filesystems)).toBe(7 * GIB);
  });

  it('is null while no storage mount is measured, and 0 for an empty one', () => {
    expect(storageUsedOn(mounts, [['/', GIB]])).toBeNull();
    expect(
      storageUsedOn(mounts, [
        ['/srv', null],
        ['/data', 'many'],
      ]),
    ).toBeNull();
    expect(storageUsedOn(new Set(), [['/srv', GIB]])).toBeNull();
    expect(storageUsedOn(mounts, [['/srv', 0]])).toBe(0);
  });
});

describe(usageOf.name, () => {
  it('gives free as capacity − allocated, and 0 with overcommitted where allocated exceeds capacity', () => {
    expect(usageOf(100, 30, 12)).toEqual({ capacity: 100, allocated: 30, used: 12, free: 70, overcommitted: false });
    expect(usageOf(100, 100, null)).toEqual({ capacity: 100, allocated: 100, used: null, free: 0, overcommitted: false });
    expect(usageOf(100, 130, 5)).toEqual({ capacity: 100, allocated: 130, used: 5, free: 0, overcommitted: true });
  });

  it('never has free below 0, and is overcommitted exactly where free would have been negative', () => {
    fc.assert(
      fc.property(fc.nat(1e15), fc.nat(1e15), (capacity, allocated) => {
        const sut = usageOf(capacity, allocated, null);
        expect(sut.free).toBeGreaterThanOrEqual(0);
        expect(sut.free).toBe(freeOf(capacity, allocated));
        expect(sut.overcommitted).toBe(capacity - allocated < 0);
        expect(sut.overcommitted).toBe(isOvercommitted(capacity, allocated));
        if (!sut.overcommitted) expect(sut.allocated + sut.free).toBe(sut.capacity);
      }),
    );
  });
});

describe(sumUsage.name, () => {
  const part = fc
    .record({ capacity: fc.nat(1e12), allocated: fc.nat(1e12), used: fc.option(fc.nat(1e12), { nil: null }) })
    .map(({ capacity, allocated, used }) => usageOf(capacity, allocated, used));

  it('adds capacity, allocated and measured use, and applies the one rule for free to the sums', () => {
    fc.assert(
      fc.property(fc.array(part, { maxLength: 20 }), (parts: UsageFigures[]) => {
        const sut = sumUsage(parts);
        const sum = (figures: number[]) => figures.reduce((total, figure) => total + figure, 0);
        const measured = parts.filter((figures) => figures.used !== null);
        expect(sut.capacity).toBe(sum(parts.map((figures) => figures.capacity)));
        expect(sut.allocated).toBe(sum(parts.map((figures) => figures.allocated)));
        expect(sut.used).toBe(measured.length === 0 ? null : sum(measured.map((figures) => figures.used!)));
        expect(sut).toEqual(usageOf(sut.capacity, sut.allocated, sut.used));
      }),
    );
  });

  it('is the same whichever way the hosts are grouped: sites then facility, or the facility at once', () => {
    fc.assert(
      fc.property(fc.array(part, { maxLength: 20 }), fc.nat(20), (parts: UsageFigures[], cut) => {
        const bySite = sumUsage([sumUsage(parts.slice(0, cut)), sumUsage(parts.slice(cut))]);
        expect(bySite).toEqual(sumUsage(parts));
      }),
    );
  });
});
