export type ResourceUnit = 'count' | 'bytes';
export type BuiltinResourceClass = 'vcpu' | 'memory' | 'storage';
export type ResourceAmounts = Record<string, number>;
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

export const BUILTIN_RESOURCE_CLASSES: Readonly<Record<BuiltinResourceClass, ResourceUnit>> = Object.freeze({
  vcpu: 'count',
  memory: 'bytes',
  storage: 'bytes',
});

const CUSTOM_RESOURCE_CLASS_NAME = /^custom_[a-z0-9][a-z0-9_]{0,39}$/;

export function isBuiltinResourceClass(name: string): name is BuiltinResourceClass {
  return Object.hasOwn(BUILTIN_RESOURCE_CLASSES, name);
}

export function isValidResourceClassName(name: string): boolean {
  return isBuiltinResourceClass(name) || CUSTOM_RESOURCE_CLASS_NAME.test(name);
}

export function builtinUnitOf(resourceClass: string): ResourceUnit | null {
  return isBuiltinResourceClass(resourceClass) ? BUILTIN_RESOURCE_CLASSES[resourceClass] : null;
}

export function defaultAllocationRatio(resourceClass: string): number {
  // vCPUs idle most of the time and can be shared; memory and storage are handed out as they are.
  return resourceClass === 'vcpu' ? 4 : 1;
}

const TOO_LARGE = 'exceeds the largest supported amount (2^53-1)';
// Refusing longer texts outright bounds the BigInt work an API caller can cause.
const MAX_AMOUNT_TEXT_LENGTH = 64;
const AMOUNT_TEXT = /^(\d+)(?:\.(\d+))?(?: ?([A-Za-z]+))?$/;

const BYTES_PER_SUFFIX: ReadonlyMap<string, bigint> = new Map([
  ['B', 1n],
  ['kB', 10n ** 3n],
  ['KB', 10n ** 3n],
  ['MB', 10n ** 6n],
  ['GB', 10n ** 9n],
  ['TB', 10n ** 12n],
  ['PB', 10n ** 15n],
  ['EB', 10n ** 18n],
  ['KiB', 2n ** 10n],
  ['MiB', 2n ** 20n],
  ['GiB', 2n ** 30n],
  ['TiB', 2n ** 40n],
  ['PiB', 2n ** 50n],
  ['EiB', 2n ** 60n],
]);

export function parseAmount(input: unknown, unit: ResourceUnit): Parsed<number> {
  if (typeof input === 'number') return parseNumber(input, unit);
  if (typeof input === 'string') return parseText(input, unit);
  return refuse(unit === 'bytes' ? 'must be a number of bytes or a string such as "512GiB"' : 'must be a whole number');
}

function parseNumber(value: number, unit: ResourceUnit): Parsed<number> {
  if (!Number.isFinite(value)) return refuse('must be a finite number');
  if (value < 0) return refuse('must not be negative');
  if (!Number.isInteger(value)) return refuse(wholeNumberReason(unit));
  if (value > Number.MAX_SAFE_INTEGER) return refuse(TOO_LARGE);
  return { ok: true, value };
}

function parseText(text: string, unit: ResourceUnit): Parsed<number> {
  if (text.trim() === '') return refuse('must not be empty');
  if (text.startsWith('-')) return refuse('must not be negative');
  if (text.length > MAX_AMOUNT_TEXT_LENGTH) return refuse('is too long to be an amount');
  const match = AMOUNT_TEXT.exec(text);
  if (!match) return refuse(malformedTextReason(unit));
  const [, whole, fraction = '', suffix] = match;
  if (unit === 'count' && suffix !== undefined) return refuse('must be a plain count, without a unit suffix');
  if (unit === 'count' && fraction !== '') return refuse('must be a whole number');
  const multiplier = suffix === undefined ? 1n : BYTES_PER_SUFFIX.get(suffix);
  if (multiplier === undefined) return refuse(`unknown unit suffix "${suffix}"`);
  // Exact decimal arithmetic: "1.1TB" must be 1100000000000 bytes, not a float's approximation of it.
  const scaledBytes = BigInt(whole + fraction) * multiplier;
  const scale = 10n ** BigInt(fraction.length);
  if (scaledBytes % scale !== 0n) return refuse(wholeNumberReason(unit));
  const amount = scaledBytes / scale;
  if (amount > BigInt(Number.MAX_SAFE_INTEGER)) return refuse(TOO_LARGE);
  return { ok: true, value: Number(amount) };
}

function wholeNumberReason(unit: ResourceUnit): string {
  return unit === 'bytes' ? 'must be a whole number of bytes' : 'must be a whole number';
}

function malformedTextReason(unit: ResourceUnit): string {
  return unit === 'bytes'
    ? 'must be a whole number of bytes, optionally with a unit such as "512GiB" or "2TB"'
    : 'must be a whole number written in plain digits';
}

function refuse(reason: string): Parsed<never> {
  return { ok: false, reason };
}

const IEC_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const;

export function formatAmount(value: number, unit: ResourceUnit): string {
  // A measured count (vCPU busy = usage ratio × cores) has a fraction: hundredths are enough to read.
  if (unit === 'count') return String(Number.isInteger(value) ? value : roundToHundredths(value));
  const sign = value < 0 ? '-' : '';
  const magnitude = Math.abs(value);
  let power = 0;
  while (power < IEC_UNITS.length - 1 && magnitude >= 1024 ** (power + 1)) power++;
  let shown = roundToHundredths(magnitude / 1024 ** power);
  // 1048575 bytes would otherwise read "1024 KiB".
  if (shown >= 1024 && power < IEC_UNITS.length - 1) shown = roundToHundredths(magnitude / 1024 ** ++power);
  return `${sign}${shown} ${IEC_UNITS[power]}`;
}

function roundToHundredths(value: number): number {
  return Math.round(value * 100) / 100;
}

/** An amount of a class, for reasons; a custom class's unit is declared elsewhere, so it shows as a plain number. */
export function formatAmountOf(resourceClass: string, value: number): string {
  return formatAmount(value, builtinUnitOf(resourceClass) ?? 'count');
}
