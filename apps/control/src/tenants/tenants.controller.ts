import { Body, Controller, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../auth/principal';
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
  async create(@Body() body: CreateTenantDto): Promise<TenantResponseDto> {
    return toTenantResponse(await this.tenants.create(body));
  }

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: 'List tenants' })
  async list(@Query() query: ListTenantsQueryDto): Promise<TenantResponseDto[]> {
    return (await this.tenants.list(query.state)).map(toTenantResponse);
  }

  @Get(':slug')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Show a tenant' })
  async get(@Param('slug') slug: string): Promise<TenantResponseDto> {
    return toTenantResponse(await this.tenants.get(slug));
  }

  @Patch(':slug')
  @RequireRole('operator')
  @ApiOperation({ summary: 'Change a tenant (the slug is immutable)' })
  async update(@Param('slug') slug: string, @Body() body: UpdateTenantDto): Promise<TenantResponseDto> {
    return toTenantResponse(await this.tenants.update(slug, body));
  }

  @Delete(':slug')
  @RequireRole('operator')
  @ApiOperation({ summary: 'Offboard a tenant; refused (409) while it has active allocations' })
  async offboard(@Param('slug') slug: string): Promise<TenantResponseDto> {
    return toTenantResponse(await this.tenants.offboard(slug));
  }
}
