import fc from 'fast-check';
import { checkQuota, QuotaPosition } from './admission';
import { capacityOf, InventoryFigures } from './capacity';
import { Classification, CLASSIFICATIONS } from './classification';
import { evaluateHost, freeShareAfter, HostInventoryState, PlacementHost, PlacementStrategy, PlacementTenant, pickHost, rankHosts } from './placement';
import { formatAmount, parseAmount, ResourceAmounts } from './resources';
import type { HostStatus } from './vocabulary';

const RESOURCE_CLASSES = ['vcpu', 'memory', 'custom_gpu'] as const;
type ResourceClass = (typeof RESOURCE_CLASSES)[number];
type PerClass<T> = Partial<Record<ResourceClass, T>>;

interface TenantSpec extends PlacementTenant {
  quotas: PerClass<number>;
}

interface HostSpec {
  name: string;
  status: HostStatus;
  accreditation: Classification;
  dedicatedTenant: string | null;
  accepted: boolean;
  inventories: PerClass<InventoryFigures>;
}

interface Allocation {
  tenant: string;
  host: string;
  amounts: ResourceAmounts;
}

interface Admission {
  kind: 'admit';
  tenant: number;
  host: number | null;
  strategy: PlacementStrategy;
  request: ResourceAmounts;
}

type Operation = Admission | { kind: 'release'; pick: number };

const slugOf = (index: number) => `tenant-${index}`;

/** Usually `usual`, sometimes `rare`, so that most generated operations can succeed and the rest test refusals. */
const mostly = <T>(usual: fc.Arbitrary<T>, rare: fc.Arbitrary<T>): fc.Arbitrary<T> => fc.oneof({ arbitrary: usual, weight: 4 }, rare);

