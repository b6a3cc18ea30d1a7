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
  /** Loads begun so far, and the number of the newest one that completed: a load numbered n saw every commit before it began. */
  private loadsBegun = 0;
  private newestLoaded = 0;
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

  /**
   * A mark for freshFrom: taken when a request begins, it stands for every change committed before then (by any
   * replica).
   */
  mark(): number {
    return this.loadsBegun;
  }

  /**
   * Whether the view may miss changes committed before `mark` was taken: on a shared database, no load begun since
   * then has completed. Another replica's new host, a host it resized or an allocation it released shows here only
   * after such a load.
   */
  staleFor(mark: number): boolean {
    return this.shared && this.newestLoaded <= mark;
  }

  /** Reloads until a load begun after `mark` has completed (concurrent callers share the loads). */
  async freshFrom(mark: number): Promise<void> {
    while (this.newestLoaded <= mark) await this.reload();
  }

  /** Every live host as the view holds it now, without touching the database. */
  snapshot(): Iterable<CatalogHost> {
    return this.hosts.values();
  }

  /** The host the domain's pickHost would choose from the view as it is now, passing over `exclude` (see PlacementIndex). */
  pick(tenant: PlacementTenant, request: ResourceAmounts, strategy: PlacementStrategy, exclude?: ReadonlySet<CatalogHost>): CatalogHost | null {
    return this.hosts.pick(tenant, request, strategy, exclude);
  }

  /** Reloads the whole view; concurrent callers share one reload. */
  reload(): Promise<void> {
    this.reloading ??= this.load().finally(() => (this.reloading = null));
    return this.reloading;
  }

  private async load(): Promise<void> {
    const number = ++this.loadsBegun;
    const hosts = await this.repository.placementHosts();
    this.hosts.clear();
    for (const host of hosts) this.hosts.set(host.id, host);
    this.loadedAt = Date.now();
    this.newestLoaded = number;
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
