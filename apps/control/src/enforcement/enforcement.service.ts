import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { decideEnforcement, measuredUseSince, QuotaState } from '@dcm/domain';
import { UnitOfWork } from '@dcm/persistence';
import { Clock } from '../common/clock';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';
import { QuotaPositionRow, QuotasRepository } from '../quotas/quotas.repository';
import { ENFORCEMENT_EVENT_SINKS, EnforcementEvent, EnforcementEventSink } from './enforcement-events';
import { EnforcementRepository } from './enforcement.repository';

export interface EnforcementOutcome {
  quotas: number;
  changed: number;
  frozen: string[];
  unfrozen: string[];
  events: EnforcementEvent[];
}

/**
 * Quota enforcement: every tenant and class is `ok`, `warning` or `over`; a tenant over any quota for longer than the
 * grace period is frozen (admission then answers TenantFrozen), and unfrozen once back under every limit. Freezes set
 * by an operator are never lifted here. The rule is @dcm/domain's decideEnforcement.
 *
 * One pass reads every quota with its allocations and measured use in one query, decides in memory and writes only
 * what changed, with the events, in one transaction. The read is a snapshot: a quota that moves meanwhile is seen at
 * the next pass.
 */
@Injectable()
export class EnforcementService {
  private readonly logger = new Logger(EnforcementService.name);

  constructor(
    private readonly quotas: QuotasRepository,
    private readonly repository: EnforcementRepository,
    private readonly unitOfWork: UnitOfWork,
    private readonly clock: Clock,
    @Inject(CONTROL_CONFIG) private readonly config: ControlConfig,
    @Inject(ENFORCEMENT_EVENT_SINKS) private readonly sinks: EnforcementEventSink[],
  ) {}

  async evaluate(): Promise<EnforcementOutcome> {
    const now = this.clock.now();
    const at = now.toISOString();
    const positions = await this.quotas.positions(measuredUseSince(now, this.config));
    const { changes, transitions, freeze: toFreeze, unfreeze: toUnfreeze } = decideEnforcement(positions, now, this.config);
    const slugs = new Map(positions.map((position) => [position.tenantId, position.slug]));
    const events: EnforcementEvent[] = transitions.map(({ quota, to }) => this.quotaEvent(quota, to, at));

    const outcome: EnforcementOutcome = { quotas: positions.length, changed: events.length, frozen: [], unfrozen: [], events };
    if (changes.length === 0 && toFreeze.length === 0 && toUnfreeze.length === 0) return outcome;

    await this.unitOfWork.run(async (tx) => {
      // Rebuilt on every attempt: PostgreSQL may run the transaction again after a serialization failure.
      const committed: EnforcementEvent[] = [...events];
      outcome.frozen = [];
      outcome.unfrozen = [];
      await this.repository.saveQuotaStates(changes, tx);
      for (const verdict of toFreeze) {
        if (!(await this.repository.freeze(verdict.tenantId, now, tx))) continue;
        const slug = slugs.get(verdict.tenantId)!;
        outcome.frozen.push(slug);
        committed.push(this.tenantEvent('tenant.frozen', slug, verdict.overPastGrace, at));
      }
      for (const verdict of toUnfreeze) {
        if (!(await this.repository.unfreeze(verdict.tenantId, now, tx))) continue;
        const slug = slugs.get(verdict.tenantId)!;
        outcome.unfrozen.push(slug);
        committed.push(this.tenantEvent('tenant.unfrozen', slug, [], at));
      }
      for (const sink of this.sinks) await sink.record(committed, tx);
      outcome.events = committed;
    });
    for (const event of outcome.events) this.logger.log({ msg: describe(event), ...event });
    outcome.changed = outcome.events.length;
    return outcome;
  }

  private quotaEvent(position: QuotaPositionRow, to: QuotaState, at: string): EnforcementEvent {
    return {
      id: randomUUID(),
      event: 'quota.state_changed',
      tenant: position.slug,
      resource: position.resourceClass,
      from: position.state,
      to,
      at,
      limit: position.limit,
      allocated: position.allocated,
      used: position.used,
    };
  }

  private tenantEvent(event: 'tenant.frozen' | 'tenant.unfrozen', slug: string, resources: string[], at: string): EnforcementEvent {
    const frozen = event === 'tenant.frozen';
    return {
      id: randomUUID(),
      event,
      tenant: slug,
      resource: null,
      from: frozen ? 'active' : 'frozen',
      to: frozen ? 'frozen' : 'active',
      at,
      resources,
      reason: frozen
        ? `over quota (${resources.join(', ')}) for longer than the grace period of ${this.config.freezeGraceSeconds} s`
        : 'back under every quota',
    };
  }
}

function describe(event: EnforcementEvent): string {
  if (event.event === 'quota.state_changed') return `quota ${event.tenant}/${event.resource}: ${event.from} → ${event.to}`;
  return `tenant ${event.tenant} ${event.event === 'tenant.frozen' ? 'frozen' : 'unfrozen'}: ${event.reason}`;
}
