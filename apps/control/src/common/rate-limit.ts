import { hash } from 'node:crypto';
import { HttpStatus } from '@nestjs/common';
import { NestFastifyApplication, RouteConfig } from '@nestjs/platform-fastify';
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import { ProblemException } from './problem';

/** Room for the counters of every agent of a 50,000-host facility and its operators (about 200 bytes each). */
const RATE_LIMIT_KEYS = 50_000;
const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Whom a request is counted against: its bearer token, or the client's address when it has none (enrolment, API
 * docs). Only a hash of the token is kept as the key, so the counters never hold a usable secret. A token that turns
 * out to be unknown still gets its own counter; it is answered 401 straight after.
 */
export function rateLimitKey(request: FastifyRequest): string {
  const header = request.headers.authorization;
  const bearer = typeof header === 'string' ? BEARER.exec(header) : null;
  // crypto.hash: one call, no Hash object (a third of createHash's cost on this hot path).
  return bearer ? `token:${hash('sha256', bearer[1], 'base64url')}` : `ip:${request.ip}`;
}

/**
 * Per-token rate limit on every route (fixed one-minute windows): over it, 429 RateLimited with Retry-After in
 * seconds. Counted in the onRequest hook, before the body is read or the token looked up, so a flood costs a hash
 * and a map look-up per request. Off when perMinute is 0. Must be registered before the routes are.
 */
export async function registerRateLimit(app: NestFastifyApplication, perMinute: number): Promise<void> {
  if (perMinute === 0) return;
  await app.register(fastifyRateLimit, {
    max: perMinute,
    timeWindow: 60_000,
    cache: RATE_LIMIT_KEYS,
    keyGenerator: rateLimitKey,
    // The limit's headers only on a 429 (with Retry-After), not on every answer: agents and scripts ignore them.
    addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
    errorResponseBuilder: (_request, context) =>
      new ProblemException(
        HttpStatus.TOO_MANY_REQUESTS,
        'RateLimited',
        `more than ${context.max} requests a minute with this token (or from this address without one); retry in ${context.after}`,
        { limit: context.max, retryAfterSeconds: Math.ceil(context.ttl / 1000) },
      ),
  });
}

/**
 * Health probes and Prometheus scrapes are not API calls and are never rate-limited: a 429 there would make a healthy
 * control look dead to its supervisor or fire "control down" alerts. /metrics has its own token (metricsToken).
 */
export const NotRateLimited = () => RouteConfig({ rateLimit: false });
