import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { CapacityForecastService } from '../capacity/capacity-forecast.service';
import { JobRunner } from '../scheduler/job-runner';
import { ForecastGauge, MetricsRecorder } from '../telemetry/process-metrics';

/** How often each replica recomputes `dcm_capacity_forecast_full_timestamp_seconds`: the forecast moves over days. */
const FORECAST_INTERVAL_MS = 5 * 60_000;

/** Feeds /metrics from the scheduler: every job run's duration, and the capacity forecast. */
@Injectable()
export class MetricsJobs implements OnApplicationBootstrap {
  private readonly logger = new Logger(MetricsJobs.name);

  constructor(
    private readonly jobs: JobRunner,
    private readonly recorder: MetricsRecorder,
    private readonly forecast: ForecastGauge,
    private readonly forecasts: CapacityForecastService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.jobs.observe((job, seconds) => this.recorder.observeJob(job, seconds));
    // On every replica, not only the leader: each one's /metrics should show the forecast.
    this.jobs.register({ name: 'forecast-gauges', intervalMs: FORECAST_INTERVAL_MS, everyReplica: true, run: () => this.refreshForecast() });
    // A first value at once rather than after the first interval; a failure here only delays it to the next run.
    await this.refreshForecast().catch((error: Error) => this.logger.warn(`capacity forecast for /metrics not computed yet: ${error.message}`));
  }

  /** Recomputes every site's and class's forecast; classes that stopped filling lose their series. */
  async refreshForecast(): Promise<void> {
    const gauges = await this.forecasts.gauges();
    this.forecast.reset();
    for (const gauge of gauges) this.forecast.set(gauge.site, gauge.resource, gauge.basis, gauge.timestampSeconds);
  }
}
