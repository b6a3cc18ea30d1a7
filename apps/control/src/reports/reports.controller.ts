import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiExtraModels, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentTenantScope, RequireRole, TenantReadable, TenantScope } from '../common/principal';
import { IdleClassUseDto, IdleQueryDto, IdleResponseDto, ShowbackPriceDto, ShowbackQueryDto, ShowbackResourceDto, ShowbackResponseDto } from './report.dto';
import { ReportsService } from './reports.service';
import { ApiProblems } from '../common/problem.dto';

@ApiTags('reports')
@ApiBearerAuth()
// Referenced from maps (additionalProperties), which the explorer does not follow by itself.
@ApiExtraModels(ShowbackResourceDto, ShowbackPriceDto, IdleClassUseDto)
@ApiProblems()
@Controller('v1/reports')
export class ReportsController {
  constructor(private readonly reports: ReportsService) {}

  @Get('showback')
  @RequireRole('viewer')
  @TenantReadable()
  @ApiOperation({ summary: 'Per tenant and class, unit-hours allocated and measured in a period (JSON, or CSV with format=csv)' })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({
    type: ShowbackResponseDto,
    description:
      'JSON; with format=csv, text/csv with header tenant,resource,unit,allocated_unit_hours,used_unit_hours (and currency,allocated_cost,used_cost when prices are configured)',
  })
  async showback(
    @Query() query: ShowbackQueryDto,
    @CurrentTenantScope() scope: TenantScope,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ShowbackResponseDto | string> {
    const report = await this.reports.showback(query, scope);
    if (query.format !== 'csv') return report;
    void reply.header('content-type', 'text/csv; charset=utf-8');
    void reply.header('content-disposition', `attachment; filename="showback-${report.from.slice(0, 10)}-${report.to.slice(0, 10)}.csv"`);
    return this.reports.toCsv(report);
  }

  @Get('idle')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Active allocations whose measured use stayed under threshold × allocated for the whole window' })
  @ApiOkResponse({ type: IdleResponseDto })
  idle(@Query() query: IdleQueryDto): Promise<IdleResponseDto> {
    return this.reports.idle(query);
  }
}
