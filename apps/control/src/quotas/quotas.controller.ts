import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Actor } from '../common/actor';
import { CurrentActor, CurrentTenantScope, RequireRole, TenantReadable, TenantScope } from '../common/principal';
import { QuotaPositionDto, TenantQuotasResponseDto } from './quota.dto';
import { QuotasService } from './quotas.service';
import { ApiProblems } from '../common/problem.dto';

@ApiTags('quotas')
@ApiBearerAuth()
@ApiProblems()
@ApiExtraModels(QuotaPositionDto)
@Controller('v1/tenants/:slug/quotas')
export class QuotasController {
  constructor(private readonly quotas: QuotasService) {}

  @Get()
  @RequireRole('viewer')
  @TenantReadable()
  @ApiOperation({ summary: "A tenant's quotas: per class limit, granted, effective limit, allocated, used, available and state" })
  @ApiOkResponse({ type: TenantQuotasResponseDto })
  get(@Param('slug') slug: string, @CurrentTenantScope() scope: TenantScope): Promise<TenantQuotasResponseDto> {
    return this.quotas.positions(slug, scope);
  }

  @Put()
  @RequireRole('operator')
  @ApiOperation({ summary: 'Replace a tenant\'s quotas; byte classes accept "256GiB"-style strings' })
  @ApiBody({
    schema: {
      type: 'object',
      additionalProperties: { oneOf: [{ type: 'integer' }, { type: 'string' }] },
      example: { vcpu: 64, memory: '256GiB', storage: '20TiB' },
    },
  })
  @ApiOkResponse({ type: TenantQuotasResponseDto })
  replace(@Param('slug') slug: string, @Body() body: unknown, @CurrentActor() actor: Actor): Promise<TenantQuotasResponseDto> {
    return this.quotas.replace(slug, body, actor);
  }
}
