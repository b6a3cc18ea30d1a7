import { Body, Controller, Delete, Get, Headers, Param, ParseUUIDPipe, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { Actor } from '../common/actor';
import { CurrentActor, CurrentPrincipal, CurrentTenantScope, Principal, RequireRole, TenantReadable, TenantScope } from '../common/principal';
import { PROBLEM_CONTENT_TYPE } from '../common/problem';
import { AllocationResponseDto, CreateAllocationDto, ListAllocationsQueryDto } from './allocation.dto';
import { AllocationsService } from './allocations.service';
import { ApiProblems } from '../common/problem.dto';

@ApiTags('allocations')
@ApiBearerAuth()
@ApiProblems()
@Controller('v1/allocations')
export class AllocationsController {
  constructor(private readonly allocations: AllocationsService) {}

  @Post()
  @RequireRole('operator')
  @ApiOperation({ summary: 'Claim resources for a tenant on one host; placement picks the host when none is named' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'A retried request with the same key returns the first result' })
  @ApiCreatedResponse({ type: AllocationResponseDto })
  async create(
    @Body() body: CreateAllocationDto,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<AllocationResponseDto | unknown> {
    const outcome = await this.allocations.create(body, principal, idempotencyKey);
    void reply.status(outcome.status);
    if (outcome.replayed) void reply.header('idempotent-replayed', 'true');
    if (outcome.status >= 400) void reply.header('content-type', PROBLEM_CONTENT_TYPE);
    return outcome.body;
  }

  @Get()
  @RequireRole('viewer')
  @TenantReadable()
  @ApiOperation({ summary: 'List allocations (active by default; a tenant token sees its own only)' })
  @ApiOkResponse({ type: [AllocationResponseDto] })
  list(@Query() query: ListAllocationsQueryDto, @CurrentTenantScope() scope: TenantScope): Promise<AllocationResponseDto[]> {
    return this.allocations.list(query, scope);
  }

  @Get(':id')
  @RequireRole('viewer')
  @TenantReadable()
  @ApiOperation({ summary: 'Show an allocation' })
  @ApiOkResponse({ type: AllocationResponseDto })
  get(@Param('id', new ParseUUIDPipe()) id: string, @CurrentTenantScope() scope: TenantScope): Promise<AllocationResponseDto> {
    return this.allocations.get(id, scope);
  }

  @Delete(':id')
  @RequireRole('operator')
  @ApiOperation({ summary: 'Release an allocation' })
  @ApiOkResponse({ type: AllocationResponseDto })
  release(@Param('id', new ParseUUIDPipe()) id: string, @CurrentActor() actor: Actor): Promise<AllocationResponseDto> {
    return this.allocations.release(id, actor);
  }
}
