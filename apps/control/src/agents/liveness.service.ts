import { Inject, Injectable } from '@nestjs/common';
import { silenceThresholds } from '@dcm/domain';
import { HostEntity, UnitOfWork } from '@dcm/persistence';
import { Clock } from '../common/clock';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';
import { PlacementCatalog } from '../hosts/placement-catalog';

/**
 * Host liveness (the rule is @dcm/domain's livenessAfterSilence): a host whose agent has not reported for 3 × the report interval is stale, for 10 × down; a report
 * brings it back up (see AgentsService.ingest). Hosts without an agent, and hosts in maintenance, are left alone.
 */
@Injectable()
export class LivenessService {
  constructor(
    private readonly unitOfWork: UnitOfWork,
    private readonly catalog: PlacementCatalog,
    private readonly clock: Clock,
    @Inject(CONTROL_CONFIG) private readonly config: ControlConfig,
  ) {}

  /** Marks silent hosts; returns how many changed to stale and to down. */
  async sweep(): Promise<{ stale: number; down: number }> {
    const now = this.clock.now().getTime();
    const { staleBefore, downBefore } = silenceThresholds(now, this.config);
    const changed = await this.unitOfWork.run(async (tx) => {
      // A host whose agent enrolled but never reported is measured from its last update (the enrolment).
      const mark = (status: 'stale' | 'down', statuses: string[], threshold: number) =>
        tx
          .createQueryBuilder()
          .update(HostEntity)
          .set({ status, updatedAt: new Date(now) })
          .where('agent_id IS NOT NULL AND decommissioned_at IS NULL AND status IN (:...statuses)', { statuses })
          .andWhere('COALESCE(last_report_at, updated_at) < :threshold', { threshold })
          .execute();
      const down = await mark('down', ['up', 'stale'], downBefore);
      const stale = await mark('stale', ['up'], staleBefore);
      return { stale: stale.affected ?? 0, down: down.affected ?? 0 };
    });
    if (changed.stale + changed.down > 0) await this.catalog.reload();
    return changed;
  }
}
