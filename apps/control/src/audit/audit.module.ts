import { Module } from '@nestjs/common';
import { AuditEnforcementSink } from './audit-enforcement-sink';
import { AuditChainModule } from './audit-chain.module';
import { AuditController } from './audit.controller';
import { AuditRepository } from './audit.repository';
import { AuditScheduler } from './audit.scheduler';
import { AuditService } from './audit.service';

/** The tamper-evident audit log: feature modules import it to record their changes through AuditLog. */
@Module({
  imports: [AuditChainModule],
  controllers: [AuditController],
  providers: [AuditRepository, AuditService, AuditScheduler, AuditEnforcementSink],
  exports: [AuditChainModule, AuditEnforcementSink, AuditService],
})
export class AuditModule {}
