import { HttpStatus } from '@nestjs/common';
import { NestFastifyApplication, RouteConfig } from '@nestjs/platform-fastify';
import fastifyRateLimit, { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import { bearerToken, hashSecret } from './bearer';
import { ProblemException } from './problem';

/** Room for the counters of every agent of a 50,000-host facility and its operators (about 200 bytes each). */
const RATE_LIMIT_KEYS = 50_000;
const WINDOW_MS = 60_000;

/**
 * Whom a request is counted against: its bearer token, or the client's address when it has none (enrolment, API
 * docs). Only a hash of the token is kept as the key, so the counters never hold a usable secret. A token that turns
 * out to be unknown still gets its own counter; it is answered 401 straight after.
 */
export function rateLimitKeyOf(authorization: string | string[] | undefined, ip: string | undefined): string {
  const token = bearerToken(authorization);
  return rateLimitKeyFor(token === null ? null : hashSecret(token), ip);
}

/** The same key, for a caller that has hashed the token already (see hashSecret), or null without a token. */
export function rateLimitKeyFor(secretHash: string | null, ip: string | undefined): string {
  return secretHash === null ? `ip:${ip}` : `token:${secretHash}`;
}

export function rateLimitKey(request: FastifyRequest): string {
  return rateLimitKeyOf(request.headers.authorization, request.ip);
}

interface Counter {
  current: number;
  ttl: number;
  windowStart: number;
}

/**
 * Requests per key in fixed one-minute windows, the least recently counted key forgotten first when full. One per
 * process, shared by @fastify/rate-limit (as its store) and the agent-report fast path, so that a token's requests
 * count against one limit whichever way they are served.
 */
export class RateLimitCounters {
  private readonly counters = new Map<string, Counter>();

  constructor(readonly perMinute: number) {}

  /** Counts one request of `key`; says whether it is over the limit and how long until the window ends. */
  take(key: string, now = Date.now()): { exceeded: boolean; retryAfterSeconds: number } {
    const counter = this.count(key, now);
    return { exceeded: counter.current > this.perMinute, retryAfterSeconds: Math.ceil(counter.ttl / 1000) };
  }

  /** The problem a request over the limit is answered with (429, with Retry-After in seconds). */
  problem(retryAfterSeconds: number): ProblemException {
    return new ProblemException(
      HttpStatus.TOO_MANY_REQUESTS,
      'RateLimited',
      `more than ${this.perMinute} requests a minute with this token (or from this address without one); retry in ${retryAfterSeconds} seconds`,
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
    let counter = this.counters.get(key);
    if (counter) this.counters.delete(key); // re-inserted below: Map order is then least recently counted first
    if (!counter || counter.windowStart + WINDOW_MS <= now) counter = { current: 0, ttl: WINDOW_MS, windowStart: now };
    counter.current += 1;
    counter.ttl = counter.windowStart + WINDOW_MS - now;
    if (this.counters.size >= RATE_LIMIT_KEYS) this.counters.delete(this.counters.keys().next().value!);
    this.counters.set(key, counter);
    return counter;
  }
}

/**
 * Per-token rate limit on every route (fixed one-minute windows): over it, 429 RateLimited with Retry-After in
 * seconds. Counted in the onRequest hook, before the body is read or the token looked up, so a flood costs a hash
 * and a map look-up per request. Must be registered before the routes are.
 */
export async function registerRateLimit(app: NestFastifyApplication, counters: RateLimitCounters): Promise<void> {
  await app.register(fastifyRateLimit, {
    max: counters.perMinute,
    timeWindow: WINDOW_MS,
    store: counters.asStore(),
    keyGenerator: rateLimitKey,
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
