import { ValueTransformer } from 'typeorm';

/** PostgreSQL returns int8 as a string; amounts are bounded by 2^53 at the API, so numbers are exact. */
export const bigintNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? value : Number(value)),
};

/** Instants are stored as epoch milliseconds: portable across SQLite and PostgreSQL, immune to server time zones. */
export const epochMillis: ValueTransformer = {
  to: (value: Date | null | undefined) => (value instanceof Date ? value.getTime() : value),
  from: (value: string | number | null) => (value === null || value === undefined ? null : new Date(Number(value))),
};

/** Structured values (labels, facts, reports) as JSON text: the same column type on SQLite and PostgreSQL. */
export function jsonText<T>(fallback: T): ValueTransformer {
  return {
    to: (value: T | null | undefined) => JSON.stringify(value ?? fallback),
    from: (value: string | null) => (value === null ? fallback : (JSON.parse(value) as T)),
  };
}
