import { Body, Controller, Delete, Get, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Actor } from '../common/actor';
import { CurrentActor, CurrentTenantScope, RequireRole, TenantReadable, TenantScope } from '../common/principal';
import { CreateGrantDto, GrantResponseDto, ListGrantsQueryDto } from './grant.dto';
import { GrantsService } from './grants.service';
import { ApiProblems } from '../common/problem.dto';

@ApiTags('grants')
@ApiBearerAuth()
@ApiProblems()
@Controller('v1/tenants/:slug/grants')
export class GrantsController {
  constructor(private readonly grants: GrantsService) {}

  @Post()
  @RequireRole('operator')
  @ApiOperation({ summary: "Grant a time-boxed increase of a tenant's quotas, with a reason; the effective limit is quota + running grants" })
  @ApiCreatedResponse({ type: GrantResponseDto })
  create(@Param('slug') slug: string, @Body() body: CreateGrantDto, @CurrentActor() actor: Actor): Promise<GrantResponseDto> {
    return this.grants.create(slug, body, actor);
  }

  @Get()
  @RequireRole('viewer')
  @TenantReadable()
  @ApiOperation({ summary: "A tenant's running surge grants (all=true: also those that ended)" })
  @ApiOkResponse({ type: [GrantResponseDto] })
  list(@Param('slug') slug: string, @Query() query: ListGrantsQueryDto, @CurrentTenantScope() scope: TenantScope): Promise<GrantResponseDto[]> {
    return this.grants.list(slug, query.all ?? false, scope);
  }

  @Delete(':id')
  @RequireRole('operator')
  @ApiOperation({ summary: 'End a surge grant now' })
  @ApiOkResponse({ type: GrantResponseDto })
  revoke(@Param('slug') slug: string, @Param('id', new ParseUUIDPipe()) id: string, @CurrentActor() actor: Actor): Promise<GrantResponseDto> {
    return this.grants.revoke(slug, id, actor);
  }
}
