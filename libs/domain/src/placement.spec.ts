import { evaluateHost, freeShareAfter, HostInventoryState, PlacementHost, PlacementTenant, rankHosts } from './placement';

const GiB = 2 ** 30;

const aTenant = (overrides: Partial<PlacementTenant> = {}): PlacementTenant => ({
  slug: 'torfaen',
  classification: 'OFFICIAL',
  isolation: 'shared',
  ...overrides,
});

const anInventory = (overrides: Partial<HostInventoryState> = {}): HostInventoryState => ({
  total: 100,
  reserved: 0,
  allocationRatio: 1,
  allocated: 0,
  ...overrides,
});

const aHost = (overrides: Partial<PlacementHost> = {}): PlacementHost => ({
  name: 'blv-c01',
  status: 'up',
  accreditation: 'OFFICIAL',
  dedicatedTenant: null,
  accepted: true,
  inventories: {
    vcpu: anInventory({ total: 64, reserved: 4, allocationRatio: 4 }),
    memory: anInventory({ total: 512 * GiB }),
    storage: anInventory({ total: 20 * 2 ** 40 }),
  },
  ...overrides,
});

/** A host whose only vcpu inventory has `free` of 100 left. */
const hostWithFreeVcpu = (name: string, free: number): PlacementHost =>
  aHost({ name, inventories: { vcpu: anInventory({ total: 100, allocated: 100 - free }) } });

