import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { JobRunner } from '../scheduler/job-runner';
import { GrantsService } from './grants.service';

export const GRANT_EXPIRY_JOB = 'grant-expiry';
/** Grants end within this long of their expiry (an expired grant's endedAt is its expiry all the same). */
const GRANT_EXPIRY_MS = 5_000;

@Injectable()
export class GrantsScheduler implements OnApplicationBootstrap {
  constructor(
    private readonly grants: GrantsService,
    private readonly jobs: JobRunner,
  ) {}

  onApplicationBootstrap(): void {
    this.jobs.register({ name: GRANT_EXPIRY_JOB, intervalMs: GRANT_EXPIRY_MS, run: () => this.grants.expire() });
  }
}
