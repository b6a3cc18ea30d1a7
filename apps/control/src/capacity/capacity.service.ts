import { Injectable } from '@nestjs/common';
import { capacityOf, freeOf, isOvercommitted } from '@dcm/domain';
import { HostEntity } from '@dcm/persistence';
import { HostsRepository } from '../hosts/hosts.repository';
import { ResourceClassesService } from '../resource-classes/resource-classes.service';
import { CapacityResponseDto, ClassCapacityDto, HostCountsDto, SiteCapacityDto } from './capacity.dto';

type Totals = Omit<SiteCapacityDto, 'site'>;

@Injectable()
export class CapacityService {
  constructor(
    private readonly hosts: HostsRepository,
    private readonly resourceClasses: ResourceClassesService,
  ) {}

  /** Facility and per-site totals per class, over every live host. */
  async summary(): Promise<CapacityResponseDto> {
    const facility = this.emptyTotals();
    const sites = new Map<string, Totals>();
    for (const host of await this.hosts.listLive()) {
      const site = sites.get(host.site) ?? this.emptyTotals();
      sites.set(host.site, site);
      this.add(facility, host);
      this.add(site, host);
    }
    return {
      facility,
      sites: [...sites].sort(([a], [b]) => a.localeCompare(b)).map(([site, totals]) => ({ site, ...totals })),
    };
  }

  private emptyTotals(): Totals {
    const hosts: HostCountsDto = { up: 0, stale: 0, down: 0, maintenance: 0 };
    return { hosts, resources: {} };
  }

  private add(totals: Totals, host: HostEntity): void {
    totals.hosts[host.status] += 1;
    // Placement skips a host an operator has not accepted, and one with any class over-committed.
    const placeable = host.status === 'up' && host.accepted && !(host.inventories ?? []).some(isOvercommitted);
    for (const inventory of host.inventories ?? []) {
      const resource: ClassCapacityDto = (totals.resources[inventory.resourceClass] ??= {
        unit: this.resourceClasses.unitOf(inventory.resourceClass) ?? 'count',
        capacity: 0,
        allocated: 0,
        used: null,
        free: 0,
        placeable: 0,
      });
      const capacity = capacityOf(inventory);
      resource.capacity += capacity;
      resource.allocated += inventory.allocated;
      resource.free = Math.max(0, resource.capacity - resource.allocated);
      if (placeable) resource.placeable += freeOf(inventory);
    }
  }
}
