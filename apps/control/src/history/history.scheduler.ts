import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { JobRunner } from '../scheduler/job-runner';
import { CapacitySamplingService } from './capacity-sampling.service';
import { DownsamplingService } from './downsampling.service';

export const CAPACITY_SAMPLING_JOB = 'capacity-sampling';
export const DOWNSAMPLING_JOB = 'downsampling';
const CAPACITY_SAMPLING_MS = 60_000;
const DOWNSAMPLING_MS = 15 * 60_000;

@Injectable()
export class HistoryScheduler implements OnApplicationBootstrap {
  constructor(
    private readonly sampling: CapacitySamplingService,
    private readonly downsampling: DownsamplingService,
    private readonly jobs: JobRunner,
  ) {}

  onApplicationBootstrap(): void {
    this.jobs.register({ name: CAPACITY_SAMPLING_JOB, intervalMs: CAPACITY_SAMPLING_MS, run: () => this.sampling.sample() });
    this.jobs.register({ name: DOWNSAMPLING_JOB, intervalMs: DOWNSAMPLING_MS, run: () => this.downsampling.run() });
  }
}
