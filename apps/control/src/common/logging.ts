import { LoggerService } from '@nestjs/common';
import { FastifyReply, FastifyRequest, LogController } from 'fastify';
import pino, { Logger, LevelWithSilent } from 'pino';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** Control's one logger: JSON lines on stdout, never the bearer tokens callers send. */
export function createLogger(level: LevelWithSilent): Logger {
  return pino({ level, redact: ['req.headers.authorization', 'headers.authorization'] });
}

/**
 * Nest's logger interface over pino, so that Nest's own messages and every `new Logger(context)` in the code come out
 * as the same JSON lines as the request log. (nestjs-pino did this through AsyncLocalStorage, whose promise hooks cost
 * about a tenth of the CPU of every request on the hot paths; Fastify's per-request child logger needs none.)
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }

  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }

  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }

  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }

  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }

  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  // Nest passes the context last, and for errors a stack trace before it.
  private write(level: Level, message: unknown, rest: unknown[]): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const parameters = [...rest];
    const context = parameters.length > 0 && typeof parameters[parameters.length - 1] === 'string' ? (parameters.pop() as string) : undefined;
    const stack = level === 'error' && typeof parameters[0] === 'string' ? parameters[0] : undefined;
    const fields: Record<string, unknown> = { context, ...(stack ? { stack } : {}) };
    if (message instanceof Error) this.logger[level]({ ...fields, err: message }, message.message);
    else if (typeof message === 'object' && message !== null) this.logger[level]({ ...fields, ...message });
    else this.logger[level](fields, String(message));
  }
}

/** The level a request's line is logged at: routine successes at debug, refusals (4xx) at info, failures at error. */
export function requestLogLevel(status: number, failed = false): Level {
  return failed || status >= 500 ? 'error' : status >= 400 ? 'info' : 'debug';
}

/**
 * Fastify's request log with dcm's levels: one line per answered request, routine successes at debug (so that a busy
 * facility's log stays readable), refusals (4xx) at info, failures (5xx) at error; no "incoming request" lines.
 */
export class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const status = reply.statusCode;
    const level = requestLogLevel(status, Boolean(error));
    if (!(request.log as Logger).isLevelEnabled(level)) return;
    request.log[level](
      {
        req: { method: request.method, url: request.url },
        remoteAddress: request.ip, // the client's, through trusted proxies (DCM_TRUSTED_PROXIES)
        res: { statusCode: status },
        responseTime: reply.elapsedTime,
        ...(error ? { err: error } : {}),
      },
      'request completed',
    );
  }
}
