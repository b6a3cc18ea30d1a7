import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { isPostgresUrl } from '@dcm/persistence';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';
import { JobRunner } from '../scheduler/job-runner';
import { AuditService } from './audit.service';

export const AUDIT_RETENTION_JOB = 'audit-retention';
const AUDIT_RETENTION_MS = 60 * 60_000;
export const AUDIT_SEAL_JOB = 'audit-seal';
/** How soon events whose seal failed after their commit (the database was away) are sealed at the latest. */
const AUDIT_SEAL_MS = 5_000;

@Injectable()
export class AuditScheduler implements OnApplicationBootstrap {
  constructor(
    private readonly audit: AuditService,
    private readonly jobs: JobRunner,
    @Inject(CONTROL_CONFIG) private readonly config: ControlConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.jobs.register({ name: AUDIT_RETENTION_JOB, intervalMs: AUDIT_RETENTION_MS, run: () => this.audit.applyRetention() });
    // PostgreSQL only (SQLite chains events in their own transaction): on every replica, so that one replica's lost
    // connections leave nothing pending for long.
    if (isPostgresUrl(this.config.databaseUrl)) {
      this.jobs.register({ name: AUDIT_SEAL_JOB, intervalMs: AUDIT_SEAL_MS, everyReplica: true, run: () => this.audit.sealPending() });
    }
  }
}
