import { Module } from '@nestjs/common';
import { AuditChainModule } from './audit-chain.module';
import { AuditController } from './audit.controller';
import { AuditRepository } from './audit.repository';
import { AuditScheduler } from './audit.scheduler';
import { AuditService } from './audit.service';

/** The tamper-evident audit log: feature modules import it to record their changes through AuditLog. */
@Module({
  imports: [AuditChainModule],
  controllers: [AuditController],
  providers: [AuditRepository, AuditService, AuditScheduler],
  exports: [AuditChainModule, AuditService],
})
export class AuditModule {}
