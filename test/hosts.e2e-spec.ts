import { createHost, createTenant, expectStatus, setQuotas } from './support/facility';
import { RunningControl, startControl } from './support/control';
import { expectJson, expectProblem } from './support/problems';

const GIB = 2 ** 30;
const TIB = 2 ** 40;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('hosts API', () => {
  let control: RunningControl;

  beforeAll(async () => {
    control = await startControl();
  });

  afterAll(async () => {
    await control?.close();
  });

  const hostOf = async (name: string) => expectJson(await control.api.get(`/v1/hosts/${name}`), 200);

  /** A tenant with room to allocate, for the tests that need an active allocation on a host. */
  async function tenantWithQuota(slug: string, extra: Record<string, unknown> = {}) {
    await createTenant(control.api, slug, extra);
    await setQuotas(control.api, slug, { vcpu: 1000, memory: '1TiB' });
  }

  function allocateOn(host: string, tenant: string, resources: Record<string, unknown> = { vcpu: 2 }) {
    return expectStatus(control.api.post('/v1/allocations', { tenant, host, resources }), 201);
  }

  describe('POST /v1/hosts', () => {
    it('registers a host with inventories, byte amounts as strings, default ratios, and capacity per inventory', async () => {
      const response = await control.api.post('/v1/hosts', {
        name: 'blv-c01',
        site: 'blaenavon-hall-a',
        inventories: { vcpu: { total: 64, reserved: 4 }, memory: { total: '512GiB', reserved: '16GiB' }, storage: { total: '20TiB' } },
      });

      const host = expectJson(response, 201);
      expect(host).toEqual({
        name: 'blv-c01',
        site: 'blaenavon-hall-a',
        rack: null,
        labels: {},
        accreditation: 'OFFICIAL',
        dedicatedTenant: null,
        status: 'up',
        origin: 'operator',
        accepted: true,
        overcommitted: false,
        lastReportAt: null,
        agentId: null,
        measurements: null,
        boundTenants: [],
        inventories: {
          memory: {
            unit: 'bytes',
            total: 512 * GIB,
            reserved: 16 * GIB,
            allocationRatio: 1,
            minUnit: null,
            maxUnit: null,
            stepSize: null,
            capacity: 496 * GIB,
            allocated: 0,
            free: 496 * GIB,
            overcommitted: false,
            measuredTotal: null,
          },
          storage: {
            unit: 'bytes',
            total: 20 * TIB,
            reserved: 0,
            allocationRatio: 1,
            minUnit: null,
            maxUnit: null,
            stepSize: null,
            capacity: 20 * TIB,
            allocated: 0,
            free: 20 * TIB,
            overcommitted: false,
            measuredTotal: null,
          },
          // floor((64 − 4) × 4.0)
          vcpu: {
            unit: 'count',
            total: 64,
            reserved: 4,
            allocationRatio: 4,
            minUnit: null,
            maxUnit: null,
            stepSize: null,
            capacity: 240,
            allocated: 0,
            free: 240,
            overcommitted: false,
            measuredTotal: null,
          },
        },
        createdAt: expect.stringMatching(ISO_INSTANT),
        updatedAt: host.createdAt,
      });
      await expect(control.api.get('/v1/hosts/blv-c01')).resolves.toMatchObject({ status: 200, body: host });
    });

    it('floors capacity exactly for decimal ratios: floor((100 − 0) × 1.15) = 115, floor((10 − 3) × 1.5) = 10', async () => {
      await createHost(control.api, 'ratio-host', { vcpu: { total: 100, allocationRatio: 1.15 }, memory: { total: 10, reserved: 3, allocationRatio: 1.5 } });

      const { inventories } = await hostOf('ratio-host');

      expect(inventories.vcpu).toMatchObject({ allocationRatio: 1.15, capacity: 115, free: 115 });
      expect(inventories.memory).toMatchObject({ allocationRatio: 1.5, capacity: 10, free: 10 });
    });

    it('keeps rack, labels, accreditation, status and unit bounds as given', async () => {
      const body = {
        name: 'blv-s01',
        site: 'blaenavon-hall-b',
        rack: 'b07',
        labels: { model: 'PowerEdge R760', 'topology.dcm/row': '2' },
        accreditation: 'SECRET',
        status: 'maintenance',
        inventories: { memory: { total: '1TiB', minUnit: '1GiB', maxUnit: '256GiB', stepSize: '1GiB' } },
      };

      const host = expectJson(await control.api.post('/v1/hosts', body), 201);

      expect(host).toMatchObject({ rack: 'b07', labels: body.labels, accreditation: 'SECRET', status: 'maintenance' });
      expect(host.inventories.memory).toMatchObject({ minUnit: GIB, maxUnit: 256 * GIB, stepSize: GIB, capacity: TIB });
    });

    it('registers a host without inventories', async () => {
      await expect(control.api.post('/v1/hosts', { name: 'empty-host', site: 'hall-a' })).resolves.toMatchObject({ status: 201, body: { inventories: {} } });
    });

    it('refuses a duplicate name with 409 Conflict and keeps the first host', async () => {
      await createHost(control.api, 'dup-host', { vcpu: { total: 8 } });

      expectProblem(await control.api.post('/v1/hosts', { name: 'dup-host', site: 'hall-z', inventories: { vcpu: { total: 99 } } }), 409, 'Conflict');

      await expect(hostOf('dup-host')).resolves.toMatchObject({ site: 'hall-a', inventories: { vcpu: { total: 8 } } });
    });

    it.each([
      ['reserved above total', { vcpu: { total: 8, reserved: 9 } }, 'inventories.vcpu: reserved (9) must not exceed total (8)'],
      [
        'reserved bytes above total',
        { memory: { total: '1GiB', reserved: '2GiB' } },
        'inventories.memory: reserved (2147483648) must not exceed total (1073741824)',
      ],
      ['a zero ratio', { vcpu: { total: 8, allocationRatio: 0 } }, 'inventories.vcpu.allocationRatio must be a positive number'],
      ['a negative ratio', { vcpu: { total: 8, allocationRatio: -1 } }, 'inventories.vcpu.allocationRatio must be a positive number'],
      ['a ratio above 1000', { vcpu: { total: 8, allocationRatio: 1001 } }, 'inventories.vcpu.allocationRatio must not be greater than 1000'],
      ['an unknown class', { gpu: { total: 4 } }, 'inventories.gpu: unknown resource class'],
      ['a fractional count', { vcpu: { total: 1.5 } }, 'inventories.vcpu.total: must be a whole number'],
      ['a negative total', { storage: { total: '-1TiB' } }, 'inventories.storage.total: must not be negative'],
      ['minUnit above maxUnit', { vcpu: { total: 8, minUnit: 4, maxUnit: 2 } }, 'inventories.vcpu: minUnit (4) must not exceed maxUnit (2)'],
      ['a zero step size', { vcpu: { total: 8, stepSize: 0 } }, 'inventories.vcpu: stepSize must be at least 1'],
      ['an unknown inventory field', { vcpu: { total: 8, overcommit: 2 } }, 'inventories.vcpu.property overcommit should not exist'],
      ['an inventory that is not an object', { vcpu: 8 }, 'inventories.vcpu: must be an object with total, reserved, allocationRatio…'],
    ])('refuses %s with 400 ValidationFailed and registers nothing', async (_case, inventories, error) => {
      const problem = expectProblem(await control.api.post('/v1/hosts', { name: 'invalid-host', site: 'hall-a', inventories }), 400, 'ValidationFailed');

      expect(problem.errors).toEqual([error]);
      expectProblem(await control.api.get('/v1/hosts/invalid-host'), 404, 'NotFound');
    });

    it('refuses a non-numeric ratio with 400 ValidationFailed', async () => {
      const problem = expectProblem(
        await control.api.post('/v1/hosts', { name: 'invalid-host', site: 'hall-a', inventories: { vcpu: { total: 8, allocationRatio: 'four' } } }),
        400,
        'ValidationFailed',
      );

      expect(problem.errors).toContain('inventories.vcpu.allocationRatio must be a number conforming to the specified constraints');
    });

    it('refuses a bad name, a missing site and an unknown property in one answer', async () => {
      const problem = expectProblem(await control.api.post('/v1/hosts', { name: 'Bad Name', owner: 'ops' }), 400, 'ValidationFailed');

      expect(problem.errors).toEqual(
        expect.arrayContaining([
          'property owner should not exist',
          expect.stringMatching(/^name must be 1–63 characters/),
          expect.stringMatching(/^site must be 2–63 characters/),
        ]),
      );
    });

    it('refuses a dedicated tenant that does not exist with 400', async () => {
      const problem = expectProblem(
        await control.api.post('/v1/hosts', { name: 'orphan-host', site: 'hall-a', dedicatedTenant: 'nobody-here' }),
        400,
        'ValidationFailed',
      );

      expect(problem.detail).toBe('dedicatedTenant: tenant nobody-here does not exist');
      expectProblem(await control.api.get('/v1/hosts/orphan-host'), 404, 'NotFound');
    });
  });

  describe('GET /v1/hosts', () => {
    let listing: RunningControl;

    beforeAll(async () => {
      listing = await startControl();
      await createHost(listing.api, 'b-02', { vcpu: { total: 8 } }, { site: 'hall-b' });
      await createHost(listing.api, 'a-02', { vcpu: { total: 8 } }, { site: 'hall-a', status: 'maintenance' });
      await createHost(listing.api, 'a-01', { vcpu: { total: 8 } }, { site: 'hall-a' });
      await createHost(listing.api, 'b-01', { vcpu: { total: 8 } }, { site: 'hall-b', status: 'maintenance', accreditation: 'OFFICIAL-SENSITIVE' });
      await createHost(listing.api, 'gone', { vcpu: { total: 8 } }, { site: 'hall-a' });
      await expectStatus(listing.api.delete('/v1/hosts/gone'), 200);
    });

    afterAll(async () => {
      await listing?.close();
    });

    const namesOf = (hosts: { name: string }[]) => hosts.map((host) => host.name);

    it('lists live hosts in name order, without decommissioned ones', async () => {
      const hosts = expectJson(await listing.api.get('/v1/hosts'), 200);

      expect(namesOf(hosts)).toEqual(['a-01', 'a-02', 'b-01', 'b-02']);
      expect(hosts[0].inventories.vcpu).toMatchObject({ total: 8, capacity: 32 });
    });

    it.each([
      ['?site=hall-a', ['a-01', 'a-02']],
      ['?site=hall-b', ['b-01', 'b-02']],
      ['?site=hall-c', []],
      ['?status=up', ['a-01', 'b-02']],
      ['?status=maintenance', ['a-02', 'b-01']],
      ['?status=down', []],
      ['?site=hall-b&status=maintenance', ['b-01']],
      ['?accreditation=OFFICIAL-SENSITIVE', ['b-01']],
      ['?accreditation=OFFICIAL', ['a-01', 'a-02', 'b-02']],
      ['?accreditation=SECRET', []],
    ])('filters by %s', async (query, expected) => {
      const response = await listing.api.get(`/v1/hosts${query}`);
      const hosts = expectJson(response, 200);

      expect(namesOf(hosts)).toEqual(expected);
      expect(response.headers.get('x-total-count')).toBe(String(expected.length));
    });

    it.each([
      ['?limit=2', ['a-01', 'a-02'], 4],
      ['?limit=2&offset=2', ['b-01', 'b-02'], 4],
      ['?limit=3&offset=3', ['b-02'], 4],
      ['?offset=4', [], 4],
      ['?offset=1', ['a-02', 'b-01', 'b-02'], 4],
      ['?site=hall-a&limit=1&offset=1', ['a-02'], 2],
      ['?accreditation=OFFICIAL&limit=2&offset=1', ['a-02', 'b-02'], 3],
    ])('pages by name with %s, X-Total-Count counting every match', async (query, expected, total) => {
      const response = await listing.api.get(`/v1/hosts${query}`);

      expect(namesOf(expectJson(response, 200))).toEqual(expected);
      expect(response.headers.get('x-total-count')).toBe(String(total));
    });

    it.each(['?limit=0', '?limit=1001', '?offset=-1', '?accreditation=TOP-SECRET'])('refuses %s with 400 ValidationFailed', async (query) => {
      expectProblem(await listing.api.get(`/v1/hosts${query}`), 400, 'ValidationFailed');
    });

    it('refuses an unknown status with 400 ValidationFailed, as GET /v1/tenants does for ?state', async () => {
      expectProblem(await listing.api.get('/v1/hosts?status=broken'), 400, 'ValidationFailed');
    });
  });

  describe('GET /v1/hosts/:name', () => {
    it('answers 404 NotFound for a host that does not exist', async () => {
      const problem = expectProblem(await control.api.get('/v1/hosts/no-such-host'), 404, 'NotFound');

      expect(problem.detail).toBe('host no-such-host does not exist');
    });
  });

  describe('PATCH /v1/hosts/:name', () => {
    // Placement looks at every host, so these tests run on a facility of their own.
    let placement: RunningControl;

    beforeAll(async () => {
      placement = await startControl();
      await createTenant(placement.api, 'torfaen');
      await setQuotas(placement.api, 'torfaen', { vcpu: 100 });
    });

    afterAll(async () => {
      await placement?.close();
    });

    it('takes a host in maintenance out of placement, and puts it back when it is up again', async () => {
      await createHost(placement.api, 'only-host', { vcpu: { total: 16, allocationRatio: 1 } });

      const maintained = expectJson(await placement.api.patch('/v1/hosts/only-host', { status: 'maintenance' }), 200);
      expect(maintained.status).toBe('maintenance');
      await expect(placement.api.get('/v1/hosts/only-host')).resolves.toMatchObject({ body: { status: 'maintenance' } });

      const refused = expectProblem(await placement.api.post('/v1/allocations', { tenant: 'torfaen', resources: { vcpu: 2 } }), 409, 'InsufficientCapacity');
      expect(refused.rejections).toEqual([{ host: 'only-host', reasons: ['host is in maintenance'], shortfalls: [] }]);
      const named = expectProblem(
        await placement.api.post('/v1/allocations', { tenant: 'torfaen', host: 'only-host', resources: { vcpu: 2 } }),
        409,
        'InsufficientCapacity',
      );
      expect(named.rejections[0].reasons).toEqual(['host is in maintenance']);

      await expect(placement.api.patch('/v1/hosts/only-host', { status: 'up' })).resolves.toMatchObject({ status: 200, body: { status: 'up' } });
      await expect(placement.api.post('/v1/allocations', { tenant: 'torfaen', resources: { vcpu: 2 } })).resolves.toMatchObject({
        status: 201,
        body: { host: 'only-host' },
      });
    });

    it('changes site, rack and labels', async () => {
      await createHost(control.api, 'moving-host', { vcpu: { total: 8 } }, { rack: 'a01', labels: { model: 'R650' } });

      await expect(control.api.patch('/v1/hosts/moving-host', { site: 'hall-b', rack: 'b02', labels: { model: 'R760' } })).resolves.toMatchObject({
        status: 200,
      });

      await expect(hostOf('moving-host')).resolves.toMatchObject({ site: 'hall-b', rack: 'b02', labels: { model: 'R760' } });
      await expect(control.api.patch('/v1/hosts/moving-host', { rack: null })).resolves.toMatchObject({ status: 200, body: { rack: null } });
    });

    it('dedicates a host to a tenant and makes it shared again with null', async () => {
      await createTenant(control.api, 'gwent-police', { isolation: 'dedicated', classification: 'OFFICIAL-SENSITIVE' });
      await createHost(control.api, 'police-host', { vcpu: { total: 8 } }, { accreditation: 'SECRET' });

      await expect(control.api.patch('/v1/hosts/police-host', { dedicatedTenant: 'gwent-police' })).resolves.toMatchObject({
        status: 200,
        body: { dedicatedTenant: 'gwent-police' },
      });
      await expect(hostOf('police-host')).resolves.toMatchObject({ dedicatedTenant: 'gwent-police' });

      await expect(control.api.patch('/v1/hosts/police-host', { dedicatedTenant: null })).resolves.toMatchObject({
        status: 200,
        body: { dedicatedTenant: null },
      });
      await expect(hostOf('police-host')).resolves.toMatchObject({ dedicatedTenant: null });
    });

    it('refuses to dedicate a host to an unknown tenant with 400', async () => {
      await createHost(control.api, 'undedicated', { vcpu: { total: 8 } });

      expectProblem(await control.api.patch('/v1/hosts/undedicated', { dedicatedTenant: 'nobody-here' }), 400, 'ValidationFailed');

      await expect(hostOf('undedicated')).resolves.toMatchObject({ dedicatedTenant: null });
    });

    it('refuses with 409 to dedicate a host to one tenant while another tenant has allocations on it', async () => {
      await tenantWithQuota('shared-user');
      await createTenant(control.api, 'new-owner');
      await createHost(control.api, 'taken-host', { vcpu: { total: 8 } });
      await allocateOn('taken-host', 'shared-user');

      const problem = expectProblem(await control.api.patch('/v1/hosts/taken-host', { dedicatedTenant: 'new-owner' }), 409, 'Conflict');

      expect(problem.detail).toContain('shared-user');
      await expect(hostOf('taken-host')).resolves.toMatchObject({ dedicatedTenant: null });
    });

    it('refuses with 409 to make a host shared while a dedicated tenant has allocations on it', async () => {
      await tenantWithQuota('ambulance-service', { isolation: 'dedicated' });
      await createHost(control.api, 'ambulance-host', { vcpu: { total: 8 } }, { dedicatedTenant: 'ambulance-service' });
      await allocateOn('ambulance-host', 'ambulance-service');

      const problem = expectProblem(await control.api.patch('/v1/hosts/ambulance-host', { dedicatedTenant: null }), 409, 'Conflict');

      expect(problem.detail).toContain('ambulance-service');
      await expect(hostOf('ambulance-host')).resolves.toMatchObject({ dedicatedTenant: 'ambulance-service' });
    });

    it('puts a host with active allocations in maintenance: they stay, nothing new lands there', async () => {
      await tenantWithQuota('maintenance-tenant');
      await createHost(control.api, 'serviced-host', { vcpu: { total: 8 } });
      const allocation = await allocateOn('serviced-host', 'maintenance-tenant');

      await expect(control.api.patch('/v1/hosts/serviced-host', { status: 'maintenance' })).resolves.toMatchObject({
        status: 200,
        body: { status: 'maintenance' },
      });

      await expect(control.api.get(`/v1/allocations/${allocation.id}`)).resolves.toMatchObject({ body: { status: 'active', host: 'serviced-host' } });
      await expect(hostOf('serviced-host')).resolves.toMatchObject({ inventories: { vcpu: { allocated: 2 } } });
      expectProblem(
        await control.api.post('/v1/allocations', { tenant: 'maintenance-tenant', host: 'serviced-host', resources: { vcpu: 1 } }),
        409,
        'InsufficientCapacity',
      );
    });

    it('refuses with 409 to lower the accreditation below the classification of a tenant with allocations on it', async () => {
      await tenantWithQuota('sensitive-council', { classification: 'OFFICIAL-SENSITIVE' });
      await createHost(control.api, 'accredited-host', { vcpu: { total: 8 } }, { accreditation: 'OFFICIAL-SENSITIVE' });
      const allocation = await allocateOn('accredited-host', 'sensitive-council');

      const problem = expectProblem(await control.api.patch('/v1/hosts/accredited-host', { accreditation: 'OFFICIAL' }), 409, 'Conflict');

      expect(problem.detail).toContain('sensitive-council');
      await expect(hostOf('accredited-host')).resolves.toMatchObject({ accreditation: 'OFFICIAL-SENSITIVE' });
      await expect(control.api.patch('/v1/hosts/accredited-host', { accreditation: 'SECRET' })).resolves.toMatchObject({
        status: 200,
        body: { accreditation: 'SECRET' },
      });
      await expectStatus(control.api.delete(`/v1/allocations/${allocation.id}`), 200);
      await expect(control.api.patch('/v1/hosts/accredited-host', { accreditation: 'OFFICIAL' })).resolves.toMatchObject({
        status: 200,
        body: { accreditation: 'OFFICIAL' },
      });
    });

    it('refuses statuses an operator cannot set, and unknown properties, with 400', async () => {
      await createHost(control.api, 'status-host', { vcpu: { total: 8 } });

      const problem = expectProblem(await control.api.patch('/v1/hosts/status-host', { status: 'down', name: 'renamed' }), 400, 'ValidationFailed');

      expect(problem.errors).toEqual(expect.arrayContaining(['property name should not exist', 'status must be one of the following values: up, maintenance']));
      await expect(hostOf('status-host')).resolves.toMatchObject({ status: 'up' });
    });

    it.each(['site', 'accreditation', 'status'])('refuses %s: null with 400 ValidationFailed (not a 500)', async (field) => {
      const name = `null-${field}`;
      await createHost(control.api, name, { vcpu: { total: 8 } });

      expectProblem(await control.api.patch(`/v1/hosts/${name}`, { [field]: null }), 400, 'ValidationFailed');

      await expect(hostOf(name)).resolves.toMatchObject({ site: 'hall-a', accreditation: 'OFFICIAL', status: 'up' });
    });

    it('answers 404 NotFound for a host that does not exist', async () => {
      expectProblem(await control.api.patch('/v1/hosts/no-such-host', { status: 'maintenance' }), 404, 'NotFound');
    });
  });

  describe('PUT /v1/hosts/:name/inventories/:class', () => {
    it('adds an inventory of a new class to a host', async () => {
      await createHost(control.api, 'growing-host', { vcpu: { total: 8 } });

      const host = expectJson(await control.api.put('/v1/hosts/growing-host/inventories/storage', { total: '10TiB', reserved: '1TiB' }), 200);

      expect(host.inventories.storage).toEqual({
        unit: 'bytes',
        total: 10 * TIB,
        reserved: TIB,
        allocationRatio: 1,
        minUnit: null,
        maxUnit: null,
        stepSize: null,
        capacity: 9 * TIB,
        allocated: 0,
        free: 9 * TIB,
        overcommitted: false,
        measuredTotal: null,
      });
      await expect(hostOf('growing-host')).resolves.toMatchObject({ inventories: { storage: { capacity: 9 * TIB }, vcpu: { total: 8 } } });
    });

    it('updates an existing inventory and keeps what is allocated on it', async () => {
      await tenantWithQuota('inventory-user');
      await createHost(control.api, 'resized-host', { vcpu: { total: 16, allocationRatio: 1 } });
      await allocateOn('resized-host', 'inventory-user', { vcpu: 6 });

      const host = expectJson(await control.api.put('/v1/hosts/resized-host/inventories/vcpu', { total: 32, reserved: 2, allocationRatio: 2 }), 200);

      expect(host.inventories.vcpu).toMatchObject({ total: 32, reserved: 2, allocationRatio: 2, capacity: 60, allocated: 6, free: 54 });
      await expect(hostOf('resized-host')).resolves.toMatchObject({ inventories: { vcpu: { capacity: 60, allocated: 6, free: 54 } } });
    });

    it('applies the default ratio of the class when none is given', async () => {
      await createHost(control.api, 'default-ratio-host', {});

      const host = expectJson(await control.api.put('/v1/hosts/default-ratio-host/inventories/vcpu', { total: 10 }), 200);

      expect(host.inventories.vcpu).toMatchObject({ allocationRatio: 4, capacity: 40 });
    });

    it('answers 404 NotFound for an unknown class, and for an unknown host', async () => {
      await createHost(control.api, 'class-host', { vcpu: { total: 8 } });

      const unknownClass = expectProblem(await control.api.put('/v1/hosts/class-host/inventories/gpu', { total: 4 }), 404, 'NotFound');
      expect(unknownClass.detail).toBe('resource class gpu does not exist');
      const unknownHost = expectProblem(await control.api.put('/v1/hosts/no-such-host/inventories/vcpu', { total: 4 }), 404, 'NotFound');
      expect(unknownHost.detail).toBe('host no-such-host does not exist');
      await expect(hostOf('class-host')).resolves.toMatchObject({ inventories: { vcpu: { total: 8 } } });
    });

    describe('refusals', () => {
      beforeAll(async () => {
        await createHost(control.api, 'strict-host', { vcpu: { total: 8 } });
      });

      it.each([
        ['reserved above total', { total: 8, reserved: 16 }],
        ['a zero ratio', { total: 8, allocationRatio: 0 }],
        ['an unknown field', { total: 8, used: 2 }],
        ['no total', { reserved: 1 }],
        ['a fractional count', { total: 7.5 }],
      ])('refuses %s with 400 and keeps the inventory', async (_case, body) => {
        expectProblem(await control.api.put('/v1/hosts/strict-host/inventories/vcpu', body), 400, 'ValidationFailed');

        await expect(hostOf('strict-host')).resolves.toMatchObject({ inventories: { vcpu: { total: 8, reserved: 0, allocationRatio: 4 } } });
      });
    });
  });

  describe('DELETE /v1/hosts/:name', () => {
    it('decommissions a host: then 404 on GET, gone from the list, and its name free for a new host', async () => {
      await createHost(control.api, 'retired-host', { vcpu: { total: 8 } }, { rack: 'r01' });

      const decommissioned = expectJson(await control.api.delete('/v1/hosts/retired-host'), 200);

      expect(decommissioned).toMatchObject({ name: 'retired-host', rack: 'r01' });
      expectProblem(await control.api.get('/v1/hosts/retired-host'), 404, 'NotFound');
      const hosts = expectJson(await control.api.get('/v1/hosts'), 200);
      expect(hosts.map((host: { name: string }) => host.name)).not.toContain('retired-host');
      const successor = expectJson(await control.api.post('/v1/hosts', { name: 'retired-host', site: 'hall-c', inventories: { vcpu: { total: 64 } } }), 201);
      expect(successor).toMatchObject({ site: 'hall-c', rack: null, inventories: { vcpu: { total: 64, allocated: 0 } } });
      await expect(hostOf('retired-host')).resolves.toMatchObject({ site: 'hall-c' });
    });

    it('is refused with 409 while allocations are active, and succeeds once they are released', async () => {
      await tenantWithQuota('host-user');
      await createHost(control.api, 'busy-host', { vcpu: { total: 8 } });
      const allocation = await allocateOn('busy-host', 'host-user');

      const problem = expectProblem(await control.api.delete('/v1/hosts/busy-host'), 409, 'Conflict');

      expect(problem).toMatchObject({ activeAllocations: 1 });
      await expect(hostOf('busy-host')).resolves.toMatchObject({ status: 'up', inventories: { vcpu: { allocated: 2 } } });
      await expectStatus(control.api.delete(`/v1/allocations/${allocation.id}`), 200);
      await expect(control.api.delete('/v1/hosts/busy-host')).resolves.toMatchObject({ status: 200 });
      expectProblem(await control.api.get('/v1/hosts/busy-host'), 404, 'NotFound');
    });

    it('answers 404 NotFound for a host that does not exist, and for one already decommissioned', async () => {
      await createHost(control.api, 'twice-retired', { vcpu: { total: 8 } });
      await expectStatus(control.api.delete('/v1/hosts/twice-retired'), 200);

      expectProblem(await control.api.delete('/v1/hosts/twice-retired'), 404, 'NotFound');
      expectProblem(await control.api.delete('/v1/hosts/no-such-host'), 404, 'NotFound');
    });
  });
});
