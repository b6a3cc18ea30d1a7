import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../common/principal';
import { parseInstant } from '../common/instant';
import { Problems } from '../common/problem';
import {
  AuditAnchorResponseDto,
  AuditEventResponseDto,
  AuditQueryDto,
  AuditVerificationResponseDto,
  AuditVerifyQueryDto,
  toAuditEventResponse,
} from './audit.dto';
import { AuditService } from './audit.service';
import { DEFAULT_PAGE_LIMIT } from '../common/paging';
import { ApiProblems } from '../common/problem.dto';

function instant(text: string | undefined, name: string): Date | undefined {
  if (text === undefined) return undefined;
  const ms = parseInstant(text);
  if (Number.isNaN(ms)) throw Problems.validation(`${name} is not a valid date: ${text}`);
  return new Date(ms);
}

@ApiTags('audit')
@ApiBearerAuth()
@RequireRole('viewer')
@ApiProblems()
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({ summary: 'Audit events, newest first, filtered by subject, actor, action and time; page with before=<last seq>' })
  @ApiOkResponse({ type: [AuditEventResponseDto] })
  async list(@Query() query: AuditQueryDto): Promise<AuditEventResponseDto[]> {
    const events = await this.audit.find(
      {
        subject: query.subject,
        subjectType: query.subjectType,
        actor: query.actor,
        action: query.action,
        from: instant(query.from, 'from'),
        to: instant(query.to, 'to'),
        beforeSeq: query.before,
      },
      query.limit ?? DEFAULT_PAGE_LIMIT,
    );
    return events.map(toAuditEventResponse);
  }

  @Get('verify')
  @ApiOperation({
    summary:
      "Recompute the keyed hash chain over every kept event and check that each event's before continues its subject's last after; names the first event that breaks either. With anchorSeq and anchorHash, also checks that the anchored event is still there, unchanged",
  })
  @ApiOkResponse({ type: AuditVerificationResponseDto })
  verify(@Query() query: AuditVerifyQueryDto): Promise<AuditVerificationResponseDto> {
    if ((query.anchorSeq === undefined) !== (query.anchorHash === undefined))
      throw Problems.validation('anchorSeq and anchorHash go together: give both or neither');
    return this.audit.verify(query.anchorSeq === undefined ? null : { seq: query.anchorSeq, hash: query.anchorHash! });
  }

  @Get('anchor')
  @ApiOperation({ summary: "The chain's head (seq, hash, at), to keep elsewhere and verify against later: cutting off newer events then shows" })
  @ApiOkResponse({ type: AuditAnchorResponseDto })
  anchor(): Promise<AuditAnchorResponseDto> {
    return this.audit.anchor();
  }
}