/** Entries for each class, each left out one time in `oneIn`. */
const perClass = <T>(value: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<PerClass<T>> =>
  fc
    .tuple(
      ...RESOURCE_CLASSES.map((resource) =>
        fc.option(
          value.map((entry) => [resource, entry] as const),
          { freq: oneIn },
        ),
      ),
    )
    .map((entries) => Object.fromEntries(entries.filter((entry) => entry !== null)));

const inventoryArb: fc.Arbitrary<InventoryFigures> = fc
  .record({
    total: fc.integer({ min: 0, max: 64 }),
    reserved: fc.integer({ min: 0, max: 16 }),
    allocationRatio: fc.constantFrom(1, 1.5, 2, 4, 0.5),
    minUnit: mostly(fc.constant(null), fc.integer({ min: 1, max: 4 })),
    maxUnit: mostly(fc.constant(null), fc.integer({ min: 4, max: 64 })),
    stepSize: mostly(fc.constant(null), fc.integer({ min: 1, max: 3 })),
  })
  .map((inventory) => ({ ...inventory, reserved: Math.min(inventory.reserved, inventory.total) }));

const tenantArb = (index: number): fc.Arbitrary<TenantSpec> =>
  fc.record({
    slug: fc.constant(slugOf(index)),
    classification: mostly(fc.constant('OFFICIAL' as const), fc.constantFrom(...CLASSIFICATIONS)),
    isolation: mostly(fc.constant('shared' as const), fc.constant('dedicated' as const)),
    quotas: perClass(fc.integer({ min: 0, max: 100 }), 6),
  });

const hostArb = (index: number, tenantCount: number): fc.Arbitrary<HostSpec> =>
  fc.record({
    name: fc.constant(`host-${index}`),
    status: mostly(fc.constant<HostStatus>('up'), fc.constantFrom<HostStatus>('stale', 'down', 'maintenance')),
    accreditation: mostly(fc.constant('SECRET' as const), fc.constantFrom(...CLASSIFICATIONS)),
    dedicatedTenant: mostly(fc.constant(null), fc.nat(tenantCount - 1).map(slugOf)),
    accepted: mostly(fc.constant(true), fc.constant(false)),
    inventories: perClass(inventoryArb, 6),
  });

const requestArb: fc.Arbitrary<ResourceAmounts> = perClass(fc.integer({ min: 0, max: 12 }), 2);

const operationArb = (tenantCount: number): fc.Arbitrary<Operation> =>
  fc.oneof(
    {
      arbitrary: fc.record({
        kind: fc.constant('admit' as const),
        tenant: fc.nat(tenantCount - 1),
        host: fc.option(fc.nat(4), { nil: null }),
        strategy: fc.constantFrom<PlacementStrategy>('spread', 'pack'),
        request: requestArb,
      }),
      weight: 3,
    },
    fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
  );

const facilityArb = fc.record({ tenantCount: fc.integer({ min: 1, max: 4 }), hostCount: fc.integer({ min: 1, max: 5 }) }).chain(({ tenantCount, hostCount }) =>
  fc.record({
    tenants: fc.tuple(...Array.from({ length: tenantCount }, (_, index) => tenantArb(index))),
    hosts: fc.tuple(...Array.from({ length: hostCount }, (_, index) => hostArb(index, tenantCount))),
    operations: fc.array(operationArb(tenantCount), { minLength: 5, maxLength: 60, size: 'medium' }),
  }),
);

const sumOf = (allocations: readonly Allocation[], resource: string): number =>
  allocations.reduce((sum, allocation) => sum + (allocation.amounts[resource] ?? 0), 0);

/** The facility as the control service would see it: quota and host positions derived from the live allocations. */
class FacilityModel {
  readonly live: Allocation[] = [];

  constructor(
    readonly tenants: readonly TenantSpec[],
    readonly hosts: readonly HostSpec[],
  ) {}

  /** Admits what checkQuota allows: on the named host if evaluateHost accepts it, else on rankHosts' first choice. */
  admit(admission: Admission): Allocation | null {
    const tenant = this.tenants[admission.tenant];
    if (checkQuota(admission.request, this.quotaPositions(tenant)) !== null) return null;
    const hosts = this.hosts.map((host) => this.placementHost(host));
    const host = admission.host === null ? rankHosts(tenant, hosts, admission.request, admission.strategy).candidates[0] : hosts[admission.host % hosts.length];
    if (host === undefined) return null;
    if (admission.host !== null && evaluateHost(tenant, host, admission.request) !== null) return null;
    const allocation = { tenant: tenant.slug, host: host.name, amounts: admission.request };
    this.live.push(allocation);
    return allocation;
  }

  release(pick: number): void {
    if (this.live.length > 0) this.live.splice(pick % this.live.length, 1);
  }

  private quotaPositions(tenant: TenantSpec): Record<string, QuotaPosition> {
    const mine = this.live.filter((allocation) => allocation.tenant === tenant.slug);
    const positions: Record<string, QuotaPosition> = {};
    for (const [resource, limit] of Object.entries(tenant.quotas)) {
      positions[resource] = { limit, allocated: sumOf(mine, resource) };
    }
    return positions;
  }

  private placementHost(host: HostSpec): PlacementHost {
    const onHost = this.live.filter((allocation) => allocation.host === host.name);
    const inventories: Record<string, HostInventoryState> = {};
    for (const [resource, inventory] of Object.entries(host.inventories)) {
      inventories[resource] = { ...inventory, allocated: sumOf(onHost, resource) };
    }
    return { ...host, inventories };
  }

  /** Every tenant within each quota (no quota means none may be allocated), every host within each capacity. */
  invariantViolations(): string[] {
    const violations: string[] = [];
    for (const tenant of this.tenants) {
      const mine = this.live.filter((allocation) => allocation.tenant === tenant.slug);
      for (const resource of RESOURCE_CLASSES) {
        const allocated = sumOf(mine, resource);
        const limit = tenant.quotas[resource] ?? 0;
        if (allocated > limit) violations.push(`${tenant.slug} holds ${allocated} ${resource}, quota ${limit}`);
      }
    }
    for (const host of this.hosts) {
      const onHost = this.live.filter((allocation) => allocation.host === host.name);
      for (const resource of RESOURCE_CLASSES) {
        const allocated = sumOf(onHost, resource);
        const inventory = host.inventories[resource];
        const capacity = inventory ? capacityOf(inventory) : 0;
        if (allocated > capacity) violations.push(`${host.name} holds ${allocated} ${resource}, capacity ${capacity}`);
      }
    }
    return violations;
  }
}

describe('admission (properties)', () => {
  it('no sequence of admissions takes a tenant over a quota or a host over a capacity', () => {
    let admitted = 0;
    let refused = 0;
    let placedByRanking = 0;

    fc.assert(
      fc.property(facilityArb, ({ tenants, hosts, operations }) => {
        const model = new FacilityModel(tenants, hosts);

        for (const operation of operations) {
          if (operation.kind === 'release') {
            model.release(operation.pick);
          } else if (model.admit(operation) === null) {
            refused++;
          } else {
            if (Object.values(operation.request).some((amount) => amount > 0)) admitted++;
            if (operation.host === null) placedByRanking++;
          }
          expect(model.invariantViolations()).toEqual([]);
        }
      }),
      { numRuns: 300 },
    );

    // The property means nothing unless both outcomes, and placement without a named host, actually happened.
    expect(admitted).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
    expect(placedByRanking).toBeGreaterThan(20);
  });

  it('rankHosts offers only hosts that evaluateHost accepts, ordered by its strategy', () => {
    fc.assert(
      fc.property(
        facilityArb,
        fc.array(fc.nat(120), { minLength: 15, maxLength: 15 }),
        fc.constantFrom<PlacementStrategy>('spread', 'pack'),
        requestArb,
        ({ tenants, hosts }, allocatedAmounts, strategy, request) => {
          const tenant = tenants[0];
          const allocated = allocatedAmounts.values();
          const placementHosts: PlacementHost[] = hosts.map((host) => ({
            ...host,
            inventories: Object.fromEntries(
              Object.entries(host.inventories).map(([resource, inventory]) => [resource, { ...inventory, allocated: allocated.next().value ?? 0 }]),
            ),
          }));

          const { candidates, rejections } = rankHosts(tenant, placementHosts, request, strategy);

          for (const candidate of candidates) expect(evaluateHost(tenant, candidate, request)).toBeNull();
          for (const rejection of rejections) {
            const host = placementHosts.find((candidate) => candidate.name === rejection.host);
            expect(evaluateHost(tenant, host!, request)).toEqual(rejection);
          }
          const ranked = [...candidates.map((host) => host.name), ...rejections.map((rejection) => rejection.host)];
          expect(ranked.sort()).toEqual(placementHosts.map((host) => host.name).sort());
          const scores = candidates.map((host) => freeShareAfter(host, request));
          for (let index = 1; index < scores.length; index++) {
            if (strategy === 'spread') expect(scores[index - 1]).toBeGreaterThanOrEqual(scores[index]);
            else expect(scores[index - 1]).toBeLessThanOrEqual(scores[index]);
          }
          // The one-pass pick of admission's hot path agrees with the full ranking.
          expect(pickHost(tenant, placementHosts, request, strategy)?.name ?? null).toBe(candidates[0]?.name ?? null);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('amounts (properties)', () => {
  it('parseAmount reads back any safe integer written in digits', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.constantFrom('bytes' as const, 'count' as const), (value, unit) => {
        expect(parseAmount(String(value), unit)).toEqual({ ok: true, value });
        expect(parseAmount(formatAmount(value, 'count'), unit)).toEqual({ ok: true, value });
      }),
    );
  });

  it('parseAmount reads back formatAmount of a whole number of binary units', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1023 }), fc.integer({ min: 0, max: 5 }), (multiple, power) => {
        const bytes = multiple * 1024 ** power;
        fc.pre(bytes <= Number.MAX_SAFE_INTEGER);

        expect(parseAmount(formatAmount(bytes, 'bytes'), 'bytes')).toEqual({ ok: true, value: bytes });
      }),
    );
  });

  it('parseAmount refuses every negative number and fraction', () => {
    fc.assert(
      fc.property(
        fc.double({ noNaN: true }).filter((value) => value < 0 || !Number.isInteger(value)),
        fc.constantFrom('bytes' as const, 'count' as const),
        (value, unit) => {
          expect(parseAmount(value, unit).ok).toBe(false);
        },
      ),
    );
  });

  it('capacityOf floors (total − reserved) × ratio exactly, reading the ratio as the decimal it was written as', () => {
    fc.assert(
      fc.property(
        fc.maxSafeNat(),
        fc.maxSafeNat(),
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 0, max: 4 }),
        (first, second, numerator, decimals) => {
          const [reserved, total] = first <= second ? [first, second] : [second, first];
          const denominator = 10 ** decimals;
          fc.pre(numerator / denominator <= 1000);

          const expected = (BigInt(total - reserved) * BigInt(numerator)) / BigInt(denominator);

          expect(capacityOf({ total, reserved, allocationRatio: numerator / denominator })).toBe(Number(expected));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
