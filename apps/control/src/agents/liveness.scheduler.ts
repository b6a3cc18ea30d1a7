import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';
import { JobRunner } from '../scheduler/job-runner';
import { LivenessService } from './liveness.service';

export const LIVENESS_JOB = 'host-liveness';

/** Sweeps host liveness once per report interval, on the replica that runs the scheduler jobs. */
@Injectable()
export class LivenessScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger(LivenessScheduler.name);

  constructor(
    private readonly liveness: LivenessService,
    private readonly jobs: JobRunner,
    @Inject(CONTROL_CONFIG) private readonly config: ControlConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.jobs.register({ name: LIVENESS_JOB, intervalMs: this.config.reportIntervalSeconds * 1000, run: () => this.sweep() });
  }

  private async sweep(): Promise<void> {
    const changed = await this.liveness.sweep();
    if (changed.stale + changed.down > 0) this.logger.warn(`hosts gone silent: ${changed.stale} now stale, ${changed.down} now down`);
  }
}
