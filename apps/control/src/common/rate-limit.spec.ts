import { hashSecret } from './bearer';
import { addressKey, RateLimitCounters, RateLimitKeys, TokenVerifier } from './rate-limit';

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

describe(RateLimitKeys.name, () => {
  const REAL = hashSecret('dcm_real-token');
  const verifier = (): TokenVerifier => ({
    verifiedFromCache: () => false,
    authenticateHash: (secretHash) => (secretHash === REAL ? Promise.resolve({}) : Promise.reject(new Error('unknown'))),
  });

  it('keys a real token by its hash, never the token itself; anything else by address', async () => {
    const sut = new RateLimitKeys(verifier(), new RateLimitCounters(100));

    await expect(sut.keyOf(REAL, '10.0.0.1')).resolves.toBe(`token:${REAL}`);
    await expect(sut.keyOf(hashSecret('dcm_made-up'), '10.0.0.1')).resolves.toBe('ip:10.0.0.1');
    await expect(sut.keyOf(null, '10.0.0.1')).resolves.toBe('ip:10.0.0.1');
  });

  it('keys every address of one IPv6 /64 alike, and an IPv4-mapped address as the IPv4 one', async () => {
    const sut = new RateLimitKeys(verifier(), new RateLimitCounters(100));

    await expect(sut.keyOf(null, '2001:db8:1:2:aaaa::1')).resolves.toBe('ip:2001:db8:1:2::/64');
    await expect(sut.keyOf(hashSecret('dcm_made-up'), '2001:0db8:0001:0002:ffff:ffff:ffff:fffe')).resolves.toBe('ip:2001:db8:1:2::/64');
    await expect(sut.keyOf(null, '2001:db8:1:3::1')).resolves.toBe('ip:2001:db8:1:3::/64');
    await expect(sut.keyOf(null, '::ffff:192.0.2.7')).resolves.toBe('ip:192.0.2.7');
    expect(addressKey('fe80::1%eth0')).toBe('ip:fe80:0:0:0::/64');
    expect(addressKey('')).toBe('ip:');
  });

  it('counts the addresses of one /64 against one limit', () => {
    const counters = new RateLimitCounters(2);
    const start = 1_000_000;
    const taken = ['2001:db8::1', '2001:db8::2', '2001:db8::3:4'].map((address, i) => counters.take(addressKey(address), start + i).exceeded);

    expect(taken).toEqual([false, false, true]);
  });

  it('looks up no token for an address over its limit, and holds a place for each look-up in flight', async () => {
    const counters = new RateLimitCounters(3);
    const inFlight: (() => void)[] = [];
    const sut = new RateLimitKeys(
      {
        verifiedFromCache: () => false,
        authenticateHash: () => new Promise((_resolve, reject) => inFlight.push(() => reject(new Error('unknown')))),
      },
      counters,
    );

    // Ten in parallel from one address: three look-ups hold the three places, the rest are keyed without one.
    const keys = Array.from({ length: 10 }, (_, i) => sut.keyOf(hashSecret(`dcm_random-${i}`), '10.0.0.9'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(inFlight).toHaveLength(3);
    inFlight.forEach((unknown) => unknown());
    expect(new Set(await Promise.all(keys))).toEqual(new Set(['ip:10.0.0.9']));
    expect(inFlight).toHaveLength(3);
  });
});

describe('RateLimitCounters under a flood of addresses', () => {
  it("never forgets a real token's count", () => {
    const sut = new RateLimitCounters(3);
    const start = 1_000_000;
    sut.take('token:real', start);
    sut.take('token:real', start);
    for (let i = 0; i < 60_000; i++) sut.take(`ip:10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, start + 1);

    expect(sut.take('token:real', start + 2).exceeded).toBe(false);
    expect(sut.take('token:real', start + 3).exceeded).toBe(true);
  });
});
