import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';
import { JobRunner } from '../scheduler/job-runner';
import { EnforcementService } from './enforcement.service';
import { WebhookDeliveryService } from './webhook-delivery.service';

export const ENFORCEMENT_JOB = 'enforcement';
export const WEBHOOK_DELIVERY_JOB = 'webhook-delivery';
const WEBHOOK_POLL_MS = 5_000;

@Injectable()
export class EnforcementScheduler implements OnApplicationBootstrap {
  constructor(
    private readonly enforcement: EnforcementService,
    private readonly delivery: WebhookDeliveryService,
    private readonly jobs: JobRunner,
    @Inject(CONTROL_CONFIG) private readonly config: ControlConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.jobs.register({ name: ENFORCEMENT_JOB, intervalMs: this.config.enforcementIntervalSeconds * 1000, run: () => this.enforce() });
    this.jobs.register({ name: WEBHOOK_DELIVERY_JOB, intervalMs: WEBHOOK_POLL_MS, run: () => this.delivery.deliverDue() });
  }

  private async enforce(): Promise<void> {
    const outcome = await this.enforcement.evaluate();
    // Deliver what the pass queued now rather than at the next poll; not awaited, so a slow receiver never holds the pass.
    if (outcome.events.length > 0) void this.jobs.trigger(WEBHOOK_DELIVERY_JOB);
  }
}
