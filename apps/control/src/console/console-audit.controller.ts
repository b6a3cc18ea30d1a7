import { Controller, Get, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AuditQueryDto, toAuditEventResponse } from '../audit/audit.dto';
import { AuditService } from '../audit/audit.service';
import { Public } from '../common/principal';
import { parseInstant } from '../common/instant';
import { ConsoleAccess, ConsoleAuthGuard } from './console-auth';
import { ConsoleExceptionFilter } from './console.filter';
import { invalidFields, wholeNumber } from './console-forms';
import { ConsoleRequest, ConsoleView, FieldErrors } from './console-view';
import type { MessageKey } from './i18n/en';

export const AUDIT_EVENTS_PER_PAGE = 50;
const FILTERS = ['subject', 'subjectType', 'actor', 'action', 'from', 'to'] as const;

/** The audit log, newest first, filtered as GET /v1/audit is, paged back by seq, with the chain's verify status. */
@ApiExcludeController()
@Public()
@UseGuards(ConsoleAuthGuard)
@UseFilters(ConsoleExceptionFilter)
@ConsoleAccess('viewer')
@Controller('console/audit')
export class ConsoleAuditController {
  constructor(
    private readonly view: ConsoleView,
    private readonly audit: AuditService,
  ) {}

  @Get()
  async list(@Req() request: ConsoleRequest, @Res() reply: FastifyReply, @Query() query: Record<string, string | undefined>): Promise<void> {
    const filter = Object.fromEntries(FILTERS.flatMap((name) => (query[name] ? [[name, query[name].trim()]] : []))) as Partial<
      Record<(typeof FILTERS)[number], string>
    >;
    const refused = await invalidFields(AuditQueryDto, filter, FILTERS);
    const errors: FieldErrors = refused.map((name) => ({ field: name, key: `audit.errors.${name}` as MessageKey }));
    const before = query.before ? (wholeNumber(query.before, 1, Number.MAX_SAFE_INTEGER) ?? undefined) : undefined;
    const instant = (text: string | undefined) => (text && !refused.includes('from') && !refused.includes('to') ? new Date(parseInstant(text)) : undefined);
    const [events, verification] = await Promise.all([
      errors.length > 0
        ? []
        : this.audit.find(
            { ...filter, from: instant(filter.from), to: instant(filter.to), beforeSeq: before },
            AUDIT_EVENTS_PER_PAGE + 1, // one more than shown: whether an older page exists
          ),
      this.audit.verify(),
    ]);
    const shown = events.slice(0, AUDIT_EVENTS_PER_PAGE).map(toAuditEventResponse);
    const older = events.length > AUDIT_EVENTS_PER_PAGE ? new URLSearchParams({ ...filter, before: String(shown[shown.length - 1].seq) }).toString() : null;
    await this.view.page(
      request,
      reply,
      'audit',
      {
        events: shown,
        filter,
        verification,
        olderHref: older && `/console/audit?${older}`,
        newestHref: before ? `/console/audit?${new URLSearchParams(filter).toString()}` : null,
        errors,
      },
      errors.length > 0 ? 400 : 200,
    );
  }
}
