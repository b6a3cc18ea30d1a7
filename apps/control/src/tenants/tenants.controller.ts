import { Body, Controller, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Actor } from '../common/actor';
import { CurrentActor, CurrentTenantScope, RequireRole, TenantReadable, TenantScope } from '../common/principal';
import { CreateTenantDto, ListTenantsQueryDto, TenantResponseDto, toTenantResponse, UpdateTenantDto } from './tenant.dto';
import { TenantsService } from './tenants.service';

@ApiTags('tenants')
@ApiBearerAuth()
@Controller('v1/tenants')
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  @Post()
  @RequireRole('operator')
  @ApiOperation({ summary: 'Onboard a tenant' })
  async create(@Body() body: CreateTenantDto, @CurrentActor() actor: Actor): Promise<TenantResponseDto> {
    return toTenantResponse(await this.tenants.create(body, actor));
  }

  @Get()
  @RequireRole('viewer')
  @TenantReadable()
  @ApiOperation({ summary: 'List tenants (a tenant token sees its own only)' })
  async list(@Query() query: ListTenantsQueryDto, @CurrentTenantScope() scope: TenantScope): Promise<TenantResponseDto[]> {
    return (await this.tenants.list(query.state, scope)).map(toTenantResponse);
  }

  @Get(':slug')
  @RequireRole('viewer')
  @TenantReadable()
  @ApiOperation({ summary: 'Show a tenant' })
  async get(@Param('slug') slug: string, @CurrentTenantScope() scope: TenantScope): Promise<TenantResponseDto> {
    return toTenantResponse(await this.tenants.get(slug, scope));
  }

  @Patch(':slug')
  @RequireRole('operator')
  @ApiOperation({ summary: 'Change a tenant (the slug is immutable)' })
  async update(@Param('slug') slug: string, @Body() body: UpdateTenantDto, @CurrentActor() actor: Actor): Promise<TenantResponseDto> {
    return toTenantResponse(await this.tenants.update(slug, body, actor));
  }

  @Delete(':slug')
  @RequireRole('operator')
  @ApiOperation({ summary: 'Offboard a tenant; refused (409) while it has active allocations' })
  async offboard(@Param('slug') slug: string, @CurrentActor() actor: Actor): Promise<TenantResponseDto> {
    return toTenantResponse(await this.tenants.offboard(slug, actor));
  }
}
