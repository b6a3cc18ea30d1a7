import { Body, Controller, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Actor } from '../common/actor';
import { CurrentActor, CurrentTenantScope, RequireRole, TenantReadable, TenantScope } from '../common/principal';
import { CreateTenantDto, ListTenantsQueryDto, TenantResponseDto, toTenantResponse, UpdateTenantDto } from './tenant.dto';
import { TenantsService } from './tenants.service';
import { ApiProblems } from '../common/problem.dto';

@ApiTags('tenants')
@ApiBearerAuth()
@ApiProblems()
@Controller('v1/tenants')
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  @Post()
  @RequireRole('operator')
  @ApiOperation({ summary: 'Onboard a tenant' })
  @ApiCreatedResponse({ type: TenantResponseDto })
  async create(@Body() body: CreateTenantDto, @CurrentActor() actor: Actor): Promise<TenantResponseDto> {
    return toTenantResponse(await this.tenants.create(body, actor));
  }

  @Get()
  @RequireRole('viewer')
  @TenantReadable()
  @ApiOperation({ summary: 'List tenants (a tenant token sees its own only)' })
  @ApiOkResponse({ type: [TenantResponseDto] })
  async list(@Query() query: ListTenantsQueryDto, @CurrentTenantScope() scope: TenantScope): Promise<TenantResponseDto[]> {
    return (await this.tenants.list(query.state, scope)).map(toTenantResponse);
  }

  @Get(':slug')
  @RequireRole('viewer')
  @TenantReadable()
  @ApiOperation({ summary: 'Show a tenant' })
  @ApiOkResponse({ type: TenantResponseDto })
  async get(@Param('slug') slug: string, @CurrentTenantScope() scope: TenantScope): Promise<TenantResponseDto> {
    return toTenantResponse(await this.tenants.get(slug, scope));
  }

  @Patch(':slug')
  @RequireRole('operator')
  @ApiOperation({ summary: 'Change a tenant (the slug is immutable)' })
  @ApiOkResponse({ type: TenantResponseDto })
  async update(@Param('slug') slug: string, @Body() body: UpdateTenantDto, @CurrentActor() actor: Actor): Promise<TenantResponseDto> {
    return toTenantResponse(await this.tenants.update(slug, body, actor));
  }

  @Delete(':slug')
  @RequireRole('operator')
  @ApiOperation({ summary: 'Offboard a tenant; refused (409) while it has active allocations' })
  @ApiOkResponse({ type: TenantResponseDto })
  async offboard(@Param('slug') slug: string, @CurrentActor() actor: Actor): Promise<TenantResponseDto> {
    return toTenantResponse(await this.tenants.offboard(slug, actor));
  }
}
