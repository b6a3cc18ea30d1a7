import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
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
  logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  return problemFor(500, 'InternalError', 'An internal error occurred; it has been logged.', instance);
}

export function sendProblem(reply: FastifyReply, problem: ProblemDetails): void {
  // RFC 9110 §11.6.1: a 401 says how to authenticate.
  if (problem.status === 401) void reply.header('www-authenticate', 'Bearer realm="dcm"');
  void reply.status(problem.status).header('content-type', PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
}

@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    sendProblem(http.getResponse<FastifyReply>(), toProblem(exception, request.url));
  }
}
