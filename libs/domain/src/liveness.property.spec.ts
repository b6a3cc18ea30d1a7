import fc from 'fast-check';
import { DOWN_AFTER_INTERVALS, HostLiveness, livenessAfterSilence, measuredUseSince, silenceThresholds, STALE_AFTER_INTERVALS } from './liveness';

const RANK: Record<HostLiveness, number> = { up: 0, stale: 1, down: 2 };
const interval = fc.integer({ min: 1, max: 3600 });
const instant = fc.integer({ min: 1_000_000_000_000, max: 4_000_000_000_000 });
const silence = fc.integer({ min: 0, max: 400 * 3600 * 1000 });

describe('host liveness', () => {
  it('a longer silence never makes a host livelier', () => {
    fc.assert(
      fc.property(interval, instant, silence, silence, (reportIntervalSeconds, now, a, b) => {
        const [shorter, longer] = a <= b ? [a, b] : [b, a];
        const timing = { reportIntervalSeconds };
        expect(RANK[livenessAfterSilence(now - longer, now, timing)]).toBeGreaterThanOrEqual(RANK[livenessAfterSilence(now - shorter, now, timing)]);
      }),
    );
  });

  it('is up within 3 intervals, stale past them, down past 10', () => {
    fc.assert(
      fc.property(interval, instant, silence, (reportIntervalSeconds, now, silent) => {
        const ms = reportIntervalSeconds * 1000;
        const expected: HostLiveness = silent > DOWN_AFTER_INTERVALS * ms ? 'down' : silent > STALE_AFTER_INTERVALS * ms ? 'stale' : 'up';
        expect(livenessAfterSilence(now - silent, now, { reportIntervalSeconds })).toBe(expected);
      }),
    );
  });

  it('thresholds: down comes before stale, and both before now', () => {
    fc.assert(
      fc.property(interval, instant, (reportIntervalSeconds, now) => {
        const { staleBefore, downBefore } = silenceThresholds(now, { reportIntervalSeconds });
        expect(downBefore).toBeLessThan(staleBefore);
        expect(staleBefore).toBeLessThan(now);
      }),
    );
  });

  it('measured use counts every sample of a host that is not yet down', () => {
    fc.assert(
      fc.property(interval, instant, (reportIntervalSeconds, now) => {
        const timing = { reportIntervalSeconds };
        const { downBefore } = silenceThresholds(now, timing);
        expect(measuredUseSince(new Date(now), timing).getTime()).toBeLessThan(downBefore);
        expect(livenessAfterSilence(downBefore, now, timing)).not.toBe('down');
      }),
    );
  });
});
