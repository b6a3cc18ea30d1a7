import { capacityOf } from './capacity';
import { classificationRank } from './classification';
import { PlacementHost, PlacementStrategy, PlacementTenant } from './placement';
import { ResourceAmounts } from './resources';

/** One resource class across every host of the index: slot i describes host i. */
interface ClassColumn {
  present: Uint8Array;
  capacity: Float64Array;
  allocated: Float64Array;
  /** Per-allocation bounds; where the inventory sets none: −∞, +∞ and 0 (no step). */
  minUnit: Float64Array;
  maxUnit: Float64Array;
  stepSize: Float64Array;
}

const INITIAL_SLOTS = 64;

/**
 * Hosts laid out for admission's hot path. pickHost weighs every host through its inventory records, which at 2,000
 * hosts made placement the largest single cost of an admission; here each host's placement rules are small numbers
 * and each class's capacity (computed once, when the host is set) and allocation sit in typed arrays, so that one
 * pick is a tight loop over numbers. `pick` answers exactly what `pickHost` answers for the same hosts (a property
 * test holds the two together); `rankHosts` still explains refusals.
 *
 * The index keeps the host objects it was given and keeps their `allocated` figures in step with its own.
 */
export class PlacementIndex<H extends PlacementHost> {
  private readonly slots = new Map<string, number>();
  private readonly vacant: number[] = [];
  private hosts: (H | undefined)[] = [];
  private live = new Uint8Array(INITIAL_SLOTS);
  private up = new Uint8Array(INITIAL_SLOTS);
  private accepted = new Uint8Array(INITIAL_SLOTS);
  /** How many of the host's classes have more allocated than capacity: an over-committed host takes nothing. */
  private overcommitted = new Uint16Array(INITIAL_SLOTS);
  private accreditation = new Int8Array(INITIAL_SLOTS);
  private dedicatedTenant: (string | null)[] = [];
  private readonly columns = new Map<string, ClassColumn>();
  private size = INITIAL_SLOTS;

  get count(): number {
    return this.slots.size;
  }

  get(key: string): H | undefined {
    const slot = this.slots.get(key);
    return slot === undefined ? undefined : this.hosts[slot];
  }

  *values(): IterableIterator<H> {
    for (const slot of this.slots.values()) yield this.hosts[slot]!;
  }

  clear(): void {
    this.slots.clear();
    this.vacant.length = 0;
    this.hosts = [];
    this.dedicatedTenant = [];
    this.live.fill(0);
  }

