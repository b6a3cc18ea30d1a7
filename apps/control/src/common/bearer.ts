import { hash } from 'node:crypto';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The token of an `Authorization: Bearer <token>` header, or null when there is none. */
export function bearerToken(authorization: string | string[] | undefined): string | null {
  const match = typeof authorization === 'string' ? BEARER.exec(authorization) : null;
  return match ? match[1] : null;
}

/**
 * What a token secret is known by: its SHA-256, the only form stored and the key of every cache and counter. Secrets
 * are 256-bit random, so a slow hash would add nothing; crypto.hash is one call, with no Hash object, on every request.
 */
export function hashSecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}

/** Where the web console's sealed session cookie keeps its token's hash (never the token). */
export const SESSION_TOKEN_HASH = 'token';

/**
 * The token hash of the request's web console session (decoded from its sealed cookie by @fastify/secure-session), or
 * null: console pages carry no bearer, and are counted and verified by the session's token instead.
 */
export function sessionTokenHash(request: object): string | null {
  const session = (request as { session?: { get(key: string): unknown } }).session;
  const hash = session?.get(SESSION_TOKEN_HASH);
  return typeof hash === 'string' ? hash : null;
}
