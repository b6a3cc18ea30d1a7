import {
  BUILTIN_RESOURCE_CLASSES,
  builtinUnitOf,
  defaultAllocationRatio,
  formatAmount,
  formatAmountOf,
  isBuiltinResourceClass,
  isValidResourceClassName,
  parseAmount,
} from './resources';

const GiB = 2 ** 30;

describe('BUILTIN_RESOURCE_CLASSES', () => {
  it('counts vcpu and measures memory and storage in bytes', () => {
    expect(BUILTIN_RESOURCE_CLASSES).toEqual({ vcpu: 'count', memory: 'bytes', storage: 'bytes' });
  });

  it('cannot be changed at run time', () => {
    expect(Object.isFrozen(BUILTIN_RESOURCE_CLASSES)).toBe(true);
  });
});

describe(isBuiltinResourceClass.name, () => {
  it.each(['vcpu', 'memory', 'storage'])('recognises %s', (name) => {
    expect(isBuiltinResourceClass(name)).toBe(true);
  });

  it.each(['custom_gpu', 'VCPU', 'constructor', ''])('rejects %p', (name) => {
    expect(isBuiltinResourceClass(name)).toBe(false);
  });
});

describe(isValidResourceClassName.name, () => {
  it.each(['vcpu', 'memory', 'storage', 'custom_gpu', 'custom_0', 'custom_fpga_v2', `custom_${'a'.repeat(40)}`])('accepts %s', (name) => {
    expect(isValidResourceClassName(name)).toBe(true);
  });

  it.each(['gpu', 'custom_', 'custom__gpu', 'custom_GPU', 'custom_gpu-1', 'CUSTOM_gpu', ' custom_gpu', `custom_${'a'.repeat(41)}`, 'constructor', ''])(
    'rejects %p',
    (name) => {
      expect(isValidResourceClassName(name)).toBe(false);
    },
  );
});

describe(builtinUnitOf.name, () => {
  it('gives the unit of a builtin class', () => {
    expect(builtinUnitOf('memory')).toBe('bytes');
    expect(builtinUnitOf('vcpu')).toBe('count');
  });

  it('knows nothing of custom classes', () => {
    expect(builtinUnitOf('custom_gpu')).toBeNull();
  });
});

describe(defaultAllocationRatio.name, () => {
  it.each([
    ['vcpu', 4],
    ['memory', 1],
    ['storage', 1],
    ['custom_gpu', 1],
  ])('is %s -> %d', (resourceClass, ratio) => {
    expect(defaultAllocationRatio(resourceClass)).toBe(ratio);
  });
});

