import { Controller, Get, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/principal';
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
  @ApiBearerAuth()
  @ApiProduces('text/plain')
  @ApiOperation({ summary: 'Prometheus metrics of the facility and of this control process; needs the metrics token when one is set' })
  @ApiOkResponse({ description: 'The Prometheus text format (version 0.0.4)', schema: { type: 'string' } })
  async scrape(@Res() reply: FastifyReply): Promise<void> {
    const parts = await this.metrics.exposition();
    // Written here rather than through reply.send, which takes one buffer or a stream: the parts go out corked, in a
    // few writev calls, without first being copied into one 18 MiB buffer or trickled through a stream chunk by chunk.
    reply.hijack();
    const response = reply.raw;
    response.writeHead(200, {
      'content-type': EXPOSITION_CONTENT_TYPE,
      'cache-control': 'no-store',
      'content-length': parts.reduce((length, part) => length + part.length, 0),
    });
    response.cork();
    for (const part of parts) response.write(part);
    response.end();
  }
}
