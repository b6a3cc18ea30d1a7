import { Global, Module } from '@nestjs/common';
import { JobRunner } from './job-runner';
import { LeaderElection } from './leader-election';
import { SchedulerController } from './scheduler.controller';
import { SchedulerService } from './scheduler.service';

/** Leader election and the job runner: infrastructure that every feature's *.scheduler.ts registers its jobs with. */
@Global()
@Module({
  controllers: [SchedulerController],
  providers: [LeaderElection, JobRunner, SchedulerService],
  exports: [LeaderElection, JobRunner],
})
export class SchedulerModule {}
