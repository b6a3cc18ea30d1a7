import { Module } from '@nestjs/common';
import { CapacityModule } from '../capacity/capacity.module';
import { MetricsController } from './metrics.controller';
import { MetricsJobs } from './metrics-jobs';
import { MetricsRepository } from './metrics.repository';
import { MetricsService } from './metrics.service';
import { MetricsTokenGuard } from './metrics-token.guard';
import { ForecastGauge, MetricsRecorder, ProcessMetrics } from './process-metrics';

/**
 * GET /metrics. Features that count or time something import this module and inject MetricsRecorder (or, for the
 * forecast job, ForecastGauge).
 */
@Module({
  imports: [CapacityModule],
  controllers: [MetricsController],
  providers: [MetricsService, MetricsRepository, MetricsTokenGuard, ProcessMetrics, MetricsRecorder, ForecastGauge, MetricsJobs],
  exports: [MetricsRecorder, ForecastGauge],
})
export class MetricsModule {}