  /** Adds the host, or replaces what the index held under the same key. */
  set(key: string, host: H): void {
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = this.vacant.pop() ?? this.slots.size;
      if (slot >= this.size) this.grow();
      this.slots.set(key, slot);
    }
    this.hosts[slot] = host;
    this.live[slot] = 1;
    this.up[slot] = host.status === 'up' ? 1 : 0;
    this.accepted[slot] = host.accepted ? 1 : 0;
    this.overcommitted[slot] = 0;
    this.accreditation[slot] = classificationRank(host.accreditation);
    this.dedicatedTenant[slot] = host.dedicatedTenant;
    for (const column of this.columns.values()) column.present[slot] = 0;
    for (const resource of Object.keys(host.inventories)) {
      const inventory = host.inventories[resource];
      if (!inventory) continue;
      const column = this.column(resource);
      column.present[slot] = 1;
      column.capacity[slot] = capacityOf(inventory);
      column.allocated[slot] = inventory.allocated;
      column.minUnit[slot] = inventory.minUnit ?? -Infinity;
      column.maxUnit[slot] = inventory.maxUnit ?? Infinity;
      column.stepSize[slot] = inventory.stepSize ?? 0;
      if (inventory.allocated > column.capacity[slot]) this.overcommitted[slot]++;
    }
  }

  delete(key: string): void {
    const slot = this.slots.get(key);
    if (slot === undefined) return;
    this.slots.delete(key);
    this.hosts[slot] = undefined;
    this.live[slot] = 0;
    this.dedicatedTenant[slot] = null;
    this.vacant.push(slot);
  }

  /** Applies an admission (+1) or a release (−1) to the host's figures. */
  applyAllocation(key: string, amounts: ResourceAmounts, sign: 1 | -1): void {
    const slot = this.slots.get(key);
    if (slot === undefined) return;
    const host = this.hosts[slot]!;
    for (const resource of Object.keys(amounts)) {
      const inventory = Object.hasOwn(host.inventories, resource) ? host.inventories[resource] : undefined;
      if (!inventory) continue;
      const column = this.columns.get(resource)!;
      const wasOvercommitted = inventory.allocated > column.capacity[slot];
      inventory.allocated += sign * amounts[resource];
      column.allocated[slot] = inventory.allocated;
      const isOvercommitted = inventory.allocated > column.capacity[slot];
      if (isOvercommitted !== wasOvercommitted) this.overcommitted[slot] += isOvercommitted ? 1 : -1;
    }
  }

  /**
   * The host pickHost would choose among the indexed hosts, or null when none may take the request. Hosts in `exclude`
   * are passed over (as if they were not indexed).
   */
  pick(tenant: PlacementTenant, request: ResourceAmounts, strategy: PlacementStrategy, exclude?: ReadonlySet<H>): H | null {
    // A zero amount claims nothing, so it needs no inventory on the host (as in pickHost).
    const claimed = Object.keys(request).filter((resource) => request[resource] > 0);
    const columns: ClassColumn[] = [];
    const amounts: number[] = [];
    for (const resource of claimed) {
      const column = this.columns.get(resource);
      if (!column) return null;
      columns.push(column);
      amounts.push(request[resource]);
    }
    const rank = classificationRank(tenant.classification);
    const needsDedicated = tenant.isolation === 'dedicated';
    const emptiestFirst = strategy === 'spread' ? -1 : 1;
    const { live, up, accepted, overcommitted, accreditation, dedicatedTenant, hosts } = this;
    let best = -1;
    let bestKey = 0;
    for (let slot = 0; slot < this.size; slot++) {
      if (live[slot] === 0 || up[slot] === 0 || accepted[slot] === 0 || overcommitted[slot] !== 0 || accreditation[slot] < rank) continue;
      const dedicated = dedicatedTenant[slot];
      if (dedicated === null ? needsDedicated : dedicated !== tenant.slug) continue;
      let lowestShareLeft = 1;
      let fits = true;
      for (let index = 0; index < columns.length; index++) {
        const column = columns[index];
        const requested = amounts[index];
        const capacity = column.capacity[slot];
        const allocated = column.allocated[slot];
        const step = column.stepSize[slot];
        if (
          column.present[slot] === 0 ||
          capacity - allocated < requested ||
          requested < column.minUnit[slot] ||
          requested > column.maxUnit[slot] ||
          (step !== 0 && requested % step !== 0)
        ) {
          fits = false;
          break;
        }
        const shareLeft = capacity > 0 ? (capacity - allocated - requested) / capacity : 0;
        if (shareLeft < lowestShareLeft) lowestShareLeft = shareLeft;
      }
      if (!fits || (exclude !== undefined && exclude.has(hosts[slot]!))) continue;
      const key = emptiestFirst * lowestShareLeft;
      if (best === -1 || key < bestKey || (key === bestKey && hosts[slot]!.name < hosts[best]!.name)) {
        best = slot;
        bestKey = key;
      }
    }
    return best === -1 ? null : hosts[best]!;
  }

  private column(resource: string): ClassColumn {
    let column = this.columns.get(resource);
    if (!column) {
      column = {
        present: new Uint8Array(this.size),
        capacity: new Float64Array(this.size),
        allocated: new Float64Array(this.size),
        minUnit: new Float64Array(this.size),
        maxUnit: new Float64Array(this.size),
        stepSize: new Float64Array(this.size),
      };
      this.columns.set(resource, column);
    }
    return column;
  }

  private grow(): void {
    const size = this.size * 2;
    const widen = <A extends Uint8Array | Uint16Array | Int8Array | Float64Array>(array: A, make: (length: number) => A): A => {
      const wider = make(size);
      wider.set(array);
      return wider;
    };
    this.live = widen(this.live, (length) => new Uint8Array(length));
    this.up = widen(this.up, (length) => new Uint8Array(length));
    this.accepted = widen(this.accepted, (length) => new Uint8Array(length));
    this.overcommitted = widen(this.overcommitted, (length) => new Uint16Array(length));
    this.accreditation = widen(this.accreditation, (length) => new Int8Array(length));
    for (const column of this.columns.values()) {
      column.present = widen(column.present, (length) => new Uint8Array(length));
      column.capacity = widen(column.capacity, (length) => new Float64Array(length));
      column.allocated = widen(column.allocated, (length) => new Float64Array(length));
      column.minUnit = widen(column.minUnit, (length) => new Float64Array(length));
      column.maxUnit = widen(column.maxUnit, (length) => new Float64Array(length));
      column.stepSize = widen(column.stepSize, (length) => new Float64Array(length));
    }
    this.size = size;
  }
}
