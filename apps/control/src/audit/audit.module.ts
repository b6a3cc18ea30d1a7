import { Module } from '@nestjs/common';
import { AuditEnforcementSink } from './audit-enforcement-sink';
import { CONTROL_CONFIG } from '../config/control-config';
import { AuditKeyring } from './audit-keyring';
import { AuditLog } from './audit-log';
import { AuditController } from './audit.controller';
import { AuditRepository } from './audit.repository';
import { AuditScheduler } from './audit.scheduler';
import { AuditService } from './audit.service';

/** The tamper-evident audit log: feature modules import it to record their changes through AuditLog. */
@Module({
  controllers: [AuditController],
  providers: [
    { provide: AuditKeyring, inject: [CONTROL_CONFIG], useFactory: AuditKeyring.fromConfig },
    AuditLog,
    AuditRepository,
    AuditService,
    AuditScheduler,
    AuditEnforcementSink,
  ],
  exports: [AuditLog, AuditEnforcementSink],
})
export class AuditModule {}
