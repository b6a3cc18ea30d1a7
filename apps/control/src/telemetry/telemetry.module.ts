import { Module } from '@nestjs/common';
import { ForecastGauge, MetricsRecorder, ProcessMetrics } from './process-metrics';

/**
 * What only this process counts and times, for /metrics to expose: features that count or time something (ingest,
 * admission, the scheduler's jobs) import this module and inject MetricsRecorder (or, for the forecast job,
 * ForecastGauge), so that none of them depends on the metrics feature.
 */
@Module({
  providers: [ProcessMetrics, MetricsRecorder, ForecastGauge],
  exports: [ProcessMetrics, MetricsRecorder, ForecastGauge],
})
export class TelemetryModule {}
