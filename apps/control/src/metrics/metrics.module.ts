import { Module } from '@nestjs/common';
import { CapacityModule } from '../capacity/capacity.module';
import { MetricsController } from './metrics.controller';
import { MetricsJobs } from './metrics-jobs';
import { MetricsRepository } from './metrics.repository';
import { MetricsService } from './metrics.service';
import { MetricsTokenGuard } from './metrics-token.guard';
import { TelemetryModule } from '../telemetry/telemetry.module';

/** GET /metrics: the facility read from the database on each scrape, and this process's own counters (TelemetryModule). */
@Module({
  imports: [CapacityModule, TelemetryModule],
  controllers: [MetricsController],
  providers: [MetricsService, MetricsRepository, MetricsTokenGuard, MetricsJobs],
})
export class MetricsModule {}
