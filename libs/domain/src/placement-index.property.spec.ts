import fc from 'fast-check';
import { CLASSIFICATIONS } from './classification';
import { explainRefusal, HostInventoryState, PlacementHost, PlacementStrategy, PlacementTenant, pickHost, rankHosts } from './placement';
import { PlacementIndex } from './placement-index';
import { ResourceAmounts } from './resources';

const RESOURCES = ['vcpu', 'memory', 'storage', 'custom_gpu'] as const;
const TENANT_SLUGS = ['torfaen', 'gwent-police', 'monmouthshire'] as const;

const inventoryArbitrary: fc.Arbitrary<HostInventoryState> = fc
  .record({
    total: fc.integer({ min: 0, max: 200 }),
    reservedShare: fc.integer({ min: 0, max: 4 }),
    allocationRatio: fc.constantFrom(1, 1.5, 2, 4, 0.75),
    allocated: fc.integer({ min: 0, max: 300 }),
    minUnit: fc.option(fc.integer({ min: 1, max: 8 }), { nil: null }),
    maxUnit: fc.option(fc.integer({ min: 8, max: 64 }), { nil: null }),
    stepSize: fc.option(fc.integer({ min: 1, max: 4 }), { nil: null }),
  })
  .map(({ total, reservedShare, ...rest }) => ({ ...rest, total, reserved: Math.floor((total * reservedShare) / 8) }));

const hostArbitrary = (name: string): fc.Arbitrary<PlacementHost> =>
  fc.record({
    name: fc.constant(name),
    status: fc.constantFrom('up', 'up', 'up', 'stale', 'down', 'maintenance'),
    accreditation: fc.constantFrom(...CLASSIFICATIONS),
    dedicatedTenant: fc.option(fc.constantFrom(...TENANT_SLUGS), { nil: null, freq: 4 }),
    accepted: fc.constantFrom(true, true, true, false),
    inventories: fc.dictionary(fc.constantFrom(...RESOURCES), inventoryArbitrary, { maxKeys: RESOURCES.length }),
  });

const facilityArbitrary = fc
  .uniqueArray(fc.stringMatching(/^[a-d][0-9]$/), { minLength: 0, maxLength: 24 })
  .chain((names) => fc.tuple(...names.map(hostArbitrary)));

const tenantArbitrary: fc.Arbitrary<PlacementTenant> = fc.record({
  slug: fc.constantFrom(...TENANT_SLUGS),
  classification: fc.constantFrom(...CLASSIFICATIONS),
  isolation: fc.constantFrom('shared', 'shared', 'dedicated'),
});

const requestArbitrary: fc.Arbitrary<ResourceAmounts> = fc.dictionary(fc.constantFrom(...RESOURCES), fc.integer({ min: 0, max: 80 }), { maxKeys: 3 });
const strategyArbitrary = fc.constantFrom<PlacementStrategy>('spread', 'pack');

const copyOf = (host: PlacementHost): PlacementHost => ({
  ...host,
  inventories: Object.fromEntries(Object.entries(host.inventories).map(([resource, inventory]) => [resource, { ...inventory! }])),
});

function indexOf(hosts: PlacementHost[]): PlacementIndex<PlacementHost> {
  const index = new PlacementIndex<PlacementHost>();
  for (const host of hosts) index.set(host.name, copyOf(host));
  return index;
}

