import { registerDecorator, ValidateIf, ValidationOptions } from 'class-validator';

const MAX_MAP_ENTRIES = 64;

/**
 * Characters no name, contact, label or description may hold: control characters (NUL, newlines, terminal escapes),
 * line and paragraph separators, lone surrogates, and the bidirectional overrides and isolates that make text read
 * differently from what it is. Letters of any script (Welsh ŵ and ŷ included) are fine.
 */
const UNSAFE_TEXT = /[\p{Cc}\p{Cs}\p{Zl}\p{Zp}\u202A-\u202E\u2066-\u2069]/u;

export function isSafeText(value: unknown): value is string {
  return typeof value === 'string' && !UNSAFE_TEXT.test(value);
}

/** Single-line printable text (see UNSAFE_TEXT); with `blank: false`, also not only spaces. */
export function IsSafeText(options: { blank?: boolean } & ValidationOptions = {}) {
  const { blank = true, ...validationOptions } = options;
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isSafeText',
      target: target.constructor,
      propertyName,
      options: {
        message: `${propertyName} must be single-line text without control characters${blank ? '' : ', and not only spaces'}`,
        ...validationOptions,
      },
      // An empty string is left to @MinLength, so that it gets one message rather than two.
      validator: { validate: (value: unknown) => isSafeText(value) && (blank || value === '' || value.trim() !== '') },
    });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

/** An amount as sent by clients: an integer, or a string such as "512GiB"; units are checked by the service. */
export function IsAmountInput(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isAmountInput',
      target: target.constructor,
      propertyName,
      options: { message: `${propertyName} must be an integer or a string such as "512GiB"`, ...options },
      validator: {
        validate: (value: unknown) =>
          (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && value.length > 0 && value.length <= 32),
      },
    });
}

/** A map of resource class to amount; the classes and amounts are checked by ResourceClassesService. */
export function IsResourceMap(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isResourceMap',
      target: target.constructor,
      propertyName,
      options: { message: `${propertyName} must be an object mapping resource classes to amounts (at most ${MAX_MAP_ENTRIES})`, ...options },
      validator: {
        validate: (value: unknown) => isPlainObject(value) && Object.keys(value).length <= MAX_MAP_ENTRIES,
      },
    });
}

/** Labels: at most 32 string keys (1–63 chars) with string values (≤ 255 chars). */
export function IsLabels(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isLabels',
      target: target.constructor,
      propertyName,
      options: {
        message: `${propertyName} must map at most 32 keys of [A-Za-z0-9._/-]{1,63} to single-line strings of at most 255 characters`,
        ...options,
      },
      validator: {
        validate: (value: unknown) =>
          isPlainObject(value) &&
          Object.keys(value).length <= 32 &&
          Object.entries(value).every(([key, label]) => /^[A-Za-z0-9._/-]{1,63}$/.test(key) && isSafeText(label) && label.length <= 255),
      },
    });
}

/** May be left out, but not sent as null (unlike @IsOptional, which lets null through to NOT NULL columns). */
export const OptionalNotNull = () => ValidateIf((_object: object, value: unknown) => value !== undefined);
