import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { measuredUseSince, QuotaState, quotaState } from '@dcm/domain';
import { UnitOfWork } from '@dcm/persistence';
import { Clock } from '../common/clock';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';
import { QuotaPositionRow, QuotasRepository } from '../quotas/quotas.repository';
import { ENFORCEMENT_EVENT_SINKS, EnforcementEvent, EnforcementEventSink } from './enforcement-events';
import { EnforcementRepository, QuotaStateChange } from './enforcement.repository';

export interface EnforcementOutcome {
  quotas: number;
  changed: number;
  frozen: string[];
  unfrozen: string[];
  events: EnforcementEvent[];
}

interface TenantVerdict {
  tenantId: string;
  slug: string;
  over: string[];
  overPastGrace: string[];
}

/**
 * Quota enforcement: every tenant and class is `ok`, `warning` or `over`; a tenant over any quota for longer than the
 * grace period is frozen (admission then answers TenantFrozen), and unfrozen once back under every limit. Freezes set
 * by an operator are never lifted here.
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
    const graceEnds = now.getTime() - this.config.freezeGraceSeconds * 1000;

    const changes: QuotaStateChange[] = [];
    const events: EnforcementEvent[] = [];
    const tenants = new Map<string, { row: QuotaPositionRow; verdict: TenantVerdict }>();
    for (const position of positions) {
      const state = quotaState(position, this.config.quotaWarningRatio);
      const since = state === position.state && position.stateSince ? position.stateSince : now;
      if (state !== position.state || !position.stateSince) {
        changes.push({ tenantId: position.tenantId, resourceClass: position.resourceClass, from: position.state, to: state, since });
      }
      if (state !== position.state) events.push(this.quotaEvent(position, state, at));
      const tenant = tenants.get(position.tenantId) ?? {
        row: position,
        verdict: { tenantId: position.tenantId, slug: position.slug, over: [], overPastGrace: [] },
      };
      tenants.set(position.tenantId, tenant);
      if (state === 'over') {
        tenant.verdict.over.push(position.resourceClass);
        if (since.getTime() <= graceEnds) tenant.verdict.overPastGrace.push(position.resourceClass);
      }
    }

    const toFreeze = [...tenants.values()].filter(({ row, verdict }) => row.tenantState === 'active' && verdict.overPastGrace.length > 0);
    const toUnfreeze = [...tenants.values()].filter(
      ({ row, verdict }) => row.tenantState === 'frozen' && row.frozenBy === 'enforcement' && verdict.over.length === 0,
    );
    const outcome: EnforcementOutcome = { quotas: positions.length, changed: events.length, frozen: [], unfrozen: [], events };
    if (changes.length === 0 && toFreeze.length === 0 && toUnfreeze.length === 0) return outcome;

    await this.unitOfWork.run(async (tx) => {
      // Rebuilt on every attempt: PostgreSQL may run the transaction again after a serialization failure.
      const committed: EnforcementEvent[] = [...events];
      outcome.frozen = [];
      outcome.unfrozen = [];
      await this.repository.saveQuotaStates(changes, tx);
      for (const { verdict } of toFreeze) {
        if (!(await this.repository.freeze(verdict.tenantId, now, tx))) continue;
        outcome.frozen.push(verdict.slug);
        committed.push(this.tenantEvent('tenant.frozen', verdict, verdict.overPastGrace, at));
      }
      for (const { verdict } of toUnfreeze) {
        if (!(await this.repository.unfreeze(verdict.tenantId, now, tx))) continue;
        outcome.unfrozen.push(verdict.slug);
        committed.push(this.tenantEvent('tenant.unfrozen', verdict, [], at));
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

  private tenantEvent(event: 'tenant.frozen' | 'tenant.unfrozen', verdict: TenantVerdict, resources: string[], at: string): EnforcementEvent {
    const frozen = event === 'tenant.frozen';
    return {
      id: randomUUID(),
      event,
      tenant: verdict.slug,
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