describe(PlacementIndex.name, () => {
  it('picks what pickHost and rankHosts pick, for any facility, tenant and request', () => {
    fc.assert(
      fc.property(facilityArbitrary, tenantArbitrary, requestArbitrary, strategyArbitrary, (hosts, tenant, request, strategy) => {
        const expected = pickHost(tenant, hosts, request, strategy);
        expect(expected?.name ?? null).toBe(rankHosts(tenant, hosts, request, strategy).candidates[0]?.name ?? null);
        expect(indexOf(hosts).pick(tenant, request, strategy)?.name ?? null).toBe(expected?.name ?? null);
      }),
      { numRuns: 2_000 },
    );
  });

  it('passes over the hosts it is told to exclude, picking what pickHost picks among the others', () => {
    fc.assert(
      fc.property(
        facilityArbitrary,
        fc.infiniteStream(fc.boolean()),
        tenantArbitrary,
        requestArbitrary,
        strategyArbitrary,
        (hosts, excluded, tenant, request, strategy) => {
          const index = new PlacementIndex<PlacementHost>();
          const indexed = hosts.map(copyOf);
          for (const host of indexed) index.set(host.name, host);
          const flags = indexed.map(() => excluded.next().value as boolean);
          const exclude = new Set(indexed.filter((_, at) => flags[at]));
          const expected = pickHost(
            tenant,
            hosts.filter((_, at) => !flags[at]),
            request,
            strategy,
          );
          expect(index.pick(tenant, request, strategy, exclude)?.name ?? null).toBe(expected?.name ?? null);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('stays in step with pickHost through admissions, releases, replacements and removals', () => {
    const stepArbitrary = fc.oneof(
      fc.record({ kind: fc.constant('admit' as const), tenant: tenantArbitrary, request: requestArbitrary, strategy: strategyArbitrary }),
      fc.record({ kind: fc.constant('release' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('replace' as const), host: hostArbitrary('z9') }),
      fc.record({ kind: fc.constant('remove' as const), at: fc.nat() }),
    );
    fc.assert(
      fc.property(facilityArbitrary, fc.array(stepArbitrary, { maxLength: 40 }), (initial, steps) => {
        const index = indexOf(initial);
        // The reference: plain host objects the index must agree with, changed the same way.
        const reference = new Map(initial.map((host) => [host.name, copyOf(host)]));
        const admitted: { host: string; request: ResourceAmounts }[] = [];
        for (const step of steps) {
          if (step.kind === 'admit') {
            const expected = pickHost(step.tenant, reference.values(), step.request, step.strategy);
            const picked = index.pick(step.tenant, step.request, step.strategy);
            expect(picked?.name ?? null).toBe(expected?.name ?? null);
            if (!expected) continue;
            for (const [resource, amount] of Object.entries(step.request)) {
              const inventory = expected.inventories[resource];
              if (inventory) inventory.allocated += amount;
            }
            index.applyAllocation(expected.name, step.request, 1);
            admitted.push({ host: expected.name, request: step.request });
          } else if (step.kind === 'release' && admitted.length > 0) {
            const [{ host, request }] = admitted.splice(step.at % admitted.length, 1);
            const held = reference.get(host);
            if (!held) continue;
            for (const [resource, amount] of Object.entries(request)) {
              const inventory = held.inventories[resource];
              if (inventory) inventory.allocated -= amount;
            }
            index.applyAllocation(host, request, -1);
          } else if (step.kind === 'replace') {
            reference.set(step.host.name, copyOf(step.host));
            index.set(step.host.name, copyOf(step.host));
          } else if (step.kind === 'remove' && reference.size > 0) {
            const name = [...reference.keys()][step.at % reference.size];
            reference.delete(name);
            index.delete(name);
          }
        }
        expect(index.count).toBe(reference.size);
        expect([...index.values()].map((host) => host.name).sort()).toEqual([...reference.keys()].sort());
      }),
      { numRuns: 500 },
    );
  });

  it('grows past its initial size and reuses the slots of removed hosts', () => {
    const index = new PlacementIndex<PlacementHost>();
    const host = (name: string, free: number): PlacementHost => ({
      name,
      status: 'up',
      accreditation: 'OFFICIAL',
      dedicatedTenant: null,
      accepted: true,
      inventories: { vcpu: { total: 100, reserved: 0, allocationRatio: 1, allocated: 100 - free } },
    });
    for (let n = 0; n < 1_000; n++) index.set(`h${String(n).padStart(4, '0')}`, host(`h${String(n).padStart(4, '0')}`, n % 97));
    const tenant: PlacementTenant = { slug: 'torfaen', classification: 'OFFICIAL', isolation: 'shared' };
    expect(index.pick(tenant, { vcpu: 1 }, 'spread')?.name).toBe('h0096');
    for (let n = 0; n < 500; n++) index.delete(`h${String(n).padStart(4, '0')}`);
    index.set('new', host('new', 100));
    expect(index.count).toBe(501);
    expect(index.pick(tenant, { vcpu: 1 }, 'spread')?.name).toBe('new');
    expect(index.pick(tenant, { vcpu: 1 }, 'pack')?.name).toBe('h0583');
    expect(index.pick(tenant, { vcpu: 101 }, 'pack')).toBeNull();
  });
});

describe(explainRefusal.name, () => {
  it("says what rankHosts' rejections say, spelling out only the first few", () => {
    fc.assert(
      fc.property(
        facilityArbitrary,
        tenantArbitrary,
        requestArbitrary,
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 0, max: 3 }),
        (hosts, tenant, request, listed, named) => {
          const { rejections } = rankHosts(tenant, hosts, request, 'spread');
          const summary = explainRefusal(tenant, hosts, request, { listed, named });
          expect(summary.hostsConsidered).toBe(hosts.length);
          expect(summary.rejections).toEqual(rejections.slice(0, listed));
          expect(summary.otherwise).toBe(rejections.filter((rejection) => rejection.shortfalls.length === 0).length);
          const expected = new Map<string, string[]>();
          for (const rejection of rejections) {
            for (const { resource } of rejection.shortfalls) expected.set(resource, [...(expected.get(resource) ?? []), rejection.host]);
          }
          expect(summary.shortfalls.map(({ resource }) => resource)).toEqual([...expected.keys()].sort());
          for (const { resource, hosts: count, named: names } of summary.shortfalls) {
            expect(count).toBe(expected.get(resource)!.length);
            expect(names).toEqual(expected.get(resource)!.slice(0, named));
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
