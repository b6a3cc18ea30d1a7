import { hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrfProtection from '@fastify/csrf-protection';
import fastifyHelmet, { FastifyHelmetOptions } from '@fastify/helmet';
import fastifySecureSession from '@fastify/secure-session';
import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import * as nunjucks from 'nunjucks';
import { ControlConfig } from '../config/control-config';
import { AuditKeyring } from '../audit/audit-keyring';
import { ConsoleView } from './console-view';

/** Where every console page and form lives; `/v1` stays JSON-only. */
export const CONSOLE_PREFIX = '/console';
export const SESSION_COOKIE = 'dcm_console';
export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';
/** A console form is a few fields: far below the API's body limit. */
const FORM_BODY_LIMIT = 64 * 1024;

/** govuk-frontend's dist folder: its Nunjucks macros, compiled CSS and JavaScript, fonts and images. */
export const GOVUK_FRONTEND_DIST = dirname(dirname(require.resolve('govuk-frontend')));
export const CONSOLE_VIEWS = join(__dirname, 'views');
const CONSOLE_STATIC = join(__dirname, 'static');

/**
 * GOV.UK Frontend's compiled stylesheet as a service off GOV.UK must use it: without the GDS Transport font (licensed for
 * GOV.UK only; arial, the stack's next font, is used) and with its images under /console/assets. Done once at start on
 * the published CSS, rather than compiling the Sass with a different font stack at every build.
 */
export function consoleStylesheet(css: string): string {
  return css
    .replace(/@font-face\{font-family:GDS Transport;[^}]*\}/g, '')
    .replace(/font-family:GDS Transport,/g, 'font-family:')
    .replace(/url\(\/assets\//g, `url(${CONSOLE_PREFIX}/assets/`)
    .replace(/\/\*# sourceMappingURL=[^*]*\*\/\s*$/, '');
}

/**
 * The sealed cookie's key: DCM_CONSOLE_SESSION_KEY, or one derived (HKDF) from the audit key that every replica already
 * shares, so that a session sealed by one replica opens on the others.
 */
export function consoleSessionKey(config: ControlConfig, auditKeyring: AuditKeyring): Buffer {
  const secret = config.consoleSessionKey ?? auditKeyring.current.secret;
  return Buffer.from(hkdfSync('sha256', secret, 'dcm', 'dcm console session cookie v1', 32));
}

function isConsoleUrl(url: string): boolean {
  return url === CONSOLE_PREFIX || url.startsWith(`${CONSOLE_PREFIX}/`) || url.startsWith(`${CONSOLE_PREFIX}?`);
}

/**
 * Headers of the console's pages: a Content-Security-Policy without inline script except GOV.UK Frontend's one line
 * (which carries the per-request nonce), no framing, no referrer beyond the origin.
 */
const CONSOLE_HELMET: FastifyHelmetOptions = {
  enableCSPNonces: true,
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'"],
      connectSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      objectSrc: ["'none'"],
      upgradeInsecureRequests: null,
    },
  },
  strictTransportSecurity: false,
  referrerPolicy: { policy: 'same-origin' },
};

/** Swagger UI at /docs: its own scripts and styles from 'self' (it sets some styles inline), images from data: URLs. */
const DOCS_HELMET: FastifyHelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      objectSrc: ["'none'"],
      upgradeInsecureRequests: null,
    },
  },
  strictTransportSecurity: false,
};

/**
 * Registers what the console needs on Fastify, before any route exists: cookies and the sealed session
 * (@fastify/secure-session), CSRF tokens (@fastify/csrf-protection), security headers (@fastify/helmet) on /console and
 * /docs only, Nunjucks through @fastify/view, govuk-frontend's assets, and a form parser that answers 415 outside
 * /console, so that the API stays JSON-only.
 */
export async function registerConsolePlugins(app: NestFastifyApplication, config: ControlConfig, sessionKey: Buffer): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  await app.register(fastifyCookie);
  await app.register(fastifySecureSession, {
    key: sessionKey,
    cookieName: SESSION_COOKIE,
    // secure-session's own expiry runs from the last change; ConsoleAuth also ends a session hours after sign-in.
    expiry: config.consoleSessionHours * 3600,
    cookie: { path: CONSOLE_PREFIX, httpOnly: true, sameSite: 'strict', secure: config.tls !== null },
  });
  await app.register(fastifyCsrfProtection, { sessionPlugin: '@fastify/secure-session' });
  await app.register(fastifyHelmet, { global: false });
  app.setViewEngine({
    engine: { nunjucks },
    templates: [CONSOLE_VIEWS, GOVUK_FRONTEND_DIST],
    production: true,
    options: { onConfigure: (env: nunjucks.Environment) => ConsoleView.configure(env) },
  });
  // decorateReply false: Swagger UI registers @fastify/static too, with reply.sendFile.
  await app.register(fastifyStatic, { root: join(GOVUK_FRONTEND_DIST, 'govuk', 'assets'), prefix: `${CONSOLE_PREFIX}/assets/`, decorateReply: false });
  await app.register(fastifyStatic, {
    root: join(GOVUK_FRONTEND_DIST, 'govuk'),
    prefix: `${CONSOLE_PREFIX}/govuk/`,
    decorateReply: false,
    allowedPath: (path) => path === '/govuk-frontend.min.js',
  });
  await app.register(fastifyStatic, { root: CONSOLE_STATIC, prefix: `${CONSOLE_PREFIX}/static/`, decorateReply: false });

  fastify.addContentTypeParser(FORM_CONTENT_TYPE, { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT }, (request, body, done) => {
    if (!isConsoleUrl(request.url)) {
      done(Object.assign(new Error(`Unsupported Media Type: ${FORM_CONTENT_TYPE}`), { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }), undefined);
      return;
    }
    // Repeated fields keep their last value: no console form repeats a name.
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  fastify.addHook('onRoute', (route: RouteOptions) => {
    if (route.url.startsWith('/docs')) {
      route.config = { ...(route.config as object), helmet: DOCS_HELMET } as RouteOptions['config'];
      return;
    }
    if (!isConsoleUrl(route.url)) return;
    route.config = { ...(route.config as object), helmet: CONSOLE_HELMET } as RouteOptions['config'];
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.includes('POST')) {
      // Every console form carries the session's CSRF token (_csrf); checked once the body is parsed.
      const csrf = (request: FastifyRequest, reply: FastifyReply, done: (error?: FastifyError) => void) => fastify.csrfProtection(request, reply, done);
      route.preHandler = [csrf, ...(route.preHandler ? [route.preHandler].flat() : [])];
    }
    // Errors before the handler (a bad CSRF token, a body over the limit) are answered as a console page too.
    route.errorHandler = (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const view = app.get(ConsoleView);
      void view.errorPage(request, reply, error);
    };
  });

  const stylesheet = consoleStylesheet(readFileSync(join(GOVUK_FRONTEND_DIST, 'govuk', 'govuk-frontend.min.css'), 'utf8'));
  fastify.get(`${CONSOLE_PREFIX}/govuk/govuk-frontend.min.css`, (_request, reply) => {
    void reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(stylesheet);
  });
}
