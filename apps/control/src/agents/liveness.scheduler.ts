import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';
import { LivenessService } from './liveness.service';

const JOB = 'host-liveness';

/** Sweeps host liveness once per report interval (the interval comes from configuration, hence no @Interval). */
@Injectable()
export class LivenessScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(LivenessScheduler.name);

  constructor(
    private readonly liveness: LivenessService,
    private readonly registry: SchedulerRegistry,
    @Inject(CONTROL_CONFIG) private readonly config: ControlConfig,
  ) {}

  onApplicationBootstrap(): void {
    const timer = setInterval(() => void this.sweep(), this.config.reportIntervalSeconds * 1000);
    timer.unref();
    this.registry.addInterval(JOB, timer);
  }

  onApplicationShutdown(): void {
    if (this.registry.doesExist('interval', JOB)) this.registry.deleteInterval(JOB);
  }

  private async sweep(): Promise<void> {
    try {
      const changed = await this.liveness.sweep();
      if (changed.stale + changed.down > 0) this.logger.warn(`hosts gone silent: ${changed.stale} now stale, ${changed.down} now down`);
    } catch (error) {
      this.logger.error(`liveness sweep failed: ${(error as Error).message}`);
    }
  }
}
