import { Body, Controller, Get, Param, ParseUUIDPipe, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AllocationsService } from '../allocations/allocations.service';
import { tokenActor } from '../common/actor';
import { Public, tenantScopeOf } from '../common/principal';
import { Clock } from '../common/clock';
import { ProblemException } from '../common/problem';
import { CreateGrantDto } from '../grants/grant.dto';
import { GrantsService } from '../grants/grants.service';
import { QuotasService } from '../quotas/quotas.service';
import { ReportsService } from '../reports/reports.service';
import { TenantsRepository } from '../tenants/tenants.repository';
import { TenantsService } from '../tenants/tenants.service';
import { toTenantResponse } from '../tenants/tenant.dto';
import { ConsoleAccess, ConsoleAuthGuard } from './console-auth';
import { ConsoleExceptionFilter } from './console.filter';
import { field, invalidFields, wholeNumber } from './console-forms';
import { pagination } from './console-paging';
import { ConsoleRequest, ConsoleView, FieldErrors } from './console-view';

const TENANTS_PER_PAGE = 50;
const DAY_MS = 86_400_000;

/** YYYY-MM-DD of a day (UTC), or null when the three fields do not make a real date. */
export function dayOf(day: string, month: string, year: string): string | null {
  if (!/^\d{1,2}$/.test(day) || !/^\d{1,2}$/.test(month) || !/^\d{4}$/.test(year)) return null;
  const text = `${year}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`;
  const parsed = new Date(`${text}T00:00:00Z`);
  return Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== text ? null : text;
}

/** Organisations (tenants): the list, an organisation's page with its showback, and surge grants. */
@ApiExcludeController()
@Public()
@UseGuards(ConsoleAuthGuard)
@UseFilters(ConsoleExceptionFilter)
@Controller('console/organisations')
export class ConsoleOrganisationsController {
  constructor(
    private readonly view: ConsoleView,
    private readonly tenants: TenantsService,
    private readonly tenantsRepository: TenantsRepository,
    private readonly quotas: QuotasService,
    private readonly grants: GrantsService,
    private readonly allocations: AllocationsService,
    private readonly reports: ReportsService,
    private readonly clock: Clock,
  ) {}

  /** As GET /v1/tenants: a tenant token sees its own organisation only. */
  @Get()
  @ConsoleAccess('tenant')
  async list(@Req() request: ConsoleRequest, @Res() reply: FastifyReply, @Query('page') pageText?: string): Promise<void> {
    const scope = tenantScopeOf(request.consoleUser!.principal);
    const [tenants, worst] = await Promise.all([this.tenants.list(undefined, scope), this.tenantsRepository.worstQuotaStates()]);
    const live = tenants.filter((tenant) => tenant.state !== 'offboarded');
    const page = wholeNumber(pageText ?? '1', 1, 1_000_000) ?? 1;
    const shown = live.slice((page - 1) * TENANTS_PER_PAGE, page * TENANTS_PER_PAGE);
    await this.view.page(request, reply, 'organisations', {
      tenants: shown.map((tenant) => ({ ...toTenantResponse(tenant), quotaState: worst.get(tenant.id) ?? 'ok' })),
      total: live.length,
      paging: pagination(this.view.messages(request), '/console/organisations', new URLSearchParams(), page, TENANTS_PER_PAGE, live.length),
    });
  }

  /** An organisation's page; another organisation's answers 404 to a tenant token, as the API does. */
  @Get(':slug')
  @ConsoleAccess('tenant')
  async organisation(
    @Req() request: ConsoleRequest,
    @Res() reply: FastifyReply,
    @Param('slug') slug: string,
    @Query('from') fromText?: string,
    @Query('to') toText?: string,
    @Query('done') done?: string,
  ): Promise<void> {
    const scope = tenantScopeOf(request.consoleUser!.principal);
    const tenant = await this.tenants.get(slug, scope);
    const period = this.period(fromText, toText);
    const [quotas, grants, allocations, showback] = await Promise.all([
      this.quotas.positions(slug, scope),
      this.grants.list(slug, true, scope),
      this.allocations.list({ tenant: slug, status: 'active', limit: 1000 }, scope),
      period.errors.length === 0 ? this.reports.showback({ from: period.from, to: period.to }, tenant.id) : null,
    ]);
    await this.view.page(request, reply, 'organisation', {
      tenant: toTenantResponse(tenant),
      quotas: Object.entries(quotas.quotas).map(([resourceClass, position]) => ({ resourceClass, ...position })),
      runningGrants: grants.filter((grant) => grant.state === 'active'),
      pastGrants: grants.filter((grant) => grant.state !== 'active'),
      allocations,
      period,
      showback: showback?.tenants[0] ?? null,
      measuredClasses: showback?.measuredClasses ?? [],
      csvHref: `/console/organisations/${slug}/showback.csv?${new URLSearchParams({ from: period.from, to: period.to }).toString()}`,
      errors: period.errors,
      done: ['grant-created', 'grant-revoked'].includes(done ?? '') ? done : null,
    });
  }

