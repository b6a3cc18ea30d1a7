import fc from 'fast-check';
import { freeOf, HostUseFigures, isOvercommitted, measuredUse, storageUsedOn, sumUsage, UsageFigures, usageOf } from './usage';

const GIB = 2 ** 30;
const aHost: HostUseFigures = { cpuUsageRatio: 0.25, logicalCores: 8, memoryTotal: 16 * GIB, memoryAvailable: 6 * GIB, storageUsed: 40 * GIB };

describe(measuredUse.name, () => {
  it('is vCPU busy, memory total − available and bytes used on the storage mounts', () => {
    expect(measuredUse('vcpu', aHost)).toBe(2);
    expect(measuredUse('memory', aHost)).toBe(10 * GIB);
    expect(measuredUse('storage', aHost)).toBe(40 * GIB);
  });

  it('knows nothing of custom classes or of storage without mounts, and never measures memory below 0', () => {
    expect(measuredUse('custom_gpu', aHost)).toBeNull();
    expect(measuredUse('storage', { ...aHost, storageUsed: null })).toBeNull();
    expect(measuredUse('memory', { ...aHost, memoryAvailable: 17 * GIB })).toBe(0);
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
