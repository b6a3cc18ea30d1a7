import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { JobRunner } from '../scheduler/job-runner';
import { AuditService } from './audit.service';

export const AUDIT_RETENTION_JOB = 'audit-retention';
const AUDIT_RETENTION_MS = 60 * 60_000;

@Injectable()
export class AuditScheduler implements OnApplicationBootstrap {
  constructor(
    private readonly audit: AuditService,
    private readonly jobs: JobRunner,
  ) {}

  onApplicationBootstrap(): void {
    this.jobs.register({ name: AUDIT_RETENTION_JOB, intervalMs: AUDIT_RETENTION_MS, run: () => this.audit.applyRetention() });
  }
}