describe(evaluateHost.name, () => {
  const request = { vcpu: 8, memory: 32 * GiB };

  it('accepts a suitable host', () => {
    expect(evaluateHost(aTenant(), aHost(), request)).toBeNull();
  });

  it.each([
    ['stale', 'host is stale: its agent has stopped reporting'],
    ['down', 'host is down'],
    ['maintenance', 'host is in maintenance'],
  ] as const)('refuses a host that is %s', (status, reason) => {
    expect(evaluateHost(aTenant(), aHost({ status }), request)).toEqual({
      host: 'blv-c01',
      reasons: [reason],
      shortfalls: [],
    });
  });

  it('refuses a host an operator has not accepted', () => {
    expect(evaluateHost(aTenant(), aHost({ accepted: false }), request)).toEqual({
      host: 'blv-c01',
      reasons: ['host has not been accepted by an operator'],
      shortfalls: [],
    });
  });

  it('refuses an over-committed host, even for a class it still has room in', () => {
    // Memory total fell to 0 under an 8 GiB allocation: nothing more goes onto the host, vcpu included.
    const host = aHost({ inventories: { vcpu: anInventory({ total: 64 }), memory: anInventory({ total: 0, allocated: 8 * GiB }) } });

    expect(evaluateHost(aTenant(), host, { vcpu: 1 })).toEqual({
      host: 'blv-c01',
      reasons: ['host is over-committed: memory allocated beyond capacity'],
      shortfalls: [],
    });
  });

  it('refuses a host accredited below the tenant classification', () => {
    const tenant = aTenant({ classification: 'SECRET' });

    expect(evaluateHost(tenant, aHost({ accreditation: 'OFFICIAL-SENSITIVE' }), request)?.reasons).toEqual([
      "host is accredited for OFFICIAL-SENSITIVE only, but the tenant's data is SECRET",
    ]);
  });

  it('accepts a host accredited above the tenant classification', () => {
    expect(evaluateHost(aTenant(), aHost({ accreditation: 'SECRET' }), request)).toBeNull();
  });

  describe('dedicated hosts and tenants', () => {
    it('refuses a shared tenant a host dedicated to another tenant', () => {
      expect(evaluateHost(aTenant(), aHost({ dedicatedTenant: 'gwent-police' }), request)?.reasons).toEqual(['host is dedicated to tenant gwent-police']);
    });

    it('refuses a dedicated tenant a host dedicated to another tenant', () => {
      const tenant = aTenant({ isolation: 'dedicated' });

      expect(evaluateHost(tenant, aHost({ dedicatedTenant: 'gwent-police' }), request)?.reasons).toEqual(['host is dedicated to tenant gwent-police']);
    });

    it('refuses a dedicated tenant a shared host', () => {
      const tenant = aTenant({ isolation: 'dedicated' });

      expect(evaluateHost(tenant, aHost(), request)?.reasons).toEqual(['tenant torfaen needs a host dedicated to it, and this host is shared']);
    });

    it('gives a dedicated tenant its own host', () => {
      const tenant = aTenant({ isolation: 'dedicated' });

      expect(evaluateHost(tenant, aHost({ dedicatedTenant: 'torfaen' }), request)).toBeNull();
    });

    it('gives a shared tenant a host dedicated to it', () => {
      expect(evaluateHost(aTenant(), aHost({ dedicatedTenant: 'torfaen' }), request)).toBeNull();
    });
  });

  it('refuses a host without an inventory of a requested class', () => {
    expect(evaluateHost(aTenant(), aHost(), { vcpu: 1, custom_gpu: 1 })).toEqual({
      host: 'blv-c01',
      reasons: ['host has no custom_gpu inventory'],
      shortfalls: [{ resource: 'custom_gpu', requested: 1, free: 0 }],
    });
  });

  it('needs no inventory for a class requested at zero', () => {
    expect(evaluateHost(aTenant(), aHost(), { vcpu: 1, custom_gpu: 0 })).toBeNull();
  });

  it('refuses an amount outside the unit bounds', () => {
    const host = aHost({
      inventories: {
        vcpu: anInventory({ minUnit: 2, stepSize: 2 }),
        memory: anInventory({ total: 64 * GiB, maxUnit: 16 * GiB }),
      },
    });

    expect(evaluateHost(aTenant(), host, { vcpu: 3, memory: 32 * GiB })?.reasons).toEqual([
      'memory: 32 GiB is above the maximum of 16 GiB per allocation',
      'vcpu: 3 is not a multiple of the step size 2',
    ]);
  });

  it('refuses a host without enough free capacity, naming the shortfall', () => {
    const host = aHost({
      inventories: {
        vcpu: anInventory({ total: 4, reserved: 1, allocationRatio: 2, allocated: 2 }),
        memory: anInventory({ total: 64 * GiB, allocated: 40 * GiB }),
      },
    });

    expect(evaluateHost(aTenant(), host, { vcpu: 5, memory: 32 * GiB })).toEqual({
      host: 'blv-c01',
      reasons: ['memory: 32 GiB requested, 24 GiB free', 'vcpu: 5 requested, 4 free'],
      shortfalls: [
        { resource: 'memory', requested: 32 * GiB, free: 24 * GiB },
        { resource: 'vcpu', requested: 5, free: 4 },
      ],
    });
  });

  it('accepts a request that fills the host exactly', () => {
    const vcpu = anInventory({ total: 64, reserved: 4, allocationRatio: 4, allocated: 232 });
    const host = aHost({ inventories: { vcpu } });

    expect(evaluateHost(aTenant(), host, { vcpu: 8 })).toBeNull();
    expect(evaluateHost(aTenant(), host, { vcpu: 9 })?.shortfalls).toEqual([{ resource: 'vcpu', requested: 9, free: 8 }]);
  });

  it('shows no free capacity on a host already past it', () => {
    const host = aHost({ inventories: { vcpu: anInventory({ total: 10, allocated: 12 }) } });

    expect(evaluateHost(aTenant(), host, { vcpu: 1 })?.shortfalls).toEqual([{ resource: 'vcpu', requested: 1, free: 0 }]);
  });

  it('gives every reason that applies', () => {
    const host = aHost({ status: 'down', dedicatedTenant: 'gwent-police', inventories: {} });

    expect(evaluateHost(aTenant({ classification: 'SECRET' }), host, { vcpu: 1 })?.reasons).toEqual([
      'host is down',
      "host is accredited for OFFICIAL only, but the tenant's data is SECRET",
      'host is dedicated to tenant gwent-police',
      'host has no vcpu inventory',
    ]);
  });

  it('never takes an inventory from the prototype', () => {
    const request = JSON.parse('{"constructor": 1}') as Record<string, number>;

    expect(evaluateHost(aTenant(), aHost(), request)?.reasons).toEqual(['host has no constructor inventory']);
  });
});

describe(freeShareAfter.name, () => {
  it('is the share of capacity left free after placing', () => {
    expect(freeShareAfter(hostWithFreeVcpu('a', 50), { vcpu: 10 })).toBe(0.4);
  });

  it('takes the tightest class', () => {
    const host = aHost({
      inventories: { vcpu: anInventory({ total: 100 }), memory: anInventory({ total: 100, allocated: 70 }) },
    });

    expect(freeShareAfter(host, { vcpu: 10, memory: 10 })).toBe(0.2);
  });

  it('counts overcommitted capacity', () => {
    const vcpu = anInventory({ total: 64, reserved: 4, allocationRatio: 4, allocated: 120 });
    const host = aHost({ inventories: { vcpu } });

    expect(freeShareAfter(host, { vcpu: 60 })).toBe(0.25);
  });

  it('is 0 for a class without capacity', () => {
    const host = aHost({ inventories: { vcpu: anInventory(), memory: anInventory({ total: 0 }) } });

    expect(freeShareAfter(host, { vcpu: 1, memory: 1 })).toBe(0);
    expect(freeShareAfter(host, { vcpu: 1, custom_gpu: 1 })).toBe(0);
  });

  it('is 1 for a request that claims nothing', () => {
    expect(freeShareAfter(aHost(), { vcpu: 0 })).toBe(1);
  });
});

