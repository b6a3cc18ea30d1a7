import { RateLimitCounters, rateLimitKeyOf } from './rate-limit';

describe(RateLimitCounters.name, () => {
  it('allows perMinute requests a key in a one-minute window, then refuses until the window ends', () => {
    const sut = new RateLimitCounters(3);
    const start = 1_000_000;
    expect([0, 1, 2].map((i) => sut.take('token:a', start + i).exceeded)).toEqual([false, false, false]);
    expect(sut.take('token:a', start + 30_000)).toEqual({ exceeded: true, retryAfterSeconds: 30 });
    expect(sut.take('token:b', start + 30_000).exceeded).toBe(false);
    expect(sut.take('token:a', start + 60_000).exceeded).toBe(false);
  });

  it('serves @fastify/rate-limit as its store, counting in the same windows as take()', () => {
    const sut = new RateLimitCounters(2);
    const Store = sut.asStore();
    const store = new Store({});
    const seen: number[] = [];
    store.incr('token:c', (_error, state) => seen.push(state!.current), 60_000, 2);
    sut.take('token:c');
    store.child({} as never).incr('token:c', (_error, state) => seen.push(state!.current), 60_000, 2);
    expect(seen).toEqual([1, 3]);
    expect(new Store({})).toBe(store);
  });

  it('is a 429 RateLimited problem over the limit', () => {
    expect(new RateLimitCounters(5).problem(12).toProblem()).toMatchObject({ status: 429, code: 'RateLimited', limit: 5, retryAfterSeconds: 12 });
  });
});

describe(rateLimitKeyOf.name, () => {
  it('keys by a hash of the bearer token, never the token itself, and by address without one', () => {
    const key = rateLimitKeyOf('Bearer dcm_secret-value', '10.0.0.1');
    expect(key).toMatch(/^token:[0-9a-f]{64}$/);
    expect(key).not.toContain('dcm_secret-value');
    expect(rateLimitKeyOf(undefined, '10.0.0.1')).toBe('ip:10.0.0.1');
  });
});
