import { Module } from '@nestjs/common';
import { QuotasModule } from '../quotas/quotas.module';
import { ENFORCEMENT_EVENT_SINKS, EnforcementEventSink } from './enforcement-events';
import { EnforcementRepository } from './enforcement.repository';
import { EnforcementScheduler } from './enforcement.scheduler';
import { EnforcementService } from './enforcement.service';
import { WebhookDeliveryService } from './webhook-delivery.service';
import { WebhookOutbox } from './webhook-outbox';

@Module({
  imports: [QuotasModule],
  providers: [
    EnforcementService,
    EnforcementRepository,
    EnforcementScheduler,
    WebhookOutbox,
    WebhookDeliveryService,
    // The durable consumers of enforcement events; the audit log's sink joins this list.
    { provide: ENFORCEMENT_EVENT_SINKS, inject: [WebhookOutbox], useFactory: (...sinks: EnforcementEventSink[]) => sinks },
  ],
  exports: [EnforcementService],
})
export class EnforcementModule {}
