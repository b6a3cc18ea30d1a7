import { UsageError } from '../cli-config';
import { showbackPeriod } from './reports.command';

describe(showbackPeriod.name, () => {
  const now = new Date('2026-11-23T12:00:00Z');

  it('covers a calendar month in UTC, across the turn of a year', () => {
    expect(showbackPeriod({ month: '2026-10' }, now)).toEqual({ from: '2026-10-01', to: '2026-11-01' });
    expect(showbackPeriod({ month: '2026-12' }, now)).toEqual({ from: '2026-12-01', to: '2027-01-01' });
  });

  it('defaults to the current month', () => {
    expect(showbackPeriod({}, now)).toEqual({ from: '2026-11-01', to: '2026-12-01' });
  });

  it('takes --from and --to together only', () => {
    expect(showbackPeriod({ from: '2026-10-01', to: '2026-10-08T00:00:00Z' }, now)).toEqual({ from: '2026-10-01', to: '2026-10-08T00:00:00Z' });
    expect(() => showbackPeriod({ from: '2026-10-01' }, now)).toThrow(UsageError);
  });
});
