import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditLog } from '../audit/audit-log';
import { EnforcementEvent, EnforcementEventSink } from './enforcement-events';

/** Every change of enforcement state, in the audit log, in the transaction that made it. */
@Injectable()
export class AuditEnforcementSink implements EnforcementEventSink {
  constructor(private readonly auditLog: AuditLog) {}

  record(events: readonly EnforcementEvent[], tx: EntityManager): Promise<void> {
    return this.auditLog.record(
      tx,
      ...events.map((event) => ({
        actor: 'system:enforcement' as const,
        action: event.event,
        subjectType: event.resource === null ? 'tenant' : 'quota',
        subject: event.resource === null ? event.tenant : `${event.tenant}/${event.resource}`,
        before: { state: event.from },
        after: event,
      })),
    );
  }
}
