import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { answerClientError, answerFrameworkError, ProblemDetailsFilter } from './common/problem-details.filter';
import { createLogger, PinoNestLogger, RequestLog } from './common/logging';
import { registerRateLimit } from './common/rate-limit';
import { createValidationPipe } from './common/validation';
import { ControlConfig } from './config/control-config';

/** Builds the control application (not yet listening); main and the end-to-end tests share it. */
export async function createControlApp(config: ControlConfig): Promise<NestFastifyApplication> {
  const logger = createLogger(config.logLevel);
  const adapter = new FastifyAdapter({
    ...(config.tls ? { https: config.tls } : {}),
    bodyLimit: config.bodyLimitBytes,
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
  // Before any route exists: the limiter hooks itself onto each route as it is added.
  await registerRateLimit(app, config.rateLimitPerMinute);
  app.useGlobalFilters(new ProblemDetailsFilter());
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();
  // The API speaks JSON only: anything else is answered 415 rather than handed to the handlers as text.
  app.getHttpAdapter().getInstance().removeContentTypeParser(['text/plain']);

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('dcm')
      .setDescription('Shared data-centre hosting and capacity manager: tenants, quotas, hosts, allocations and capacity')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  await app.init();
  return app;
}