describe(parseAmount.name, () => {
  describe('bytes', () => {
    it.each<[unknown, number]>([
      ['512GiB', 512 * GiB],
      ['512 GiB', 512 * GiB],
      ['2TB', 2e12],
      ['1.5 GiB', 1.5 * GiB],
      ['1.5GiB', 1_610_612_736],
      ['1.1TB', 1_100_000_000_000],
      ['8 B', 8],
      ['8B', 8],
      ['1KiB', 1024],
      ['1kB', 1000],
      ['1KB', 1000],
      ['3MB', 3e6],
      ['3MiB', 3 * 2 ** 20],
      ['4PiB', 4 * 2 ** 50],
      ['7PB', 7e15],
      ['9PB', 9e15],
      ['2TiB', 2 * 2 ** 40],
      ['1024', 1024],
      ['0', 0],
      ['0GiB', 0],
      ['007', 7],
      ['2.0', 2],
      ['0.5KiB', 512],
      [1024, 1024],
      [0, 0],
      [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
      [String(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER],
    ])('parses %p as %d', (input, expected) => {
      expect(parseAmount(input, 'bytes')).toEqual({ ok: true, value: expected });
    });

    it.each<[unknown, string]>([
      [-1, 'must not be negative'],
      ['-1', 'must not be negative'],
      ['-5GiB', 'must not be negative'],
      [1.5, 'must be a whole number of bytes'],
      ['0.5B', 'must be a whole number of bytes'],
      ['1.5', 'must be a whole number of bytes'],
      ['0.0001KiB', 'must be a whole number of bytes'],
      [NaN, 'must be a finite number'],
      [Infinity, 'must be a finite number'],
      [-Infinity, 'must be a finite number'],
      ['', 'must not be empty'],
      ['   ', 'must not be empty'],
      ['\t\n', 'must not be empty'],
      ['1e3', 'must be a whole number of bytes, optionally with a unit such as "512GiB" or "2TB"'],
      ['0x10', 'must be a whole number of bytes, optionally with a unit such as "512GiB" or "2TB"'],
      ['1  GiB', 'must be a whole number of bytes, optionally with a unit such as "512GiB" or "2TB"'],
      [' 1GiB', 'must be a whole number of bytes, optionally with a unit such as "512GiB" or "2TB"'],
      ['.5GiB', 'must be a whole number of bytes, optionally with a unit such as "512GiB" or "2TB"'],
      ['+5', 'must be a whole number of bytes, optionally with a unit such as "512GiB" or "2TB"'],
      ['Infinity', 'must be a whole number of bytes, optionally with a unit such as "512GiB" or "2TB"'],
      ['GiB', 'must be a whole number of bytes, optionally with a unit such as "512GiB" or "2TB"'],
      ['1XB', 'unknown unit suffix "XB"'],
      ['1e', 'unknown unit suffix "e"'],
      ['1gib', 'unknown unit suffix "gib"'],
      ['1Gb', 'unknown unit suffix "Gb"'],
      ['1constructor', 'unknown unit suffix "constructor"'],
      [true, 'must be a number of bytes or a string such as "512GiB"'],
      [null, 'must be a number of bytes or a string such as "512GiB"'],
      [undefined, 'must be a number of bytes or a string such as "512GiB"'],
      [{}, 'must be a number of bytes or a string such as "512GiB"'],
      [[1], 'must be a number of bytes or a string such as "512GiB"'],
      [BigInt(5), 'must be a number of bytes or a string such as "512GiB"'],
      [2 ** 53, 'exceeds the largest supported amount (2^53-1)'],
      ['9007199254740992', 'exceeds the largest supported amount (2^53-1)'],
      ['8EiB', 'exceeds the largest supported amount (2^53-1)'],
      ['10PB', 'exceeds the largest supported amount (2^53-1)'],
      ['1'.repeat(65), 'is too long to be an amount'],
    ])('refuses %p: %s', (input, reason) => {
      expect(parseAmount(input, 'bytes')).toEqual({ ok: false, reason });
    });
  });

  describe('count', () => {
    it.each<[unknown, number]>([
      [64, 64],
      ['64', 64],
      ['0', 0],
      [0, 0],
      [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
    ])('parses %p as %d', (input, expected) => {
      expect(parseAmount(input, 'count')).toEqual({ ok: true, value: expected });
    });

    it.each<[unknown, string]>([
      [-1, 'must not be negative'],
      ['-1', 'must not be negative'],
      [1.5, 'must be a whole number'],
      ['1.5', 'must be a whole number'],
      ['2.0', 'must be a whole number'],
      [NaN, 'must be a finite number'],
      [Infinity, 'must be a finite number'],
      ['', 'must not be empty'],
      [' ', 'must not be empty'],
      ['1e3', 'must be a whole number written in plain digits'],
      ['0x10', 'must be a whole number written in plain digits'],
      ['8GiB', 'must be a plain count, without a unit suffix'],
      ['8 B', 'must be a plain count, without a unit suffix'],
      [false, 'must be a whole number'],
      [null, 'must be a whole number'],
      [{ value: 1 }, 'must be a whole number'],
      [[], 'must be a whole number'],
      [2 ** 53, 'exceeds the largest supported amount (2^53-1)'],
      ['9007199254740992', 'exceeds the largest supported amount (2^53-1)'],
    ])('refuses %p: %s', (input, reason) => {
      expect(parseAmount(input, 'count')).toEqual({ ok: false, reason });
    });
  });
});

describe(formatAmount.name, () => {
  it.each([
    [0, '0 B'],
    [8, '8 B'],
    [1023, '1023 B'],
    [1024, '1 KiB'],
    [1536, '1.5 KiB'],
    [512 * GiB, '512 GiB'],
    [1.5 * 2 ** 40, '1.5 TiB'],
    [2e12, '1.82 TiB'],
    [2 ** 20 - 1, '1 MiB'],
    [4 * 2 ** 50, '4 PiB'],
    [Number.MAX_SAFE_INTEGER, '8 PiB'],
    [-2 * GiB, '-2 GiB'],
  ])('shows %d bytes as %s', (value, expected) => {
    expect(formatAmount(value, 'bytes')).toBe(expected);
  });

  it.each([
    [0, '0'],
    [64, '64'],
    [123456789, '123456789'],
    [0.25 * 3 * 2.03, '1.52'],
  ])('shows a count of %d as %s', (value, expected) => {
    expect(formatAmount(value, 'count')).toBe(expected);
  });
});

describe(formatAmountOf.name, () => {
  it('uses the unit of a builtin class', () => {
    expect(formatAmountOf('memory', 32 * GiB)).toBe('32 GiB');
    expect(formatAmountOf('vcpu', 2048)).toBe('2048');
  });

  it('shows a custom class as a plain number', () => {
    expect(formatAmountOf('custom_gpu', 2048)).toBe('2048');
  });
});
