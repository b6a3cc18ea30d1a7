import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../auth/principal';
import { TenantQuotasResponseDto } from './quota.dto';
import { QuotasService } from './quotas.service';

@ApiTags('quotas')
@ApiBearerAuth()
@Controller('v1/tenants/:slug/quotas')
export class QuotasController {
  constructor(private readonly quotas: QuotasService) {}

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: "A tenant's quotas: per class limit, allocated, used, available and state" })
  get(@Param('slug') slug: string): Promise<TenantQuotasResponseDto> {
    return this.quotas.positions(slug);
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
  replace(@Param('slug') slug: string, @Body() body: unknown): Promise<TenantQuotasResponseDto> {
    return this.quotas.replace(slug, body);
  }
}
