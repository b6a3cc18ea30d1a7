import { Module } from '@nestjs/common';
import { AuditEnforcementSink } from './audit-enforcement-sink';
import { AuditLog } from './audit-log';
import { AuditController } from './audit.controller';
import { AuditRepository } from './audit.repository';
import { AuditScheduler } from './audit.scheduler';
import { AuditService } from './audit.service';

/** The tamper-evident audit log: feature modules import it to record their changes through AuditLog. */
@Module({
  controllers: [AuditController],
  providers: [AuditLog, AuditRepository, AuditService, AuditScheduler, AuditEnforcementSink],
  exports: [AuditLog, AuditEnforcementSink],
})
export class AuditModule {}
