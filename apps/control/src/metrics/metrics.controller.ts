import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/principal';
import { NotRateLimited } from '../common/rate-limit';
import { EXPOSITION_CONTENT_TYPE } from './exposition';
import { MetricsTokenGuard } from './metrics-token.guard';
import { MetricsService } from './metrics.service';

@ApiTags('metrics')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Public()
  @NotRateLimited()
  @UseGuards(MetricsTokenGuard)
  @Header('content-type', EXPOSITION_CONTENT_TYPE)
  @Header('cache-control', 'no-store')
  @ApiBearerAuth()
  @ApiProduces('text/plain')
  @ApiOperation({ summary: 'Prometheus metrics of the facility and of this control process; needs the metrics token when one is set' })
  @ApiOkResponse({ description: 'The Prometheus text format (version 0.0.4)', schema: { type: 'string' } })
  scrape(): Promise<Buffer> {
    return this.metrics.exposition();
  }
}
