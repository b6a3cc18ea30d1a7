import { HttpStatus } from '@nestjs/common';
import { NestFastifyApplication, RouteConfig } from '@nestjs/platform-fastify';
import fastifyRateLimit, { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import ipaddr from 'ipaddr.js';
import { bearerToken, hashSecret, sessionTokenHash } from './bearer';
import { ProblemException } from './problem';

/** Room for the counters of this many client addresses; the least recently counted one is forgotten first when full. */
const ADDRESS_KEYS = 50_000;
const WINDOW_MS = 60_000;

/** What a request is counted against, as decided per request by RateLimitKeys. */
export type RateLimitKey = `token:${string}` | `ip:${string}`;

/** The part of authentication the key needs: whether a token (known by its hash, see hashSecret) is a real one. */
export interface TokenVerifier {
  /** Whether the token verified recently (no database look-up). */
  verifiedFromCache(secretHash: string): boolean;
  /** Resolves to the principal of a real token; rejects for an unknown, revoked or expired one. */
  authenticateHash(secretHash: string): Promise<unknown>;
}

/**
 * The counter of a client address: an IPv4 address (also one written IPv4-mapped, `::ffff:192.0.2.1`) on its own, an
 * IPv6 address by its /64, the block one machine or one customer line is given, so that its 2^64 addresses count as one.
 */
export function addressKey(address: string): `ip:${string}` {
  if (!ipaddr.isValid(address)) return `ip:${address}`;
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return `ip:${parsed.toString()}`;
  const prefix = (parsed as ipaddr.IPv6).parts.slice(0, 4).map((part) => part.toString(16));
  return `ip:${prefix.join(':')}::/64`;
}

/**
 * Whom a request is counted against. A token that verifies (a real one) has its own counter, whatever else comes from
 * its address; anything else — no bearer, an unknown, revoked or expired one — is counted against the client's
 * address (see addressKey), so that a fresh random bearer per request gains nothing. Verifying costs a cache hit for a
 * token in use, else one look-up by unique index (as authentication would make; a bearer refused in the last minute
 * is remembered, see TokensService), and that look-up is made only while the address is within its limit, holding a
 * place under it meanwhile: a flood of unknown bearers from one address, in sequence or in parallel, costs at most the
 * limit's worth of look-ups a minute, and is refused without any beyond. (A real token that is not cached — after a
 * restart, or a revocation anywhere, which empties the cache — is refused too while its address is over the limit.)
 * Only a hash of a token is ever a key, so the counters never hold a usable secret.
 */
export class RateLimitKeys {
  constructor(
    private readonly tokens: TokenVerifier,
    private readonly counters: RateLimitCounters,
  ) {}

  /**
   * The key of a token that verified recently, decided at once (no promise: every agent report asks), or null when
   * keyOf must decide.
   */
  cachedKeyOf(secretHash: string | null): RateLimitKey | null {
    return secretHash !== null && this.tokens.verifiedFromCache(secretHash) ? `token:${secretHash}` : null;
  }

  async keyOf(secretHash: string | null, address: string): Promise<RateLimitKey> {
    // A cached token first: the usual request (every agent report) needs no address key, which costs a parse.
    const cached = this.cachedKeyOf(secretHash);
    if (cached !== null) return cached;
    const byAddress = addressKey(address);
    if (secretHash === null) return byAddress;
    const held = this.counters.hold(byAddress);
    try {
      if (held.exceeded) return byAddress;
      const real = await this.tokens.authenticateHash(secretHash).then(
        () => true,
        () => false,
      );
      return real ? `token:${secretHash}` : byAddress;
    } finally {
      held.release();
    }
  }

  /**
   * @fastify/rate-limit's keyGenerator: the request's bearer token, hashed (or, on a web console page, its session's),
   * and the client's address (see trustProxy). A console user is counted as their token, not as their office's address.
   */
  keyGenerator = (request: FastifyRequest): Promise<RateLimitKey> => {
    const token = bearerToken(request.headers.authorization);
    return this.keyOf(token === null ? sessionTokenHash(request) : hashSecret(token), request.ip);
  };
}

interface Counter {
  current: number;
  ttl: number;
  windowStart: number;
}

/**
 * Requests per key in fixed one-minute windows. One per process, shared by @fastify/rate-limit (as its store) and the
 * agent-report fast path, so that a key's requests count against one limit whichever way they are served. Real
 * tokens' counters (`token:` keys, see RateLimitKeys) are kept apart from the addresses' and are never evicted: there
 * is at most one per real token, and each goes once its window is over. Addresses' counters are bounded, the least
 * recently counted forgotten first, so that a flood from many addresses cannot take the memory.
 */
export class RateLimitCounters {
  private readonly byToken = new Map<string, Counter>();
  private readonly byAddress = new Map<string, Counter>();
  private sweptAt = 0;

  constructor(readonly perMinute: number) {}

  /** Counts one request of `key`; says whether it is over the limit and how long until the window ends. */
  take(key: string, now = Date.now()): { exceeded: boolean; retryAfterSeconds: number } {
    const counter = this.count(key, now);
    return { exceeded: counter.current > this.perMinute, retryAfterSeconds: Math.ceil(counter.ttl / 1000) };
  }

  /**
   * Counts one request of `key` until release() takes it back: a request whose key is still being decided holds its
   * place under the limit meanwhile. Released in a later window (or once the counter was forgotten), it takes nothing.
   */
  hold(key: string, now = Date.now()): { exceeded: boolean; release(): void } {
    const counter = this.count(key, now);
    const counters = key.startsWith('token:') ? this.byToken : this.byAddress;
    return {
      exceeded: counter.current > this.perMinute,
      release: () => {
        if (counters.get(key) === counter) counter.current -= 1;
      },
    };
  }

  /** The problem a request over the limit is answered with (429, with Retry-After in seconds). */
  problem(retryAfterSeconds: number): ProblemException {
    return new ProblemException(
      HttpStatus.TOO_MANY_REQUESTS,
      'RateLimited',
      `more than ${this.perMinute} requests a minute with this token (or from this address without a valid one); retry in ${retryAfterSeconds} seconds`,
      { limit: this.perMinute, retryAfterSeconds },
    );
  }

  /** @fastify/rate-limit's store interface (`new store(options)`, `incr`, `child`), over these counters. */
  asStore(): FastifyRateLimitStoreCtor {
    const store: FastifyRateLimitStore = {
      incr: (key, done) => {
        const { current, ttl } = this.count(key, Date.now());
        done(null, { current, ttl });
      },
      child: () => store,
    };
    // The plugin constructs its store from the class it is given: this one hands back the shared instance.
    return function SharedStore() {
      return store;
    } as unknown as FastifyRateLimitStoreCtor;
  }

  private count(key: string, now: number): Counter {
    return key.startsWith('token:') ? this.countToken(key, now) : this.countAddress(key, now);
  }

  private countToken(key: string, now: number): Counter {
    if (this.sweptAt + WINDOW_MS <= now) {
      for (const [stale, counter] of this.byToken) if (counter.windowStart + WINDOW_MS <= now) this.byToken.delete(stale);
      this.sweptAt = now;
    }
    const counter = advance(this.byToken.get(key), now);
    this.byToken.set(key, counter);
    return counter;
  }

  private countAddress(key: string, now: number): Counter {
    const counter = advance(this.byAddress.get(key), now);
    this.byAddress.delete(key); // re-inserted below: Map order is then least recently counted first
    if (this.byAddress.size >= ADDRESS_KEYS) this.byAddress.delete(this.byAddress.keys().next().value!);
    this.byAddress.set(key, counter);
    return counter;
  }
}

/** Counts one request on a counter, starting a new window when the last one is over. */
function advance(existing: Counter | undefined, now: number): Counter {
  const counter = existing && existing.windowStart + WINDOW_MS > now ? existing : { current: 0, ttl: WINDOW_MS, windowStart: now };
  counter.current += 1;
  counter.ttl = counter.windowStart + WINDOW_MS - now;
  return counter;
}

/**
 * Per-token rate limit on every route (fixed one-minute windows; per client address for requests without a real
 * token): over it, 429 RateLimited with Retry-After in seconds. Counted in the onRequest hook, before the body is
 * read. Must be registered before the routes are.
 */
export async function registerRateLimit(app: NestFastifyApplication, counters: RateLimitCounters, keys: RateLimitKeys): Promise<void> {
  await app.register(fastifyRateLimit, {
    max: counters.perMinute,
    timeWindow: WINDOW_MS,
    store: counters.asStore(),
    keyGenerator: keys.keyGenerator,
    // The limit's headers only on a 429 (with Retry-After), not on every answer: agents and scripts ignore them.
    addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
    errorResponseBuilder: (_request, context) => counters.problem(Math.ceil(context.ttl / 1000)),
  });
}

/**
 * Health probes and Prometheus scrapes are not API calls and are never rate-limited: a 429 there would make a healthy
 * control look dead to its supervisor or fire "control down" alerts. /metrics has its own token (metricsToken).
 */
export const NotRateLimited = () => RouteConfig({ rateLimit: false });
