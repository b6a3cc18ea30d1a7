import { capacityOf, checkUnitBounds, inventoryFree, InventoryFigures, inventoryOvercommitted, measuredTotalReason, validateInventory } from './capacity';

const inventory = (figures: Partial<InventoryFigures> = {}): InventoryFigures => ({
  total: 100,
  reserved: 0,
  allocationRatio: 1,
  ...figures,
});

describe(capacityOf.name, () => {
  it('overcommits vcpu: 64 total, 4 reserved, ratio 4 -> 240', () => {
    expect(capacityOf({ total: 64, reserved: 4, allocationRatio: 4 })).toBe(240);
  });

  it('floors a fractional product', () => {
    expect(capacityOf({ total: 7, reserved: 0, allocationRatio: 1.5 })).toBe(10);
    expect(capacityOf({ total: 3, reserved: 0, allocationRatio: 0.5 })).toBe(1);
  });

  it('reads a decimal ratio as written, not as its binary approximation', () => {
    expect(capacityOf({ total: 100, reserved: 0, allocationRatio: 1.15 })).toBe(115);
    expect(capacityOf({ total: 10, reserved: 0, allocationRatio: 1.1 })).toBe(11);
    expect(capacityOf({ total: 3, reserved: 0, allocationRatio: 0.1 })).toBe(0);
    expect(capacityOf({ total: 30, reserved: 0, allocationRatio: 0.1 })).toBe(3);
  });

  it.each([2 ** 50, 2 ** 53 - 1, 2 ** 53 - 2, 1234567890123456])('is exact for %d bytes at ratio 1', (total) => {
    expect(capacityOf({ total, reserved: 0, allocationRatio: 1 })).toBe(total);
  });

  it('subtracts reserved bytes exactly from a huge total', () => {
    expect(capacityOf({ total: 2 ** 53 - 1, reserved: 1, allocationRatio: 1 })).toBe(2 ** 53 - 2);
    expect(capacityOf({ total: 2 ** 50 + 3, reserved: 2 ** 30, allocationRatio: 1 })).toBe(2 ** 50 + 3 - 2 ** 30);
  });

  it('is exact for a huge total with a fractional ratio', () => {
    const usable = 2 ** 49 + 1;

    expect(capacityOf({ total: usable, reserved: 0, allocationRatio: 1.5 })).toBe((3 * 2 ** 49 + 2) / 2);
    expect(capacityOf({ total: 2 ** 53 - 1, reserved: 0, allocationRatio: 0.3 })).toBe(Number(((2n ** 53n - 1n) * 3n) / 10n));
  });

  it('is exact when the product passes 2^53', () => {
    expect(capacityOf({ total: 2 ** 52 + 1, reserved: 0, allocationRatio: 1.25 })).toBe(Number(((2n ** 52n + 1n) * 5n) / 4n));
  });

  it.each([
    [{ total: 10, reserved: 12, allocationRatio: 1 }],
    [{ total: 10, reserved: 10, allocationRatio: 4 }],
    [{ total: 10, reserved: 0, allocationRatio: 0 }],
    [{ total: 10, reserved: 0, allocationRatio: -1 }],
    [{ total: 10, reserved: 0, allocationRatio: NaN }],
    [{ total: 10, reserved: 0, allocationRatio: Infinity }],
  ])('is 0 for %p', (figures) => {
    expect(capacityOf(figures)).toBe(0);
  });

  it('falls back to float arithmetic for a ratio with no short decimal form', () => {
    expect(capacityOf({ total: 300, reserved: 0, allocationRatio: 1 / 3 })).toBe(Math.floor(300 * (1 / 3)));
  });
});

describe(inventoryFree.name, () => {
  it('is capacity − allocated, never below 0, and the host is over-committed where allocated exceeds capacity', () => {
    expect(inventoryFree({ ...inventory(), allocated: 30 })).toBe(70);
    expect(inventoryOvercommitted({ ...inventory(), allocated: 100 })).toBe(false);
    expect(inventoryFree({ ...inventory({ total: 0 }), allocated: 8 * 2 ** 30 })).toBe(0);
    expect(inventoryOvercommitted({ ...inventory({ total: 0 }), allocated: 8 * 2 ** 30 })).toBe(true);
  });
});