  /** The showback of one organisation as the API's CSV (GET /v1/reports/showback?format=csv), for its period. */
  @Get(':slug/showback.csv')
  @ConsoleAccess('tenant')
  async showbackCsv(
    @Req() request: ConsoleRequest,
    @Res() reply: FastifyReply,
    @Param('slug') slug: string,
    @Query('from') fromText?: string,
    @Query('to') toText?: string,
  ): Promise<void> {
    const tenant = await this.tenants.get(slug, tenantScopeOf(request.consoleUser!.principal));
    const period = this.period(fromText, toText);
    if (period.errors.length > 0) throw new ProblemException(400, 'ValidationFailed', 'the period is not valid');
    const report = await this.reports.showback({ from: period.from, to: period.to }, tenant.id);
    await reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="showback-${slug}-${period.from}-${period.to}.csv"`)
      .send(this.reports.toCsv(report));
  }

  @Get(':slug/grants/new')
  @ConsoleAccess('operator')
  async newGrant(@Req() request: ConsoleRequest, @Res() reply: FastifyReply, @Param('slug') slug: string): Promise<void> {
    const tenant = await this.tenants.get(slug);
    const quotas = await this.quotas.positions(slug);
    await this.view.page(request, reply, 'grant-new', { tenant: toTenantResponse(tenant), classes: Object.keys(quotas.quotas), values: {} });
  }

  @Post(':slug/grants')
  @ConsoleAccess('operator')
  async createGrant(@Req() request: ConsoleRequest, @Res() reply: FastifyReply, @Param('slug') slug: string, @Body() body: unknown): Promise<void> {
    const tenant = await this.tenants.get(slug);
    const quotas = await this.quotas.positions(slug);
    const classes = Object.keys(quotas.quotas);
    const values = {
      resourceClass: field(body, 'resourceClass'),
      amount: field(body, 'amount'),
      reason: field(body, 'reason'),
      expiresDay: field(body, 'expires-day'),
      expiresMonth: field(body, 'expires-month'),
      expiresYear: field(body, 'expires-year'),
    };
    const errors: FieldErrors = [];
    if (!classes.includes(values.resourceClass)) errors.push({ field: 'resourceClass', key: 'grant.errors.resourceClass' });
    if (values.amount === '') errors.push({ field: 'amount', key: 'grant.errors.amount' });
    const day = dayOf(values.expiresDay, values.expiresMonth, values.expiresYear);
    // A grant runs until the end of the day given (UTC).
    const expiresAt = day ? new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS) : null;
    if (!expiresAt) errors.push({ field: 'expires-day', key: 'grant.errors.expiresAt' });
    const dto = {
      resources: { [values.resourceClass]: /^\d+$/.test(values.amount) ? Number(values.amount) : values.amount },
      expiresAt,
      reason: values.reason,
    };
    if ((await invalidFields(CreateGrantDto, dto, ['reason'])).length > 0) errors.push({ field: 'reason', key: 'grant.errors.reason' });
    if (errors.length === 0) {
      try {
        await this.grants.create(slug, dto as CreateGrantDto, tokenActor(request.consoleUser!.principal.tokenId));
        return reply.redirect(`/console/organisations/${slug}?done=grant-created`, 303);
      } catch (error) {
        if (!(error instanceof ProblemException) || error.getStatus() >= 500) throw error;
        // The service's refusals (an amount not in the class's unit, an expiry too far ahead): shown on the form.
        const detail = String(error.toProblem().detail ?? '');
        errors.push(
          detail.startsWith('expiresAt')
            ? { field: 'expires-day', key: 'grant.errors.expiresAt' }
            : { field: 'amount', key: 'grant.errors.refused', values: { detail } },
        );
      }
    }
    await this.view.page(request, reply, 'grant-new', { tenant: toTenantResponse(tenant), classes, values, errors }, 400);
  }

  @Post(':slug/grants/:id/revoke')
  @ConsoleAccess('operator')
  async revokeGrant(
    @Req() request: ConsoleRequest,
    @Res() reply: FastifyReply,
    @Param('slug') slug: string,
    @Param('id', new ParseUUIDPipe()) id: string,
  ): Promise<void> {
    await this.grants.revoke(slug, id, tokenActor(request.consoleUser!.principal.tokenId));
    await reply.redirect(`/console/organisations/${slug}?done=grant-revoked`, 303);
  }

  /** The showback period: from and to as dates (UTC), by default this month so far (to tomorrow). */
  private period(fromText: string | undefined, toText: string | undefined): { from: string; to: string; errors: FieldErrors } {
    const now = this.clock.now();
    const from = fromText ?? `${now.toISOString().slice(0, 7)}-01`;
    const to = toText ?? new Date(now.getTime() + DAY_MS).toISOString().slice(0, 10);
    const errors: FieldErrors = [];
    const isDay = (text: string) => /^\d{4}-\d{2}-\d{2}$/.test(text) && dayOf(text.slice(8), text.slice(5, 7), text.slice(0, 4)) !== null;
    if (!isDay(from)) errors.push({ field: 'from', key: 'showback.errors.from' });
    if (!isDay(to)) errors.push({ field: 'to', key: 'showback.errors.to' });
    if (errors.length === 0 && to <= from) errors.push({ field: 'to', key: 'showback.errors.order' });
    if (errors.length === 0 && Date.parse(to) - Date.parse(from) > 400 * DAY_MS) errors.push({ field: 'to', key: 'showback.errors.tooLong' });
    return { from, to, errors };
  }
}
