import { DEFAULT_WARNING_RATIO, quotaState } from './enforcement';

describe(quotaState.name, () => {
  it('warns from 90 % of the limit by default', () => {
    expect(DEFAULT_WARNING_RATIO).toBe(0.9);
  });

  it.each([
    [{ limit: 100, allocated: 0, used: null }, 'ok'],
    [{ limit: 100, allocated: 89, used: null }, 'ok'],
    [{ limit: 100, allocated: 90, used: null }, 'warning'],
    [{ limit: 100, allocated: 100, used: null }, 'warning'],
    [{ limit: 100, allocated: 101, used: null }, 'over'],
    [{ limit: 100, allocated: 10, used: 89 }, 'ok'],
    [{ limit: 100, allocated: 10, used: 90 }, 'warning'],
    [{ limit: 100, allocated: 10, used: 101 }, 'over'],
    [{ limit: 100, allocated: 101, used: 5 }, 'over'],
    [{ limit: 10, allocated: 9, used: null }, 'warning'],
    [{ limit: 10, allocated: 8, used: 0 }, 'ok'],
    [{ limit: 0, allocated: 0, used: null }, 'ok'],
    [{ limit: 0, allocated: 0, used: 0 }, 'ok'],
    [{ limit: 0, allocated: 1, used: null }, 'over'],
    [{ limit: 0, allocated: 0, used: 1 }, 'over'],
  ])('%p is %s', (position, expected) => {
    expect(quotaState(position)).toBe(expected);
  });

  it('warns at exactly 90 % of any limit', () => {
    for (let limit = 10; limit <= 10_000; limit += 10) {
      expect(quotaState({ limit, allocated: (limit / 10) * 9, used: null })).toBe('warning');
      expect(quotaState({ limit, allocated: (limit / 10) * 9 - 1, used: null })).toBe('ok');
    }
  });

  it('takes a custom warning ratio', () => {
    expect(quotaState({ limit: 100, allocated: 75, used: null }, 0.75)).toBe('warning');
    expect(quotaState({ limit: 100, allocated: 74, used: null }, 0.75)).toBe('ok');
  });

  it('handles byte limits near the largest supported amount', () => {
    const limit = Number.MAX_SAFE_INTEGER;

    expect(quotaState({ limit, allocated: limit, used: null })).toBe('warning');
    expect(quotaState({ limit, allocated: 0, used: limit + 1 })).toBe('over');
  });
});
