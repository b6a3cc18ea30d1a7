import { Body, Controller, HttpCode, Param, ParseUUIDPipe, PipeTransform, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  EnrolRequest,
  EnrolRequestSchema,
  EnrolResponse,
  EnrolResponseSchema,
  IngestResponse,
  IngestResponseSchema,
  ReportBatchSchema,
  validateEnrolRequest,
} from '@dcm/protocol';
import { AgentRoute, CurrentPrincipal, Principal, Public } from '../common/principal';
import { MetricsRecorder } from '../telemetry/process-metrics';
import { AgentsService } from './agents.service';
import { reportsOf, validated } from './protocol-validation';
import { ApiProblems } from '../common/problem.dto';

/** Validates a body against a @dcm/protocol schema: the wire format both sides share. */
class ProtocolPipe<T> implements PipeTransform<unknown, T> {
  constructor(private readonly validate: (value: unknown) => { ok: true; value: T } | { ok: false; errors: string[] }) {}

  transform(value: unknown): T {
    return validated(this.validate(value));
  }
}

@ApiTags('agents')
@ApiProblems()
@Controller('v1/agents')
export class AgentsController {
  constructor(
    private readonly agents: AgentsService,
    private readonly metrics: MetricsRecorder,
  ) {}

  @Post('enrol')
  @Public()
  @ApiOperation({ summary: 'Enrol a host agent with a join token; answers the agent its own id and token' })
  @ApiBody({ schema: EnrolRequestSchema as object })
  @ApiCreatedResponse({ schema: EnrolResponseSchema as object })
  enrol(@Body(new ProtocolPipe(validateEnrolRequest)) body: EnrolRequest): Promise<EnrolResponse> {
    return this.agents.enrol(body);
  }

  @Post(':id/reports')
  @HttpCode(200)
  @AgentRoute()
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Post one report or an array of them (replay after an outage); duplicates by seq are ignored' })
  @ApiBody({ schema: ReportBatchSchema as object })
  @ApiOkResponse({ schema: IngestResponseSchema as object })
  ingest(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: unknown, @CurrentPrincipal() principal: Principal): Promise<IngestResponse> {
    // Validated here rather than in a pipe, so that a refused batch counts as rejected reports (as many as it held).
    return this.agents.ingest(id, principal, reportsOf(body, this.metrics));
  }
}
