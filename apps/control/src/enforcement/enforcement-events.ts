import type { QuotaState } from '@dcm/domain';
import type { EntityManager } from 'typeorm';

/** What every consumer of enforcement (log, webhook, audit log) is told, one change at a time. */
export type EnforcementEvent =
  | {
      /** Unique per change: webhook receivers use it (also sent as X-Dcm-Delivery) to drop redelivered events. */
      id: string;
      event: 'quota.state_changed';
      tenant: string;
      resource: string;
      from: QuotaState;
      to: QuotaState;
      /** ISO 8601 instant of the pass that saw the change. */
      at: string;
      limit: number;
      allocated: number;
      used: number | null;
    }
  | {
      id: string;
      event: 'tenant.frozen' | 'tenant.unfrozen';
      tenant: string;
      resource: null;
      from: 'active' | 'frozen';
      to: 'active' | 'frozen';
      at: string;
      /** The classes over quota (for a freeze: over for longer than the grace period). */
      resources: string[];
      reason: string;
    };

/**
 * A consumer that keeps events durably: it records them inside the transaction that makes the change, so that an event
 * exists exactly when its change was committed. The webhook outbox and the audit log are two.
 */
export interface EnforcementEventSink {
  record(events: readonly EnforcementEvent[], tx: EntityManager): Promise<void>;
}

export const ENFORCEMENT_EVENT_SINKS = Symbol('EnforcementEventSinks');
