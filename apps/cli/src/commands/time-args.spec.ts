import { InvalidArgumentError } from 'commander';
import { duration, durationMs, instant, instantOrAgo, isoInstant } from './time-args';

describe('time arguments', () => {
  it('reads durations in minutes, hours, days and weeks', () => {
    expect(durationMs('90m')).toBe(90 * 60_000);
    expect(duration('72h')).toBe(72 * 3_600_000);
    expect(durationMs('2w')).toBe(14 * 86_400_000);
    expect(durationMs('0d')).toBeNull();
    expect(() => duration('3 days')).toThrow(InvalidArgumentError);
  });

  it('takes dates and date-times with a zone, never a local time or an impossible date', () => {
    expect(instant('2026-10-01')).toBe('2026-10-01');
    expect(isoInstant('2026-12-01T18:00:00+01:00')).toBe('2026-12-01T17:00:00.000Z');
    expect(isoInstant('2026-12-01')).toBe('2026-12-01T00:00:00.000Z');
    expect(() => instant('2026-10-01T09:00')).toThrow(InvalidArgumentError);
    expect(() => instant('2026-02-30')).toThrow(InvalidArgumentError);
  });

  it('counts a duration back from now', () => {
    const sut = instantOrAgo(() => new Date('2026-11-23T12:00:00Z'));
    expect(sut('36h')).toBe('2026-11-22T00:00:00.000Z');
    expect(sut('2026-11-01')).toBe('2026-11-01T00:00:00.000Z');
    expect(() => sut('yesterday')).toThrow(InvalidArgumentError);
  });
});