describe(rankHosts.name, () => {
  const hosts = [hostWithFreeVcpu('c', 50), hostWithFreeVcpu('a', 90), hostWithFreeVcpu('b', 20)];
  const names = (candidates: PlacementHost[]) => candidates.map((host) => host.name);

  it("'spread' puts the emptiest host first", () => {
    expect(names(rankHosts(aTenant(), hosts, { vcpu: 10 }, 'spread').candidates)).toEqual(['a', 'c', 'b']);
  });

  it("'pack' puts the fullest host first", () => {
    expect(names(rankHosts(aTenant(), hosts, { vcpu: 10 }, 'pack').candidates)).toEqual(['b', 'c', 'a']);
  });

  it.each(['spread', 'pack'] as const)('%s breaks ties by host name', (strategy) => {
    const tied = [hostWithFreeVcpu('blv-c03', 50), hostWithFreeVcpu('blv-c01', 50), hostWithFreeVcpu('blv-c02', 50)];

    expect(names(rankHosts(aTenant(), tied, { vcpu: 10 }, strategy).candidates)).toEqual(['blv-c01', 'blv-c02', 'blv-c03']);
  });

  it('scores by the tightest class', () => {
    const roomyVcpuTightMemory = aHost({
      name: 'a',
      inventories: { vcpu: anInventory(), memory: anInventory({ allocated: 80 }) },
    });
    const balanced = aHost({
      name: 'b',
      inventories: { vcpu: anInventory({ allocated: 50 }), memory: anInventory({ allocated: 50 }) },
    });

    const result = rankHosts(aTenant(), [roomyVcpuTightMemory, balanced], { vcpu: 1, memory: 1 }, 'spread');

    expect(names(result.candidates)).toEqual(['b', 'a']);
  });

  it('leaves out the hosts that may not take the request, with their reasons', () => {
    const full = hostWithFreeVcpu('full', 5);
    const down = aHost({ name: 'down', status: 'down' });
    const dedicated = aHost({ name: 'police', dedicatedTenant: 'gwent-police' });

    const result = rankHosts(aTenant(), [full, hostWithFreeVcpu('ok', 50), down, dedicated], { vcpu: 10 }, 'spread');

    expect(names(result.candidates)).toEqual(['ok']);
    expect(result.rejections).toEqual([
      {
        host: 'full',
        reasons: ['vcpu: 10 requested, 5 free'],
        shortfalls: [{ resource: 'vcpu', requested: 10, free: 5 }],
      },
      { host: 'down', reasons: ['host is down'], shortfalls: [] },
      { host: 'police', reasons: ['host is dedicated to tenant gwent-police'], shortfalls: [] },
    ]);
  });

  it('keeps a SECRET tenant on hosts accredited for it', () => {
    const result = rankHosts(
      aTenant({ classification: 'SECRET' }),
      [aHost({ name: 'official' }), aHost({ name: 'secret', accreditation: 'SECRET' })],
      { vcpu: 1 },
      'spread',
    );

    expect(names(result.candidates)).toEqual(['secret']);
  });

  it('keeps a dedicated tenant on its own hosts', () => {
    const result = rankHosts(
      aTenant({ isolation: 'dedicated' }),
      [aHost({ name: 'shared' }), aHost({ name: 'own', dedicatedTenant: 'torfaen' }), aHost({ name: 'other', dedicatedTenant: 'x' })],
      { vcpu: 1 },
      'pack',
    );

    expect(names(result.candidates)).toEqual(['own']);
  });

  it('accepts any iterable of hosts', () => {
    const result = rankHosts(aTenant(), new Set(hosts).values(), { vcpu: 10 }, 'pack');

    expect(names(result.candidates)).toEqual(['b', 'c', 'a']);
  });

  it('gives nothing for no hosts', () => {
    expect(rankHosts(aTenant(), [], { vcpu: 1 }, 'spread')).toEqual({ candidates: [], rejections: [] });
  });
});
