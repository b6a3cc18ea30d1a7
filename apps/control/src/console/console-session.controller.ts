import { Body, Controller, Get, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/principal';
import { Problems } from '../common/problem';
import { ConsoleAccess, ConsoleAuth, ConsoleAuthGuard } from './console-auth';
import { ConsoleExceptionFilter } from './console.filter';
import { field } from './console-forms';
import { ConsoleRequest, ConsoleView } from './console-view';
import { isLang, LANGUAGE_COOKIE } from './i18n/i18n';

/** Where a user lands: a tenant token on its own organisation, everyone else on the facility overview. */
export function homeOf(request: ConsoleRequest): string {
  const user = request.consoleUser;
  return user?.principal.role === 'tenant' ? `/console/organisations/${user.tenantSlug}` : '/console/';
}

/** Only the console's own pages may be returned to after a language switch (no open redirect). */
function safeReturn(path: string): string {
  return /^\/console\/[A-Za-z0-9/_?=&.%-]*$/.test(path) && !path.startsWith('/console//') ? path : '/console/';
}

@ApiExcludeController()
@Public()
@UseGuards(ConsoleAuthGuard)
@UseFilters(ConsoleExceptionFilter)
@Controller()
export class ConsoleSessionController {
  constructor(
    private readonly auth: ConsoleAuth,
    private readonly view: ConsoleView,
  ) {}

  @Get()
  @ConsoleAccess('anyone')
  async root(@Res() reply: FastifyReply): Promise<void> {
    await reply.redirect('/console/', 302);
  }

  @Get('console/sign-in')
  @ConsoleAccess('anyone')
  async signInPage(@Req() request: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    if (request.consoleUser) return reply.redirect(homeOf(request), 303);
    await this.view.page(request, reply, 'sign-in');
  }

  @Post('console/sign-in')
  @ConsoleAccess('anyone')
  async signIn(@Req() request: ConsoleRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<void> {
    const outcome = await this.auth.signIn(request, field(body, 'token'));
    if (typeof outcome === 'string') {
      const status = outcome === 'signIn.errors.tooMany' ? 429 : 401;
      await this.view.page(request, reply, 'sign-in', { errors: [{ field: 'token', key: outcome }] }, status);
      return;
    }
    request.consoleUser = outcome;
    await reply.redirect(homeOf(request), 303);
  }

  @Post('console/sign-out')
  @ConsoleAccess('tenant')
  async signOut(@Req() request: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.auth.signOut(request, request.consoleUser!);
    await this.view.page(request, reply, 'signed-out');
  }

  /** Any other page under /console answers as a page too, not as the API's problem details. */
  @Get('console/*')
  @ConsoleAccess('anyone')
  notFound(): never {
    throw Problems.notFound('this page');
  }

  /** The language switch on every page: a plain link, so it works without JavaScript. */
  @Get('console/language')
  @ConsoleAccess('anyone')
  async language(@Query('to') to: string, @Query('back') back: string, @Res() reply: FastifyReply): Promise<void> {
    if (isLang(to)) {
      void reply.setCookie(LANGUAGE_COOKIE, to, { path: '/console', sameSite: 'strict', httpOnly: true, maxAge: 365 * 86_400 });
    }
    await reply.redirect(safeReturn(typeof back === 'string' ? back : '/console/'), 303);
  }
}
