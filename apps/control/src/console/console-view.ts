import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Environment } from 'nunjucks';
import type { Principal } from '../common/principal';
import { toProblem } from '../common/problem-details.filter';
import { govukTexts, isLang, Lang, LANGUAGE_COOKIE, Messages, messagesFor } from './i18n/i18n';
import type { MessageKey } from './i18n/en';

/** Who is signed in to the console, as ConsoleAuthGuard found them on this request. */
export interface ConsoleUser {
  principal: Principal;
  /** The tenant a tenant token is bound to; null for operators and viewers. */
  tenantSlug: string | null;
}

export type ConsoleRequest = FastifyRequest & { consoleUser?: ConsoleUser };

/** A form's problems: each field's message key, in the order the fields come on the page. */
export type FieldErrors = { field: string; key: MessageKey; values?: Record<string, string | number> }[];

const messagesByLang = { en: messagesFor('en'), cy: messagesFor('cy') } satisfies Record<Lang, Messages>;

/** The language of a request: its dcm_lang cookie (set by the switch on every page), English otherwise. */
export function langOf(request: FastifyRequest): Lang {
  const cookie = request.cookies?.[LANGUAGE_COOKIE];
  return isLang(cookie) ? cookie : 'en';
}

/**
 * Renders console pages with GOV.UK Frontend's Nunjucks template (through @fastify/view) in the request's language,
 * with what every page needs: the CSP nonce of GOV.UK's inline script, the session's CSRF token, the signed-in user,
 * the navigation and the language switch.
 */
@Injectable()
export class ConsoleView {
  static configure(env: Environment): void {
    env.addGlobal('govukRebrand', false);
  }

  messages(request: FastifyRequest): Messages {
    return messagesByLang[langOf(request)];
  }

  async page(request: ConsoleRequest, reply: FastifyReply, template: string, data: Record<string, unknown> = {}, status = 200): Promise<void> {
    const messages = this.messages(request);
    const user = request.consoleUser ?? null;
    const role = user?.principal.role ?? null;
    const errors = (data.errors as FieldErrors | undefined) ?? [];
    const path = request.url.split('?')[0];
    const context = {
      ...data,
      lang: messages.lang,
      otherLang: messages.lang === 'en' ? 'cy' : 'en',
      m: messages,
      t: messages.t,
      govuk: govukTexts(messages),
      cspNonce: (reply as FastifyReply & { cspNonce?: { script: string } }).cspNonce?.script,
      csrfToken: await reply.generateCsrf(),
      user: user && { role, tenantSlug: user.tenantSlug, isOperator: role === 'operator' || role === 'admin', isTenant: role === 'tenant' },
      navigation: user ? navigation(messages, role, user.tenantSlug, path) : [],
      here: request.url,
      errorList: errors.map((error) => ({ text: messages.t(error.key, error.values), href: `#${error.field}` })),
      fieldError: Object.fromEntries(
        errors.map((error) => [error.field, { text: messages.t(error.key, error.values), visuallyHiddenText: messages.t('govuk.errorPrefix') }]),
      ),
    };
    const html = await (reply as FastifyReply & { viewAsync(page: string, data: object): Promise<string> }).viewAsync(`${template}.njk`, context);
    await reply.status(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(html);
  }

  /** Anything that went wrong, as a page in the user's language with the API's status (404, 403, 409…). */
  async errorPage(request: ConsoleRequest, reply: FastifyReply, error: unknown): Promise<void> {
    const problem = toProblem(error, request.url);
    const status = problem.status;
    const known = [400, 403, 404, 413, 415, 429, 503].includes(status) ? status : status >= 500 ? 500 : 400;
    await this.page(request, reply, 'error', { status: known }, status);
  }
}

function navigation(messages: Messages, role: string | null, tenantSlug: string | null, path: string) {
  const items: { key: MessageKey; href: string }[] =
    role === 'tenant'
      ? [{ key: 'nav.organisation', href: `/console/organisations/${tenantSlug}` }]
      : [
          { key: 'nav.overview', href: '/console/' },
          { key: 'nav.hosts', href: '/console/hosts' },
          { key: 'nav.organisations', href: '/console/organisations' },
          ...(role === 'operator' || role === 'admin' ? [{ key: 'nav.onboard' as MessageKey, href: '/console/onboard/details' }] : []),
          { key: 'nav.audit', href: '/console/audit' },
        ];
  return items.map((item) => {
    const active = item.href === '/console/' ? path === '/console' || path === '/console/' : path.startsWith(item.href.replace(/\/details$/, ''));
    return { text: messages.t(item.key), href: item.href, active };
  });
}
