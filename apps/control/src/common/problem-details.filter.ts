import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { ConnectionError, FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '@dcm/persistence';
import { PROBLEM_CONTENT_TYPE, ProblemCode, ProblemDetails, ProblemException, problemFor } from './problem';

const CODES_BY_STATUS: Record<number, ProblemCode> = {
  400: 'ValidationFailed',
  401: 'Unauthenticated',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  413: 'PayloadTooLarge',
  415: 'UnsupportedMediaType',
  429: 'RateLimited',
};

const logger = new Logger('Problems');

/** What a 503 tells clients (and agents, which keep their spool) to wait before they try again. */
export const UNAVAILABLE_RETRY_AFTER_S = 2;
/** While the database is away every request fails alike: one warning per this many milliseconds is enough. */
const UNAVAILABLE_LOG_EVERY_MS = 5_000;
let unavailableLoggedAt = -Infinity;

function messageOf(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  return Array.isArray(message) ? message.join('; ') : String(message ?? exception.message);
}

/**
 * Turns anything thrown while serving a request into RFC 9457 problem details. Errors that are not the client's
 * fault are logged and answered with a generic 500: never a stack trace or SQL in a response.
 */
export function toProblem(error: unknown, instance?: string): ProblemDetails {
  if (error instanceof ProblemException) return error.toProblem(instance);
  if (error instanceof HttpException) {
    const status = error.getStatus();
    return problemFor(status, CODES_BY_STATUS[status] ?? (status < 500 ? 'ValidationFailed' : 'InternalError'), messageOf(error), instance);
  }
  // Errors raised by Fastify itself (body parsing, content type, body size) carry a client status code.
  const status = (error as { statusCode?: number }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = CODES_BY_STATUS[status] ?? 'ValidationFailed';
    return problemFor(status, code, (error as Error).message, instance);
  }
  if (isDatabaseUnavailable(error)) {
    const now = performance.now();
    if (now - unavailableLoggedAt >= UNAVAILABLE_LOG_EVERY_MS) {
      unavailableLoggedAt = now;
      logger.warn(`the database is unreachable, answering 503: ${(error as Error).message}`);
    }
    return problemFor(503, 'Unavailable', 'The database is unreachable for a moment; retry after the time in Retry-After.', instance);
  }
  logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  return problemFor(500, 'InternalError', 'An internal error occurred; it has been logged.', instance);
}

/** The headers a problem is answered with. */
export function problemHeaders(problem: ProblemDetails): Record<string, string> {
  // RFC 9110 §11.6.1: a 401 says how to authenticate; §10.2.3: a 503 may say when to come back.
  if (problem.status === 401) return { 'content-type': PROBLEM_CONTENT_TYPE, 'www-authenticate': 'Bearer realm="dcm"' };
  if (problem.code === 'Unavailable') return { 'content-type': PROBLEM_CONTENT_TYPE, 'retry-after': String(UNAVAILABLE_RETRY_AFTER_S) };
  return { 'content-type': PROBLEM_CONTENT_TYPE };
}

export function sendProblem(reply: FastifyReply, problem: ProblemDetails): void {
  void reply.status(problem.status).headers(problemHeaders(problem)).send(JSON.stringify(problem));
}

const FRAMEWORK_REFUSALS: Record<string, string> = {
  FST_ERR_BAD_URL: 'the URL is not valid (bad percent-encoding)',
  FST_ERR_MAX_PARAM_LENGTH: 'a path parameter is longer than any name, slug or id can be',
};

/** Fastify's own refusals before any route runs (Fastify's frameworkErrors option): problem details like the rest. */
export function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const detail = FRAMEWORK_REFUSALS[error.code];
  sendProblem(reply, detail ? problemFor(400, 'ValidationFailed', detail, request.url) : toProblem(error, request.url));
}

/**
 * Requests Node cannot parse at all (headers over its 16 KiB limit, characters not allowed in HTTP, a request that
 * never finishes arriving) are answered on the socket, before Fastify or Nest see them: as problem details too
 * (Fastify's clientErrorHandler option).
 */
export function answerClientError(error: ConnectionError, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, detail] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'the request headers are larger than the server accepts']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'the request did not arrive in time']
        : [400, 'the request is not valid HTTP'];
  const body = JSON.stringify(problemFor(status, CODES_BY_STATUS[status] ?? 'ValidationFailed', detail));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    sendProblem(http.getResponse<FastifyReply>(), toProblem(exception, request.url));
  }
}
