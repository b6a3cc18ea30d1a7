import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuditEnforcementSink } from './audit-enforcement-sink';
import { QuotasModule } from '../quotas/quotas.module';
import { ENFORCEMENT_EVENT_SINKS, EnforcementEventSink } from './enforcement-events';
import { EnforcementRepository } from './enforcement.repository';
import { EnforcementScheduler } from './enforcement.scheduler';
import { EnforcementService } from './enforcement.service';
import { WebhookDeliveryService } from './webhook-delivery.service';
import { WebhookOutbox } from './webhook-outbox';

@Module({
  imports: [QuotasModule, AuditModule],
  providers: [
    EnforcementService,
    EnforcementRepository,
    EnforcementScheduler,
    WebhookOutbox,
    WebhookDeliveryService,
    AuditEnforcementSink,
    // The durable consumers of enforcement events.
    { provide: ENFORCEMENT_EVENT_SINKS, inject: [AuditEnforcementSink, WebhookOutbox], useFactory: (...sinks: EnforcementEventSink[]) => sinks },
  ],
  exports: [EnforcementService],
})
export class EnforcementModule {}
