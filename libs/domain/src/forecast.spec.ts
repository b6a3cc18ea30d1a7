import fc from 'fast-check';
import * as domain from '@dcm/domain';
import { DAY_MS, daysUntilFull, fitLine, fullAt, SeriesPoint, valueAt } from './forecast';

const NOW = Date.UTC(2026, 10, 23);
const daily = (values: number[], end = NOW): SeriesPoint[] => values.map((value, index) => ({ at: end - (values.length - 1 - index) * DAY_MS, value }));

describe(fitLine.name, () => {
  it('recovers an exact line', () => {
    const sut = fitLine(daily([10, 12, 14, 16, 18]));

    expect(sut).not.toBeNull();
    expect(sut!.slopePerDay).toBeCloseTo(2, 10);
    expect(valueAt(sut!, NOW)).toBeCloseTo(18, 10);
  });

  it('fits noisy points by least squares', () => {
    // y = 1, 3, 2, 5 at x = 0..3: slope = 5.5 / 5 = 1.1, intercept = 2.75 − 1.1 × 1.5 = 1.1
    const sut = fitLine(daily([1, 3, 2, 5]));

    expect(sut!.slopePerDay).toBeCloseTo(1.1, 10);
    expect(valueAt(sut!, NOW - 3 * DAY_MS)).toBeCloseTo(1.1, 10);
  });

  it('needs two distinct instants', () => {
    expect(fitLine([])).toBeNull();
    expect(fitLine([{ at: NOW, value: 1 }])).toBeNull();
    expect(
      fitLine([
        { at: NOW, value: 1 },
        { at: NOW, value: 5 },
      ]),
    ).toBeNull();
  });

  it('ignores points that are not finite numbers', () => {
    expect(
      fitLine([
        { at: NOW, value: Number.NaN },
        { at: NOW + DAY_MS, value: 2 },
      ]),
    ).toBeNull();
  });
});

describe(daysUntilFull.name, () => {
  it('projects a steady growth to capacity', () => {
    expect(daysUntilFull(daily([100, 110, 120, 130]), 200, NOW)).toBeCloseTo(7, 10);
  });

  it('counts from now, not from the last point', () => {
    expect(daysUntilFull(daily([100, 110, 120, 130], NOW - 2 * DAY_MS), 200, NOW)).toBeCloseTo(5, 10);
  });

  it('is 0 once the line has reached capacity', () => {
    expect(daysUntilFull(daily([100, 150, 200, 250]), 200, NOW)).toBe(0);
  });

  it('is null when nothing grows, or there is nothing to fill', () => {
    expect(daysUntilFull(daily([5, 5, 5]), 100, NOW)).toBeNull();
    expect(daysUntilFull(daily([9, 7, 5]), 100, NOW)).toBeNull();
    expect(daysUntilFull(daily([5]), 100, NOW)).toBeNull();
    expect(daysUntilFull(daily([1, 2, 3]), 0, NOW)).toBeNull();
  });

  it('is exported from the domain', () => {
    expect(typeof domain.daysUntilFull).toBe('function');
    expect(typeof domain.fitLine).toBe('function');
  });

  const line = fc.record({
    intercept: fc.integer({ min: 0, max: 1_000_000 }),
    slope: fc.double({ min: 0.01, max: 10_000, noNaN: true }),
    points: fc.integer({ min: 2, max: 200 }),
    stepMinutes: fc.integer({ min: 1, max: 24 * 60 }),
    headroom: fc.integer({ min: 1, max: 10_000_000 }),
  });

  it('puts capacity exactly where the line of any growing series meets it', () => {
    fc.assert(
      fc.property(line, ({ intercept, slope, points, stepMinutes, headroom }) => {
        const step = stepMinutes * 60_000;
        // The series must be able to show its growth: a rise of 7e-6 on 131,072 (found by fast-check) is already blurred
        // by the doubles that hold the values, before any fitting, so no fit could meet 1e-6 from those inputs.
        fc.pre(slope * (((points - 1) * step) / DAY_MS) > Math.max(1, intercept) * 1e-8);
        const series = Array.from({ length: points }, (_, index) => ({
          at: NOW - (points - 1 - index) * step,
          value: intercept + (slope * (index * step)) / DAY_MS,
        }));
        const last = series[series.length - 1].value;
        const days = daysUntilFull(series, last + headroom, NOW);
        expect(days).not.toBeNull();
        const expected = headroom / slope;
        expect(Math.abs(days! - expected) / expected).toBeLessThan(1e-6);
      }),
    );
  });

  it('never forecasts a series that does not grow', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1e9 }), { minLength: 2, maxLength: 100 }), fc.integer({ min: 1, max: 1e12 }), (values, capacity) => {
        const falling = [...values].sort((a, b) => b - a);
        expect(daysUntilFull(daily(falling), capacity, NOW)).toBeNull();
      }),
    );
  });

  it('gives more time to more capacity, and never a negative number of days', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1e6 }), { minLength: 2, maxLength: 50 }),
        fc.integer({ min: 1, max: 1e7 }),
        fc.integer({ min: 1, max: 1e7 }),
        (values, capacity, more) => {
          const fewer = daysUntilFull(daily(values), capacity, NOW);
          const later = daysUntilFull(daily(values), capacity + more, NOW);
          expect(fewer === null).toBe(later === null);
          if (fewer !== null && later !== null) {
            expect(fewer).toBeGreaterThanOrEqual(0);
            expect(later).toBeGreaterThanOrEqual(fewer);
          }
        },
      ),
    );
  });

  it('does not depend on when the series was taken, only on its shape', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1e6 }), { minLength: 2, maxLength: 50 }), fc.integer({ min: 0, max: 3650 }), (values, shiftDays) => {
        const shift = shiftDays * DAY_MS;
        const here = daysUntilFull(daily(values), 2e6, NOW);
        const there = daysUntilFull(daily(values, NOW + shift), 2e6, NOW + shift);
        if (here === null) expect(there).toBeNull();
        else expect(there).toBeCloseTo(here, 6);
      }),
    );
  });
});

describe(fullAt.name, () => {
  it('is the instant the line reaches capacity', () => {
    expect(fullAt(daily([100, 110, 120, 130]), 200, NOW)).toBe(NOW + 7 * DAY_MS);
  });

  it('is now once the line has reached capacity, and null when nothing grows', () => {
    expect(fullAt(daily([100, 150, 200, 250]), 200, NOW)).toBe(NOW);
    expect(fullAt(daily([5, 5, 5]), 100, NOW)).toBeNull();
    expect(typeof domain.fullAt).toBe('function');
  });

  it('is now plus the days until full, never before now, for any series', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1e6 }), { minLength: 2, maxLength: 50 }), fc.integer({ min: 1, max: 1e7 }), (values, capacity) => {
        const days = daysUntilFull(daily(values), capacity, NOW);
        const sut = fullAt(daily(values), capacity, NOW);
        if (days === null || !Number.isSafeInteger(Math.round(NOW + days * DAY_MS))) return expect(sut).toBeNull();
        expect(sut).toBe(Math.round(NOW + days * DAY_MS));
        expect(sut).toBeGreaterThanOrEqual(NOW);
      }),
    );
  });
});
