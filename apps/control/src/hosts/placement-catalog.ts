import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { PlacementIndex, PlacementStrategy, PlacementTenant, ResourceAmounts } from '@dcm/domain';
import { dialectOf } from '@dcm/persistence';
import { DataSource } from 'typeorm';
import { HostsRepository, PlacementHostRow } from './hosts.repository';

export type CatalogHost = PlacementHostRow;

/** How old the catalog may grow before placement reloads it, when other replicas may be writing (PostgreSQL). */
const SHARED_DATABASE_MAX_AGE_MS = 5_000;

/**
 * An in-memory view of every live host with its inventories, so that placement can weigh 2,000 hosts without a
 * database round trip. It only guides the choice: admission re-reads the chosen host's rows under lock and the domain
 * rules decide on those, so a stale view can cost a retry but never an over-commit.
 */
@Injectable()
export class PlacementCatalog implements OnApplicationBootstrap {
  private readonly hosts = new PlacementIndex<CatalogHost>();
  private loadedAt = 0;
  private reloading: Promise<void> | null = null;
  private readonly shared: boolean;

  constructor(
    private readonly repository: HostsRepository,
    dataSource: DataSource,
  ) {
    this.shared = dialectOf(dataSource) === 'postgres';
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.reload();
  }

  /** Reloads the view when it may be stale (other replicas writing, on PostgreSQL). Not to be called inside a transaction. */
  async refreshIfStale(): Promise<void> {
    if (this.shared && Date.now() - this.loadedAt > SHARED_DATABASE_MAX_AGE_MS) await this.reload();
  }

  /** Every live host as the view holds it now, without touching the database. */
  snapshot(): Iterable<CatalogHost> {
    return this.hosts.values();
  }

  /** The host the domain's pickHost would choose from the view as it is now (see PlacementIndex). */
  pick(tenant: PlacementTenant, request: ResourceAmounts, strategy: PlacementStrategy): CatalogHost | null {
    return this.hosts.pick(tenant, request, strategy);
  }

  /** Reloads the whole view; concurrent callers share one reload. */
  reload(): Promise<void> {
    this.reloading ??= this.load().finally(() => (this.reloading = null));
    return this.reloading;
  }

  private async load(): Promise<void> {
    const hosts = await this.repository.placementHosts();
    this.hosts.clear();
    for (const host of hosts) this.hosts.set(host.id, host);
    this.loadedAt = Date.now();
  }

  async refreshHost(hostId: string): Promise<void> {
    const [host] = await this.repository.placementHosts({ hostId });
    this.replaceHost(hostId, host ?? null);
  }

  /** Replaces one host's entry (null: the host is gone). */
  private replaceHost(hostId: string, host: CatalogHost | null): void {
    if (host) this.hosts.set(hostId, host);
    else this.hosts.delete(hostId);
  }

  /** Applies a committed admission (+1) or release (−1) to the view. */
  applyAllocation(hostId: string, amounts: ResourceAmounts, sign: 1 | -1): void {
    this.hosts.applyAllocation(hostId, amounts, sign);
  }
}
