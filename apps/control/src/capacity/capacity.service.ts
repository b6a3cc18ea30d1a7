import { Inject, Injectable } from '@nestjs/common';
import { capacityOf, freeOf, HostUseFigures, inventoryOvercommitted, measuredUse, measuredUseSince, sumUsage, UsageFigures, usageOf } from '@dcm/domain';
import { Clock } from '../common/clock';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';
import { HistoryRepository } from '../history/history.repository';
import { HostsRepository, PlacementHostRow } from '../hosts/hosts.repository';
import { ResourceClassesService } from '../resource-classes/resource-classes.service';
import { CapacityResponseDto, ClassCapacityDto, HostCountsDto, SiteCapacityDto } from './capacity.dto';

/** A site's (or the facility's) hosts by status, and each class's per-host figures, summed once all are in. */
interface Scope {
  hosts: HostCountsDto;
  classes: Map<string, { parts: UsageFigures[]; placeable: number }>;
}

@Injectable()
export class CapacityService {
  constructor(
    private readonly hosts: HostsRepository,
    private readonly history: HistoryRepository,
    private readonly resourceClasses: ResourceClassesService,
    private readonly clock: Clock,
    @Inject(CONTROL_CONFIG) private readonly config: Pick<ControlConfig, 'reportIntervalSeconds'>,
  ) {}

  /**
   * Facility and per-site totals per class, over every live host an operator has accepted: capacity, allocated, used
   * (what the hosts' current reports measure, at most each host's recorded total, by @dcm/domain's
   * measuredUse), free and overcommitted (by its usageOf, on
   * each scope's sums). A host nobody accepted is counted by status and as `unaccepted`, but adds no figures: one join
   * token must not be able to swell the facility or push back its forecast.
   */
  async summary(): Promise<CapacityResponseDto> {
    const [hosts, uses] = await Promise.all([this.hosts.placementHosts(), this.history.latestHostUse(measuredUseSince(this.clock.now(), this.config))]);
    const useByHost = new Map(uses.map((use) => [use.hostId, use]));
    const facility = emptyScope();
    const sites = new Map<string, Scope>();
    for (const host of hosts) {
      const site = sites.get(host.site) ?? emptyScope();
      sites.set(host.site, site);
      for (const scope of [facility, site]) add(scope, host, useByHost.get(host.id));
    }
    return {
      facility: this.totals(facility),
      sites: [...sites].sort(([a], [b]) => a.localeCompare(b)).map(([site, scope]) => ({ site, ...this.totals(scope) })),
    };
  }

  private totals(scope: Scope): Omit<SiteCapacityDto, 'site'> {
    const resources: Record<string, ClassCapacityDto> = {};
    for (const [resourceClass, { parts, placeable }] of scope.classes) {
      resources[resourceClass] = { unit: this.resourceClasses.unitOf(resourceClass) ?? 'count', ...sumUsage(parts), placeable };
    }
    return { hosts: scope.hosts, resources };
  }
}

function emptyScope(): Scope {
  return { hosts: { up: 0, stale: 0, down: 0, maintenance: 0, unaccepted: 0 }, classes: new Map() };
}

function add(scope: Scope, host: PlacementHostRow, use: HostUseFigures | undefined): void {
  scope.hosts[host.status] += 1;
  if (!host.accepted) {
    scope.hosts.unaccepted += 1;
    return;
  }
  // Placement skips a host an operator has not accepted, and one with any class over-committed.
  const inventories = Object.entries(host.inventories);
  const placeable = host.status === 'up' && host.accepted && !inventories.some(([, inventory]) => inventoryOvercommitted(inventory));
  for (const [resourceClass, inventory] of inventories) {
    const figures = scope.classes.get(resourceClass) ?? { parts: [], placeable: 0 };
    scope.classes.set(resourceClass, figures);
    const capacity = capacityOf(inventory);
    figures.parts.push(usageOf(capacity, inventory.allocated, use ? measuredUse(resourceClass, use, inventory.total) : null));
    if (placeable) figures.placeable += freeOf(capacity, inventory.allocated);
  }
}
