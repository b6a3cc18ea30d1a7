import { Inject, Injectable } from '@nestjs/common';
import { capacityOf, measuredUse, measuredUseSince } from '@dcm/domain';
import { UnitOfWork } from '@dcm/persistence';
import { Clock } from '../common/clock';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';
import { CapacitySampleRow, HistoryRepository, MINUTE_MS } from './history.repository';

/**
 * Once a minute, each site's capacity, allocations and measured use per class, kept as history: what the forecast
 * fits. Accepted hosts of every status count until decommissioned, as in GET /v1/capacity.
 */
@Injectable()
export class CapacitySamplingService {
  constructor(
    private readonly history: HistoryRepository,
    private readonly unitOfWork: UnitOfWork,
    private readonly clock: Clock,
    @Inject(CONTROL_CONFIG) private readonly config: ControlConfig,
  ) {}

  async sample(): Promise<CapacitySampleRow[]> {
    const now = this.clock.now();
    const bucket = Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS;
    const [inventories, uses] = await Promise.all([this.history.inventories(), this.history.latestHostUse(measuredUseSince(now, this.config))]);
    const useByHost = new Map(uses.map((use) => [use.hostId, use]));
    const samples = new Map<string, CapacitySampleRow>();
    for (const inventory of inventories) {
      const key = `${inventory.site}\u0000${inventory.resourceClass}`;
      const sample = samples.get(key) ?? { site: inventory.site, resourceClass: inventory.resourceClass, capacity: 0, allocated: 0, used: null };
      samples.set(key, sample);
      sample.capacity += capacityOf(inventory);
      sample.allocated += inventory.allocated;
      const use = useByHost.get(inventory.hostId);
      const used = use ? measuredUse(inventory.resourceClass, use, inventory.total) : null;
      if (used !== null) sample.used = (sample.used ?? 0) + used;
    }
    // Measured vCPU is cores in use, fractional; the history keeps whole units (its columns are integers).
    const rows = [...samples.values()].map((sample) => ({ ...sample, used: sample.used === null ? null : Math.round(sample.used) }));
    if (rows.length > 0) await this.unitOfWork.run((tx) => this.history.saveCapacitySamples(bucket, rows, tx));
    return rows;
  }
}
