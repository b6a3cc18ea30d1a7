import { Injectable } from '@nestjs/common';
import { JobRunner } from './job-runner';
import { LeaderElection } from './leader-election';
import { SchedulerStatusDto } from './scheduler.dto';

@Injectable()
export class SchedulerService {
  constructor(
    private readonly election: LeaderElection,
    private readonly jobs: JobRunner,
  ) {}

  async status(): Promise<SchedulerStatusDto> {
    return { replica: this.election.replica, leading: this.election.isLeader(), leader: await this.election.leader(), jobs: this.jobs.status() };
  }
}
