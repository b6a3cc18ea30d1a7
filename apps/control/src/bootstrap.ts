import { chmodSync, mkdirSync } from 'node:fs';
import { createServer as createHttpServer, IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyServerOptions, RawServerDefault } from 'fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { AgentsService } from './agents/agents.service';
import { FastPath, reportIngestFastPath } from './agents/report-ingest.fast-path';
import { AppModule } from './app.module';
import { AuditKeyring } from './audit/audit-keyring';
import { consoleSessionKey, registerConsolePlugins } from './console/console-plugins';
import { TokensService } from './auth/tokens.service';
import { answerClientError, answerFrameworkError, ProblemDetailsFilter } from './common/problem-details.filter';
import { createLogger, PinoNestLogger, RequestLog } from './common/logging';
import { proxyTrust } from './common/client-address';
import { RateLimitCounters, RateLimitKeys, registerRateLimit } from './common/rate-limit';
import { createValidationPipe } from './common/validation';
import { ControlConfig } from './config/control-config';
import { MetricsRecorder } from './telemetry/process-metrics';
import { openApiDocument } from './openapi';

const CONNECTION_CHECK_MS = 1000;

/** Builds the control application (not yet listening); main and the end-to-end tests share it. */
export async function createControlApp(config: ControlConfig): Promise<NestFastifyApplication> {
  // The data directory holds the database, tokens and keys: its owner's only (0700), whoever made it and whatever the umask.
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  chmodSync(config.dataDir, 0o700);
  const logger = createLogger(config.logLevel);
  const rateLimits = config.rateLimitPerMinute > 0 ? new RateLimitCounters(config.rateLimitPerMinute) : null;
  const trust = proxyTrust(config.trustedProxies);
  // Requests go to the fast path first (once the application exists); whatever it declines, to Fastify.
  let fastPath: FastPath | null = null;
  const adapter = new FastifyAdapter({
    serverFactory: (handler: (request: IncomingMessage, response: ServerResponse) => void, options: FastifyServerOptions): RawServerDefault => {
      const listener = (request: IncomingMessage, response: ServerResponse) => {
        if (!fastPath?.(request, response)) handler(request, response);
      };
      // Node checks the time-outs below every connectionsCheckingInterval (30 s by default): often enough to end a slow
      // request close to its limit.
      const timeouts = { requestTimeout: options.requestTimeout!, headersTimeout: options.requestTimeout!, connectionsCheckingInterval: CONNECTION_CHECK_MS };
      // Over HTTPS the handshake comes before any request, and the time-outs above start after it: it gets the same limit.
      const server = config.tls
        ? createHttpsServer({ cert: config.tls.cert, key: config.tls.key, handshakeTimeout: options.requestTimeout!, ...timeouts }, listener)
        : createHttpServer(timeouts, listener);
      // As Fastify sets up a server it creates itself.
      server.keepAliveTimeout = options.keepAliveTimeout!;
      server.setTimeout(options.connectionTimeout!);
      return server;
    },
    // A request (headers and body, on every route and the report fast path) must arrive whole within this time from
    // the connection's first byte (or the previous answer): a client trickling bytes holds nothing for longer. A
    // connection silent for as long (one that never sends a byte, an idle keep-alive) is closed too.
    requestTimeout: config.requestTimeoutSeconds * 1000,
    connectionTimeout: config.requestTimeoutSeconds * 1000,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: trust,
    // Nest serves a controller's root without the trailing slash; the console's home is /console/ as well.
    rewriteUrl: (request: IncomingMessage) =>
      request.url === '/console/' || request.url?.startsWith('/console/?') ? `/console${request.url.slice(9)}` : request.url!,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
    loggerInstance: logger,
    logController: new RequestLog(),
  });
  // bodyParser false: Fastify's own JSON parser (with the limits above) and no form parser, which Nest would add and
  // which would hand a form-encoded body to the handlers (and to a DELETE, which reads no body, without a 415).
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    bufferLogs: true,
    abortOnError: false,
    bodyParser: false,
  });
  app.useLogger(new PinoNestLogger(logger));
  // Before any route exists: the console's CSRF check and headers attach themselves to its routes as they are added.
  await registerConsolePlugins(app, config, consoleSessionKey(config, app.get(AuditKeyring)));
  // Before any route exists: the limiter hooks itself onto each route as it is added.
  const rateLimiting = rateLimits && { counters: rateLimits, keys: new RateLimitKeys(app.get(TokensService), rateLimits) };
  if (rateLimiting) await registerRateLimit(app, rateLimiting.counters, rateLimiting.keys);
  // Once the application is closing, reports go to Fastify too, which answers 503 while it drains: the fast path's
  // services (and the database) are being shut down.
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('preClose', async () => {
      fastPath = null;
    });
  app.useGlobalFilters(new ProblemDetailsFilter());
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();
  // The API speaks JSON only: anything else is answered 415 rather than handed to the handlers as text.
  app.getHttpAdapter().getInstance().removeContentTypeParser(['text/plain']);

  SwaggerModule.setup('docs', app, openApiDocument(app), { jsonDocumentUrl: 'docs-json' });
  // A start refused on the way (a revoked DCM_ADMIN_TOKEN) lets go of the database and timers, then says why. Until
  // the server listens nothing holds the process up, and closing waits on unref'd workers (the WAL checkpointer).
  await app.init().catch(async (error: unknown) => {
    const keepAlive = setInterval(() => undefined, 1000);
    await app.close().finally(() => clearInterval(keepAlive));
    throw error;
  });
  fastPath = reportIngestFastPath({
    agents: app.get(AgentsService),
    tokens: app.get(TokensService),
    metrics: app.get(MetricsRecorder),
    rateLimits: rateLimiting,
    trust,
    bodyLimitBytes: config.bodyLimitBytes,
    logger,
  });
  return app;
}
