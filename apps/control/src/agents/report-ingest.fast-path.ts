import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { parse as parseJson } from 'secure-json-parse';
import type { TokensService } from '../auth/tokens.service';
import { bearerToken, hashSecret } from '../common/bearer';
import { requestLogLevel } from '../common/logging';
import { ProblemDetails, Problems } from '../common/problem';
import { problemHeaders, toProblem } from '../common/problem-details.filter';
import { clientAddress, ProxyTrust } from '../common/client-address';
import { RateLimitCounters, RateLimitKeys } from '../common/rate-limit';
import type { MetricsRecorder } from '../telemetry/process-metrics';
import type { AgentsService } from './agents.service';
import { reportsOf } from './protocol-validation';

const REPORTS_PATH = /^\/v1\/agents\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/reports$/i;
const JSON_CONTENT_TYPE = /^application\/json\s*(;\s*charset=utf-8\s*)?$/i;

export interface ReportIngestDependencies {
  agents: AgentsService;
  tokens: TokensService;
  metrics: MetricsRecorder;
  /** Null when rate limits are off. */
  rateLimits: { counters: RateLimitCounters; keys: RateLimitKeys } | null;
  /** DCM_TRUSTED_PROXIES, as Fastify applies it: the rate limit and the request log use the client's address. */
  trust: ProxyTrust | false;
  bodyLimitBytes: number;
  logger: Logger;
}

/** Answers a request in place of the framework, or declines it (false): the framework then serves it as usual. */
export type FastPath = (request: IncomingMessage, response: ServerResponse) => boolean;

/**
 * `POST /v1/agents/:id/reports` served straight on Node's HTTP server, ahead of Fastify and Nest: every agent posts
 * here every interval, and the frameworks' per-request machinery (routing, hooks, an async resource per body, guards,
 * pipes, a child logger) cost about as much as storing the report (`npm run bench -- ingest`: 183 → 113 µs of CPU a
 * report). It keeps the route's contract — the rate limit (the same counters as every other route), the agent's own
 * token, Fastify's prototype-poisoning checks on the JSON, the protocol's validation, problem details, the request
 * log — and declines anything out of the ordinary (another content type, a body without a Content-Length or over the
 * body limit, an empty one), which Fastify then answers as it answers on every route. AgentsController stays the
 * route's documentation and serves what is declined.
 */
export function reportIngestFastPath(deps: ReportIngestDependencies): FastPath {
  return (request, response) => {
    if (request.method !== 'POST') return false;
    const match = REPORTS_PATH.exec(request.url ?? '');
    const length = Number(request.headers['content-length']);
    if (!match || !JSON_CONTENT_TYPE.test(request.headers['content-type'] ?? '') || !(length > 0 && length <= deps.bodyLimitBytes)) return false;
    void serve(deps, match[1].toLowerCase(), request, response, length);
    return true;
  };
}

async function serve(deps: ReportIngestDependencies, agentId: string, request: IncomingMessage, response: ServerResponse, length: number): Promise<void> {
  const started = performance.now();
  const address = clientAddress(request, deps.trust);
  let status = 200;
  try {
    // The token is hashed once: the rate limit and authentication both know it by its hash.
    const token = bearerToken(request.headers.authorization);
    const secretHash = token === null ? null : hashSecret(token);
    // Counted before the body is read, as the framework's limiter does, and against the same key.
    const limits = deps.rateLimits;
    const limited = limits?.counters.take(limits.keys.cachedKeyOf(secretHash) ?? (await limits.keys.keyOf(secretHash, address)));
    if (limited?.exceeded) {
      request.resume();
      response.setHeader('retry-after', limited.retryAfterSeconds);
      throw limits!.counters.problem(limited.retryAfterSeconds);
    }
    const text = await readBody(request, length);
    if (secretHash === null) throw Problems.unauthenticated('send Authorization: Bearer <token>');
    const principal = await deps.tokens.authenticateHash(secretHash);
    if (principal.kind !== 'agent') throw Problems.forbidden('only an agent token may call this');
    const reports = reportsOf(parseBody(deps, text), deps.metrics);
    const answer = JSON.stringify(await deps.agents.ingest(agentId, principal, reports));
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(answer) });
    response.end(answer);
  } catch (error) {
    const problem = toProblem(error, request.url);
    status = problem.status;
    sendProblem(response, problem);
  } finally {
    logRequest(deps.logger, request, address, status, performance.now() - started);
  }
}

function readBody(request: IncomingMessage, length: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    request.on('data', (chunk: Buffer) => {
      received += chunk.length;
      chunks.push(chunk);
    });
    request.once('end', () => {
      if (received !== length) reject(Problems.validation(`the body is ${received} bytes long, but Content-Length said ${length}`));
      else resolve(Buffer.concat(chunks, received).toString('utf8'));
    });
    request.once('error', reject);
  });
}

/** The JSON body, refused (as Fastify's parser refuses it) with `__proto__` or `constructor.prototype` keys. */
function parseBody(deps: ReportIngestDependencies, text: string): unknown {
  try {
    return parseJson(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (error) {
    deps.metrics.countAgentReports('rejected');
    throw Problems.validation(`the body is not valid JSON: ${(error as Error).message}`);
  }
}

function sendProblem(response: ServerResponse, problem: ProblemDetails): void {
  if (response.headersSent) return void response.destroy();
  const body = JSON.stringify(problem);
  response.writeHead(problem.status, { ...problemHeaders(problem), 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

/** The same line, at the same levels, as the framework's request log (RequestLog). */
function logRequest(logger: Logger, request: IncomingMessage, address: string, status: number, milliseconds: number): void {
  const level = requestLogLevel(status);
  if (!logger.isLevelEnabled(level)) return;
  logger[level](
    { req: { method: request.method, url: request.url }, remoteAddress: address, res: { statusCode: status }, responseTime: milliseconds },
    'request completed',
  );
}
