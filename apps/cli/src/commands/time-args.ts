import { InvalidArgumentError } from 'commander';

/** A date (midnight UTC) or a date-time with a zone, as control takes them: never the local time of whoever types it. */
const INSTANT_PATTERN = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const DURATION_PATTERN = /^([1-9]\d{0,5})([mhdw])$/;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** Epoch ms of an ISO 8601 date or date-time with a zone, or NaN; checks the calendar date, which Date.parse would roll over. */
function parseInstant(text: string): number {
  if (!INSTANT_PATTERN.test(text)) return Number.NaN;
  const [year, month, day] = text.slice(0, 10).split('-').map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return Number.NaN;
  return Date.parse(text);
}

/** Milliseconds of a duration such as 90m, 72h, 7d or 2w, or null. */
export function durationMs(text: string): number | null {
  const match = DURATION_PATTERN.exec(text);
  return match ? Number(match[1]) * UNIT_MS[match[2]] : null;
}

/** Option parser: an ISO 8601 date or date-time with a zone, passed on as typed. */
export function instant(value: string): string {
  if (Number.isNaN(parseInstant(value)))
    throw new InvalidArgumentError('must be a date such as 2026-10-01 or a date-time with a zone such as 2026-10-01T09:00:00Z');
  return value;
}

/** Option parser: an instant, or a duration back from now (`24h` = 24 hours ago); answers an ISO date-time. */
export function instantOrAgo(now: () => Date): (value: string) => string {
  return (value) => {
    const ago = durationMs(value);
    if (ago !== null) return new Date(now().getTime() - ago).toISOString();
    const at = parseInstant(value);
    if (Number.isNaN(at))
      throw new InvalidArgumentError('must be a duration back from now (90m, 24h, 7d, 2w) or a date / date-time with a zone such as 2026-11-01T09:00:00Z');
    return new Date(at).toISOString();
  };
}

/** Option parser: a duration (90m, 72h, 7d, 2w) in milliseconds. */
export function duration(value: string): number {
  const ms = durationMs(value);
  if (ms === null) throw new InvalidArgumentError('must be a duration such as 90m, 72h, 7d or 2w');
  return ms;
}

/** Option parser: an instant as a full ISO date-time (a date alone is midnight UTC). */
export function isoInstant(value: string): string {
  return new Date(parseInstant(instant(value))).toISOString();
}
