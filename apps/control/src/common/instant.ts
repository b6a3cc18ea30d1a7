/** A date (midnight UTC) or a date-time with a zone: a report period must not depend on the server's time zone. */
export const INSTANT_PATTERN = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** Epoch ms of an ISO 8601 date or date-time (as INSTANT_PATTERN accepts), or NaN; Date.parse alone would take 2026-02-30 as 2 March. */
export function parseInstant(text: string): number {
  const [year, month, day] = text.slice(0, 10).split('-').map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return Number.NaN;
  return Date.parse(text);
}