describe(measuredTotalReason.name, () => {
  it.each([
    ['vcpu', 64, null],
    ['vcpu', 100_000, 'vcpu total 100000 is beyond 16384'],
    ['memory', 2 ** 51, `memory total ${2 ** 51} is beyond ${2 ** 50}`],
    ['storage', 2 ** 53, `storage total ${2 ** 53} is not a whole amount below 2^53`],
    ['storage', 0, null],
    ['memory', 1.5, 'memory total 1.5 is not a whole amount below 2^53'],
  ] as const)('%s %d: %s', (resourceClass, total, reason) => {
    expect(measuredTotalReason(resourceClass, total)).toBe(reason);
  });
});

describe(validateInventory.name, () => {
  it('accepts a sound inventory', () => {
    expect(validateInventory({ total: 64, reserved: 4, allocationRatio: 4, minUnit: 1, maxUnit: 32, stepSize: 1 })).toEqual([]);
  });

  it('accepts absent bounds', () => {
    expect(validateInventory({ total: 0, reserved: 0, allocationRatio: 1, minUnit: null })).toEqual([]);
  });

  it.each<[Partial<InventoryFigures>, string[]]>([
    [{ total: -1 }, ['total must not be negative']],
    [{ total: 1.5 }, ['total must be a whole number']],
    [{ total: NaN }, ['total must be a finite number']],
    [{ total: 2 ** 53 }, ['total exceeds the largest supported amount (2^53-1)']],
    [{ reserved: -1 }, ['reserved must not be negative']],
    [{ reserved: 101 }, ['reserved (101) must not exceed total (100)']],
    [{ allocationRatio: 0 }, ['allocationRatio must be greater than 0']],
    [{ allocationRatio: -2 }, ['allocationRatio must be greater than 0']],
    [{ allocationRatio: NaN }, ['allocationRatio must be a finite number']],
    [{ allocationRatio: Infinity }, ['allocationRatio must be a finite number']],
    [{ allocationRatio: 1000.5 }, ['allocationRatio must not exceed 1000']],
    [{ minUnit: -1 }, ['minUnit must not be negative']],
    [{ maxUnit: 0.5 }, ['maxUnit must be a whole number']],
    [{ minUnit: 8, maxUnit: 4 }, ['minUnit (8) must not exceed maxUnit (4)']],
    [{ stepSize: 0 }, ['stepSize must be at least 1']],
    [{ stepSize: -3 }, ['stepSize must not be negative']],
    [
      { total: -1, allocationRatio: 0, stepSize: 1.5 },
      ['total must not be negative', 'stepSize must be a whole number', 'allocationRatio must be greater than 0'],
    ],
    [
      { reserved: 200, minUnit: 9, maxUnit: 3, stepSize: 0 },
      ['reserved (200) must not exceed total (100)', 'minUnit (9) must not exceed maxUnit (3)', 'stepSize must be at least 1'],
    ],
  ])('refuses %p', (figures, reasons) => {
    expect(validateInventory(inventory(figures))).toEqual(reasons);
  });

  it('accepts the largest allocation ratio', () => {
    expect(validateInventory(inventory({ allocationRatio: 1000 }))).toEqual([]);
  });
});

describe(checkUnitBounds.name, () => {
  const bounded = inventory({ minUnit: 2, maxUnit: 16, stepSize: 2 });

  it.each([2, 4, 16])('allows %d', (amount) => {
    expect(checkUnitBounds(bounded, amount)).toBeNull();
  });

  it('allows anything without bounds', () => {
    expect(checkUnitBounds(inventory({ minUnit: null, maxUnit: undefined }), 12345)).toBeNull();
  });

  it.each([
    [1, '1 is below the minimum of 2 per allocation'],
    [18, '18 is above the maximum of 16 per allocation'],
    [5, '5 is not a multiple of the step size 2'],
  ])('refuses %d: %s', (amount, reason) => {
    expect(checkUnitBounds(bounded, amount)).toBe(reason);
  });

  it('shows byte bounds in bytes', () => {
    const memory = inventory({ total: 2 ** 40, maxUnit: 2 ** 36, stepSize: 2 ** 30 });

    expect(checkUnitBounds(memory, 2 ** 37, 'bytes')).toBe('128 GiB is above the maximum of 64 GiB per allocation');
    expect(checkUnitBounds(memory, 2 ** 29, 'bytes')).toBe('512 MiB is not a multiple of the step size 1 GiB');
  });
});
