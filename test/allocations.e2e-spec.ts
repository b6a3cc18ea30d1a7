import { createHost, createTenant, expectStatus, setQuotas } from './support/facility';
import { RunningControl, startControl } from './support/control';
import { ApiClient } from './support/api-client';
import { expectJson, expectProblem } from './support/problems';

const GIB = 2 ** 30;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function allocate(api: ApiClient, body: Record<string, unknown>, headers?: Record<string, string>) {
  return api.post('/v1/allocations', body, headers ? { headers } : undefined);
}

async function placedOn(api: ApiClient, body: Record<string, unknown>): Promise<string> {
  return (await expectStatus(allocate(api, body), 201)).host;
}

describe('allocations API', () => {
  describe('placement without a named host', () => {
    let control: RunningControl;

    beforeEach(async () => {
      control = await startControl();
      await createTenant(control.api, 'torfaen');
      await setQuotas(control.api, 'torfaen', { vcpu: 10_000, memory: '10TiB' });
    });

    afterEach(async () => {
      await control?.close();
    });

    it('spread picks the host with the largest free share, pack the smallest', async () => {
      const { api } = control;
      // b-big has more vCPUs free (400 of 1000) but a smaller share free (40 %) than a-small (100 of 100).
      await createHost(api, 'b-big', { vcpu: { total: 1000, allocationRatio: 1 } });
      await createHost(api, 'a-small', { vcpu: { total: 100, allocationRatio: 1 } });
      await expectStatus(allocate(api, { tenant: 'torfaen', host: 'b-big', resources: { vcpu: 600 } }), 201);

      await expect(placedOn(api, { tenant: 'torfaen', resources: { vcpu: 10 } })).resolves.toBe('a-small');
      await expect(placedOn(api, { tenant: 'torfaen', resources: { vcpu: 10 }, strategy: 'spread' })).resolves.toBe('a-small');
      await expect(placedOn(api, { tenant: 'torfaen', resources: { vcpu: 10 }, strategy: 'pack' })).resolves.toBe('b-big');

      const hosts = expectJson(await api.get('/v1/hosts'), 200);
      expect(hosts.map((host: { name: string; inventories: { vcpu: { allocated: number } } }) => [host.name, host.inventories.vcpu.allocated])).toEqual([
        ['a-small', 20],
        ['b-big', 610],
      ]);
    });

    it('breaks ties by host name, whatever the order the hosts were registered in', async () => {
      const { api } = control;
      await createHost(api, 'node-2', { vcpu: { total: 100, allocationRatio: 1 } });
      await createHost(api, 'node-1', { vcpu: { total: 100, allocationRatio: 1 } });

      await expect(placedOn(api, { tenant: 'torfaen', resources: { vcpu: 10 } })).resolves.toBe('node-1');
      // node-2 is now the emptier one.
      await expect(placedOn(api, { tenant: 'torfaen', resources: { vcpu: 10 } })).resolves.toBe('node-2');
      // Both hold 10 again: a tie, which pack also breaks by name.
      await expect(placedOn(api, { tenant: 'torfaen', resources: { vcpu: 10 }, strategy: 'pack' })).resolves.toBe('node-1');
      await expect(placedOn(api, { tenant: 'torfaen', resources: { vcpu: 10 }, strategy: 'pack' })).resolves.toBe('node-1');
    });

    it('weighs a host by the class it has least of left', async () => {
      const { api } = control;
      // After the request, host-a keeps 90 % of its vCPUs but only 10 % of its memory; host-b keeps 50 % of both.
      await createHost(api, 'host-a', { vcpu: { total: 100, allocationRatio: 1 }, memory: { total: '10GiB' } });
      await createHost(api, 'host-b', { vcpu: { total: 20, allocationRatio: 1 }, memory: { total: '18GiB' } });

      await expect(placedOn(api, { tenant: 'torfaen', resources: { vcpu: 10, memory: '9GiB' } })).resolves.toBe('host-b');
    });

    it('places on the named host even where the strategy would pick another', async () => {
      const { api } = control;
      await createHost(api, 'emptier', { vcpu: { total: 100, allocationRatio: 1 } });
      await createHost(api, 'fuller', { vcpu: { total: 100, allocationRatio: 1 } });
      await expectStatus(allocate(api, { tenant: 'torfaen', host: 'fuller', resources: { vcpu: 50 } }), 201);

      const allocation = expectJson(await allocate(api, { tenant: 'torfaen', host: 'fuller', resources: { vcpu: 5 }, strategy: 'spread' }), 201);

      expect(allocation.host).toBe('fuller');
      await expect(api.get('/v1/hosts/fuller')).resolves.toMatchObject({ body: { inventories: { vcpu: { allocated: 55 } } } });
    });

    it('uses the configured default strategy', async () => {
      await control.close();
      control = await startControl({ placementStrategy: 'pack' });
      const { api } = control;
      await createTenant(api, 'torfaen');
      await setQuotas(api, 'torfaen', { vcpu: 1000 });
      await createHost(api, 'empty', { vcpu: { total: 100, allocationRatio: 1 } });
      await createHost(api, 'half-full', { vcpu: { total: 100, allocationRatio: 1 } });
      await expectStatus(allocate(api, { tenant: 'torfaen', host: 'half-full', resources: { vcpu: 50 } }), 201);

      await expect(placedOn(api, { tenant: 'torfaen', resources: { vcpu: 1 } })).resolves.toBe('half-full');
      await expect(placedOn(api, { tenant: 'torfaen', resources: { vcpu: 1 }, strategy: 'spread' })).resolves.toBe('empty');
    });

    it('answers 409 InsufficientCapacity naming the short class and hosts, and allocates nothing', async () => {
      const { api } = control;
      await createHost(api, 'small-1', { vcpu: { total: 4, allocationRatio: 1 }, memory: { total: '64GiB' } });
      await createHost(api, 'small-2', { vcpu: { total: 6, allocationRatio: 1 }, memory: { total: '64GiB' } });

      const problem = expectProblem(await allocate(api, { tenant: 'torfaen', resources: { vcpu: 8, memory: '16GiB' } }), 409, 'InsufficientCapacity');

      expect(problem.detail).toBe('no host can take the allocation for tenant torfaen: vcpu short on small-1, small-2');
      expect(problem).toMatchObject({
        tenant: 'torfaen',
        requested: { vcpu: 8, memory: 16 * GIB },
        hostsConsidered: 2,
        shortfalls: { vcpu: 2 },
        rejections: [
          { host: 'small-1', reasons: ['vcpu: 8 requested, 4 free'], shortfalls: [{ resource: 'vcpu', requested: 8, free: 4 }] },
          { host: 'small-2', reasons: ['vcpu: 8 requested, 6 free'], shortfalls: [{ resource: 'vcpu', requested: 8, free: 6 }] },
        ],
      });
      await expect(api.get('/v1/allocations?status=all')).resolves.toMatchObject({ status: 200, body: [] });
      await expect(api.get('/v1/tenants/torfaen/quotas')).resolves.toMatchObject({ body: { quotas: { vcpu: { allocated: 0 }, memory: { allocated: 0 } } } });
    });

    it('answers 409 InsufficientCapacity when no host is registered', async () => {
      const problem = expectProblem(await allocate(control.api, { tenant: 'torfaen', resources: { vcpu: 1 } }), 409, 'InsufficientCapacity');

      expect(problem).toMatchObject({ hostsConsidered: 0, rejections: [] });
    });

    it('treats a host without an inventory of the class as short of it', async () => {
      await createHost(control.api, 'cpu-only', { vcpu: { total: 8 } });

      const problem = expectProblem(await allocate(control.api, { tenant: 'torfaen', resources: { memory: '1GiB' } }), 409, 'InsufficientCapacity');

      expect(problem.detail).toContain('memory short on cpu-only');
      expect(problem.rejections[0].reasons).toEqual(['host has no memory inventory']);
    });
  });

  describe('admission', () => {
    let control: RunningControl;
    let api: ApiClient;

    beforeAll(async () => {
      control = await startControl();
      api = control.api;
      await createHost(api, 'official-1', { vcpu: { total: 1000, allocationRatio: 1 }, memory: { total: '4TiB' } }, { accreditation: 'OFFICIAL' });
      await createHost(api, 'sensitive-1', { vcpu: { total: 100, allocationRatio: 1 }, memory: { total: '1TiB' } }, { accreditation: 'OFFICIAL-SENSITIVE' });
      await createTenant(api, 'gwent-police', { isolation: 'dedicated', classification: 'OFFICIAL-SENSITIVE' });
      await setQuotas(api, 'gwent-police', { vcpu: 1000 });
      // The emptiest host of all, so that spread would choose it if the rules let it.
      await createHost(api, 'police-1', { vcpu: { total: 5000, allocationRatio: 1 } }, { accreditation: 'SECRET', dedicatedTenant: 'gwent-police' });
      await createHost(
        api,
        'bounded',
        { vcpu: { total: 64, allocationRatio: 1, minUnit: 2, maxUnit: 16, stepSize: 2 }, memory: { total: '256GiB', stepSize: '1GiB' } },
        { status: 'maintenance' },
      );
    });

    afterAll(async () => {
      await control?.close();
    });

    async function tenant(slug: string, quotas: Record<string, number | string> = { vcpu: 1000, memory: '1TiB' }, extra: Record<string, unknown> = {}) {
      await createTenant(api, slug, extra);
      await setQuotas(api, slug, quotas);
    }

    it('admits an allocation and shows it, with amounts in base units', async () => {
      await tenant('torfaen');

      const response = await allocate(api, {
        tenant: 'torfaen',
        host: 'official-1',
        resources: { vcpu: 8, memory: '32GiB' },
        description: 'Revenues and benefits',
      });

      const allocation = expectJson(response, 201);
      expect(allocation).toEqual({
        id: expect.stringMatching(UUID),
        tenant: 'torfaen',
        host: 'official-1',
        site: 'hall-a',
        resources: { memory: 32 * GIB, vcpu: 8 },
        description: 'Revenues and benefits',
        status: 'active',
        createdAt: expect.stringMatching(ISO_INSTANT),
        releasedAt: null,
      });
      await expect(api.get(`/v1/allocations/${allocation.id}`)).resolves.toMatchObject({ status: 200, body: allocation });
      await expect(api.get('/v1/tenants/torfaen/quotas')).resolves.toMatchObject({
        body: { quotas: { vcpu: { allocated: 8 }, memory: { allocated: 32 * GIB } } },
      });
    });

    describe('quota', () => {
      it('answers 409 QuotaExceeded with resource, requested, limit and allocated, and allocates nothing', async () => {
        await tenant('capped', { vcpu: 10, memory: '64GiB' });
        await expectStatus(allocate(api, { tenant: 'capped', resources: { vcpu: 8, memory: '16GiB' } }), 201);

        const problem = expectProblem(await allocate(api, { tenant: 'capped', resources: { vcpu: 4, memory: '8GiB' } }), 409, 'QuotaExceeded');

        expect(problem).toMatchObject({ tenant: 'capped', resource: 'vcpu', requested: 4, limit: 10, allocated: 8 });
        expect(problem.detail).toBe("tenant capped: vcpu: 4 requested, but only 2 of the tenant's 10 quota is left");
        const allocations = expectJson(await api.get('/v1/allocations?tenant=capped'), 200);
        expect(allocations).toHaveLength(1);
        await expect(api.get('/v1/tenants/capped/quotas')).resolves.toMatchObject({
          body: { quotas: { vcpu: { allocated: 8 }, memory: { allocated: 16 * GIB } } },
        });
      });

      it('reports byte quotas in bytes', async () => {
        await tenant('byte-capped', { vcpu: 100, memory: '64GiB' });

        const problem = expectProblem(await allocate(api, { tenant: 'byte-capped', resources: { vcpu: 1, memory: '65GiB' } }), 409, 'QuotaExceeded');

        expect(problem).toMatchObject({ resource: 'memory', requested: 65 * GIB, limit: 64 * GIB, allocated: 0 });
      });

      it('admits up to exactly the limit', async () => {
        await tenant('exact-fit', { vcpu: 10 });

        await expectStatus(allocate(api, { tenant: 'exact-fit', resources: { vcpu: 10 } }), 201);

        await expect(api.get('/v1/tenants/exact-fit/quotas')).resolves.toMatchObject({ body: { quotas: { vcpu: { allocated: 10, available: 0 } } } });
      });
    });

    describe('placement rules', () => {
      it('never places on a host that is not up', async () => {
        await tenant('maintenance-seeker');

        const problem = expectProblem(
          await allocate(api, { tenant: 'maintenance-seeker', host: 'bounded', resources: { vcpu: 4 } }),
          409,
          'InsufficientCapacity',
        );

        expect(problem.rejections).toEqual([{ host: 'bounded', reasons: ['host is in maintenance'], shortfalls: [] }]);
      });

      it('places an OFFICIAL-SENSITIVE tenant only on hosts accredited for it', async () => {
        await tenant('sensitive-council', { vcpu: 1000 }, { classification: 'OFFICIAL-SENSITIVE' });

        await expect(placedOn(api, { tenant: 'sensitive-council', resources: { vcpu: 4 } })).resolves.toBe('sensitive-1');
        const problem = expectProblem(
          await allocate(api, { tenant: 'sensitive-council', host: 'official-1', resources: { vcpu: 4 } }),
          409,
          'InsufficientCapacity',
        );
        expect(problem.rejections[0].reasons).toEqual(["host is accredited for OFFICIAL only, but the tenant's data is OFFICIAL-SENSITIVE"]);
        expect(expectJson(await api.get('/v1/allocations?tenant=sensitive-council'), 200).map((a: { host: string }) => a.host)).toEqual(['sensitive-1']);
      });

      it('refuses when no host is accredited high enough', async () => {
        await tenant('secret-agency', { vcpu: 1000 }, { classification: 'SECRET' });

        const problem = expectProblem(await allocate(api, { tenant: 'secret-agency', resources: { vcpu: 1 } }), 409, 'InsufficientCapacity');

        expect(problem.detail).toContain('ruled out by placement rules');
        expect(problem.shortfalls).toEqual({});
      });

      it('places a dedicated tenant only on its dedicated host', async () => {
        await expect(placedOn(api, { tenant: 'gwent-police', resources: { vcpu: 4 } })).resolves.toBe('police-1');

        const problem = expectProblem(
          await allocate(api, { tenant: 'gwent-police', host: 'sensitive-1', resources: { vcpu: 4 } }),
          409,
          'InsufficientCapacity',
        );
        expect(problem.rejections[0].reasons).toEqual(['tenant gwent-police needs a host dedicated to it, and this host is shared']);
      });

      it('never places a shared tenant on a host dedicated to another tenant', async () => {
        await tenant('shared-council', { vcpu: 1000 }, { classification: 'OFFICIAL' });

        // police-1 is by far the emptiest host, so spread would take it if the rules allowed.
        await expect(placedOn(api, { tenant: 'shared-council', resources: { vcpu: 4 } })).resolves.not.toBe('police-1');
        const problem = expectProblem(await allocate(api, { tenant: 'shared-council', host: 'police-1', resources: { vcpu: 4 } }), 409, 'InsufficientCapacity');
        expect(problem.rejections[0].reasons).toEqual(['host is dedicated to tenant gwent-police']);
        const allocations = expectJson(await api.get('/v1/allocations?host=police-1'), 200);
        expect(allocations.map((allocation: { tenant: string }) => allocation.tenant)).not.toContain('shared-council');
      });
    });

    describe('unit bounds', () => {
      beforeAll(async () => {
        await tenant('bounded-user');
        await expectStatus(api.patch('/v1/hosts/bounded', { status: 'up' }), 200);
      });

      afterAll(async () => {
        await expectStatus(api.patch('/v1/hosts/bounded', { status: 'maintenance' }), 200);
      });

      it.each([
        ['below minUnit', { vcpu: 1 }, 'vcpu: 1 is below the minimum of 2 per allocation'],
        ['above maxUnit', { vcpu: 18 }, 'vcpu: 18 is above the maximum of 16 per allocation'],
        ['off the step size', { vcpu: 5 }, 'vcpu: 5 is not a multiple of the step size 2'],
        ['off a byte step size', { vcpu: 2, memory: '1536MiB' }, 'memory: 1.5 GiB is not a multiple of the step size 1 GiB'],
      ])('refuses an amount %s', async (_case, resources, reason) => {
        const problem = expectProblem(await allocate(api, { tenant: 'bounded-user', host: 'bounded', resources }), 409, 'InsufficientCapacity');

        expect(problem.rejections).toEqual([{ host: 'bounded', reasons: [reason], shortfalls: [] }]);
        await expect(api.get('/v1/allocations?tenant=bounded-user')).resolves.toMatchObject({ body: [] });
      });

      it.each([
        ['the minimum', { vcpu: 2 }],
        ['the maximum', { vcpu: 16 }],
        ['a multiple of the step', { vcpu: 6, memory: '3GiB' }],
      ])('admits %s', async (_case, resources) => {
        const allocation = expectJson(await allocate(api, { tenant: 'bounded-user', host: 'bounded', resources }), 201);

        await expectStatus(api.delete(`/v1/allocations/${allocation.id}`), 200);
      });
    });

    describe('Idempotency-Key', () => {
      it('answers a retry with the first result: same allocation, one allocation only, marked idempotent-replayed', async () => {
        await tenant('retrying', { vcpu: 100 });
        const body = { tenant: 'retrying', resources: { vcpu: 4 }, description: 'payroll' };

        const first = await allocate(api, body, { 'idempotency-key': 'payroll-1' });
        const second = await allocate(api, body, { 'idempotency-key': 'payroll-1' });

        expect(first.status).toBe(201);
        expect(first.headers.get('idempotent-replayed')).toBeNull();
        expect(second.status).toBe(201);
        expect(second.headers.get('idempotent-replayed')).toBe('true');
        expect(second.body).toEqual(first.body);
        const allocations = expectJson(await api.get('/v1/allocations?tenant=retrying&status=all'), 200);
        expect(allocations.map((allocation: { id: string }) => allocation.id)).toEqual([first.body.id]);
        await expect(api.get('/v1/tenants/retrying/quotas')).resolves.toMatchObject({ body: { quotas: { vcpu: { allocated: 4 } } } });
      });

      it('treats the same amounts written differently as the same request', async () => {
        await tenant('retrying-bytes', { memory: '64GiB' });

        const first = expectJson(await allocate(api, { tenant: 'retrying-bytes', resources: { memory: '8GiB' } }, { 'idempotency-key': 'bytes-1' }), 201);
        const second = await allocate(api, { tenant: 'retrying-bytes', resources: { memory: 8 * GIB } }, { 'idempotency-key': 'bytes-1' });

        expect(second).toMatchObject({ status: 201, body: { id: first.id } });
      });

      it('refuses the same key with a different body with 409 Conflict and allocates nothing more', async () => {
        await tenant('reusing-key', { vcpu: 100 });
        const first = expectJson(await allocate(api, { tenant: 'reusing-key', resources: { vcpu: 4 } }, { 'idempotency-key': 'reused' }), 201);

        const problem = expectProblem(await allocate(api, { tenant: 'reusing-key', resources: { vcpu: 5 } }, { 'idempotency-key': 'reused' }), 409, 'Conflict');

        expect(problem.detail).toBe('this Idempotency-Key was already used with a different request');
        const allocations = expectJson(await api.get('/v1/allocations?tenant=reusing-key'), 200);
        expect(allocations.map((allocation: { id: string }) => allocation.id)).toEqual([first.id]);
      });

      it('replays a refusal: the same 409 body, even once the quota would allow it', async () => {
        await tenant('refused-once', { vcpu: 2 });
        const body = { tenant: 'refused-once', resources: { vcpu: 4 } };
        const first = await allocate(api, body, { 'idempotency-key': 'too-big' });
        const refusal = expectProblem(first, 409, 'QuotaExceeded');
        await setQuotas(api, 'refused-once', { vcpu: 100 });

        const retry = await allocate(api, body, { 'idempotency-key': 'too-big' });

        expectProblem(retry, 409, 'QuotaExceeded');
        expect(retry.body).toEqual(refusal);
        expect(retry.headers.get('idempotent-replayed')).toBe('true');
        await expect(api.get('/v1/allocations?tenant=refused-once&status=all')).resolves.toMatchObject({ body: [] });
        await expect(allocate(api, body, { 'idempotency-key': 'fresh-key' })).resolves.toMatchObject({ status: 201 });
      });

      it.each([
        ['empty', ''],
        ['longer than 255 characters', 'k'.repeat(256)],
      ])('refuses a key that is %s with 400', async (_case, key) => {
        await createTenant(api, `bad-key-${key.length}`);

        expectProblem(await allocate(api, { tenant: `bad-key-${key.length}`, resources: { vcpu: 1 } }, { 'idempotency-key': key }), 400, 'ValidationFailed');
      });
    });

    describe('frozen tenant', () => {
      it('refuses new allocations with 409 TenantFrozen until the tenant is unfrozen', async () => {
        await tenant('frozen-council', { vcpu: 100 });
        await expectStatus(api.patch('/v1/tenants/frozen-council', { state: 'frozen' }), 200);

        const problem = expectProblem(await allocate(api, { tenant: 'frozen-council', resources: { vcpu: 1 } }), 409, 'TenantFrozen');

        expect(problem.tenant).toBe('frozen-council');
        await expect(api.get('/v1/allocations?tenant=frozen-council&status=all')).resolves.toMatchObject({ body: [] });
        await expectStatus(api.patch('/v1/tenants/frozen-council', { state: 'active' }), 200);
        await expect(allocate(api, { tenant: 'frozen-council', resources: { vcpu: 1 } })).resolves.toMatchObject({ status: 201 });
      });

      it('still lets a frozen tenant release what it holds', async () => {
        await tenant('frozen-holder', { vcpu: 100 });
        const allocation = expectJson(await allocate(api, { tenant: 'frozen-holder', resources: { vcpu: 3 } }), 201);
        await expectStatus(api.patch('/v1/tenants/frozen-holder', { state: 'frozen' }), 200);

        await expect(api.delete(`/v1/allocations/${allocation.id}`)).resolves.toMatchObject({ status: 200, body: { status: 'released' } });
        await expect(api.get('/v1/tenants/frozen-holder/quotas')).resolves.toMatchObject({ body: { quotas: { vcpu: { allocated: 0 } } } });
      });
    });

    describe('POST validation', () => {
      it.each([
        ['no tenant', { resources: { vcpu: 1 } }],
        ['resources that are not an object', { tenant: 'torfaen', resources: [1] }],
        ['no resources', { tenant: 'torfaen' }],
        ['empty resources', { tenant: 'torfaen', resources: {} }],
        ['an unknown class', { tenant: 'torfaen', resources: { gpu: 1 } }],
        ['a negative amount', { tenant: 'torfaen', resources: { vcpu: -1 } }],
        ['an unknown strategy', { tenant: 'torfaen', resources: { vcpu: 1 }, strategy: 'random' }],
        ['an unknown property', { tenant: 'torfaen', resources: { vcpu: 1 }, priority: 'high' }],
        ['a bad host name', { tenant: 'torfaen', resources: { vcpu: 1 }, host: 'Not A Host' }],
      ])('refuses %s with 400 ValidationFailed', async (_case, body) => {
        const before = expectJson(await api.get('/v1/allocations?tenant=torfaen&status=all'), 200);

        expectProblem(await allocate(api, body), 400, 'ValidationFailed');

        await expect(api.get('/v1/allocations?tenant=torfaen&status=all')).resolves.toMatchObject({ body: before });
      });

      it('answers 404 NotFound for an unknown tenant and for an unknown host', async () => {
        await tenant('lost-host-user');

        expect(expectProblem(await allocate(api, { tenant: 'nobody-here', resources: { vcpu: 1 } }), 404, 'NotFound').detail).toBe(
          'tenant nobody-here does not exist',
        );
        expect(expectProblem(await allocate(api, { tenant: 'lost-host-user', host: 'no-such-host', resources: { vcpu: 1 } }), 404, 'NotFound').detail).toBe(
          'host no-such-host does not exist',
        );
      });
    });
  });

  describe('release and listing', () => {
    let control: RunningControl;
    let api: ApiClient;
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      control = await startControl();
      api = control.api;
      await createHost(api, 'host-a', { vcpu: { total: 100, allocationRatio: 1 }, memory: { total: '256GiB' } });
      await createHost(api, 'host-b', { vcpu: { total: 100, allocationRatio: 1 }, memory: { total: '256GiB' } });
      for (const slug of ['torfaen', 'newport']) {
        await createTenant(api, slug);
        await setQuotas(api, slug, { vcpu: 100, memory: '100GiB' });
      }
      ids.torfaenA = (await expectStatus(allocate(api, { tenant: 'torfaen', host: 'host-a', resources: { vcpu: 1 } }), 201)).id;
      ids.torfaenB = (await expectStatus(allocate(api, { tenant: 'torfaen', host: 'host-b', resources: { vcpu: 2 } }), 201)).id;
      ids.newportA = (await expectStatus(allocate(api, { tenant: 'newport', host: 'host-a', resources: { vcpu: 3 } }), 201)).id;
      ids.newportB = (await expectStatus(allocate(api, { tenant: 'newport', host: 'host-b', resources: { vcpu: 4 } }), 201)).id;
      ids.released = (await expectStatus(allocate(api, { tenant: 'newport', host: 'host-b', resources: { vcpu: 5 } }), 201)).id;
      await expectStatus(api.delete(`/v1/allocations/${ids.released}`), 200);
    });

    afterAll(async () => {
      await control?.close();
    });

    const idsOf = (allocations: { id: string }[]) => allocations.map((allocation) => allocation.id).sort();

    describe('DELETE /v1/allocations/:id', () => {
      it('releases an allocation and gives its capacity and quota back; releasing again answers 200 released', async () => {
        const allocation = expectJson(await allocate(api, { tenant: 'torfaen', host: 'host-a', resources: { vcpu: 10, memory: '32GiB' } }), 201);
        await expect(api.get('/v1/hosts/host-a')).resolves.toMatchObject({
          body: { inventories: { vcpu: { allocated: 14 }, memory: { allocated: 32 * GIB } } },
        });

        const released = expectJson(await api.delete(`/v1/allocations/${allocation.id}`), 200);

        expect(released).toEqual({ ...allocation, status: 'released', releasedAt: expect.stringMatching(ISO_INSTANT) });
        await expect(api.get(`/v1/allocations/${allocation.id}`)).resolves.toMatchObject({ status: 200, body: released });
        await expect(api.get('/v1/hosts/host-a')).resolves.toMatchObject({
          body: { inventories: { vcpu: { allocated: 4, free: 96 }, memory: { allocated: 0 } } },
        });
        await expect(api.get('/v1/tenants/torfaen/quotas')).resolves.toMatchObject({
          body: { quotas: { vcpu: { allocated: 3, available: 97 }, memory: { allocated: 0, available: 100 * GIB } } },
        });

        const again = expectJson(await api.delete(`/v1/allocations/${allocation.id}`), 200);
        expect(again).toEqual(released);
        await expect(api.get('/v1/tenants/torfaen/quotas')).resolves.toMatchObject({ body: { quotas: { vcpu: { allocated: 3 } } } });
        await expect(api.get('/v1/hosts/host-a')).resolves.toMatchObject({ body: { inventories: { vcpu: { allocated: 4 } } } });
      });

      it('answers 404 NotFound for an unknown id and 400 for an id that is not a UUID', async () => {
        expectProblem(await api.delete('/v1/allocations/00000000-0000-4000-8000-000000000000'), 404, 'NotFound');
        expectProblem(await api.delete('/v1/allocations/not-a-uuid'), 400, 'ValidationFailed');
      });
    });

    describe('GET /v1/allocations', () => {
      it('lists active allocations by default', async () => {
        const allocations = expectJson(await api.get('/v1/allocations'), 200);

        expect(idsOf(allocations)).toEqual([ids.torfaenA, ids.torfaenB, ids.newportA, ids.newportB].sort());
        expect(allocations.every((allocation: { status: string }) => allocation.status === 'active')).toBe(true);
      });

      it.each([
        ['?tenant=torfaen', ['torfaenA', 'torfaenB']],
        ['?tenant=newport', ['newportA', 'newportB']],
        ['?host=host-a', ['torfaenA', 'newportA']],
        ['?tenant=newport&host=host-b', ['newportB']],
        ['?status=released&tenant=newport', ['released']],
        ['?status=all&tenant=newport', ['newportA', 'newportB', 'released']],
        ['?tenant=nobody-here', []],
        ['?host=no-such-host', []],
      ])('filters by %s', async (query, expected) => {
        const allocations = expectJson(await api.get(`/v1/allocations${query}`), 200);

        expect(idsOf(allocations)).toEqual(expected.map((key) => ids[key]).sort());
      });

      it('pages with limit and offset, in a stable order', async () => {
        const all = expectJson(await api.get('/v1/allocations?status=all&tenant=newport'), 200).map((allocation: { id: string }) => allocation.id);

        const first = expectJson(await api.get('/v1/allocations?status=all&tenant=newport&limit=2'), 200);
        const rest = expectJson(await api.get('/v1/allocations?status=all&tenant=newport&limit=2&offset=2'), 200);
        const beyond = expectJson(await api.get('/v1/allocations?status=all&tenant=newport&offset=3'), 200);

        expect(all).toHaveLength(3);
        expect(first.map((allocation: { id: string }) => allocation.id)).toEqual(all.slice(0, 2));
        expect(rest.map((allocation: { id: string }) => allocation.id)).toEqual(all.slice(2));
        expect(beyond).toEqual([]);
      });

      it.each(['?limit=0', '?limit=1001', '?limit=ten', '?offset=-1', '?status=gone', '?tenant=Bad_Slug'])('refuses %s with 400', async (query) => {
        expectProblem(await api.get(`/v1/allocations${query}`), 400, 'ValidationFailed');
      });
    });

    describe('GET /v1/allocations/:id', () => {
      it('shows one allocation', async () => {
        await expect(api.get(`/v1/allocations/${ids.newportB}`)).resolves.toMatchObject({
          status: 200,
          body: { id: ids.newportB, tenant: 'newport', host: 'host-b', site: 'hall-a', resources: { vcpu: 4 }, status: 'active', releasedAt: null },
        });
      });

      it('answers 404 NotFound for an unknown id', async () => {
        const problem = expectProblem(await api.get('/v1/allocations/00000000-0000-4000-8000-000000000000'), 404, 'NotFound');

        expect(problem.detail).toBe('allocation 00000000-0000-4000-8000-000000000000 does not exist');
      });

      it('answers 400 ValidationFailed for an id that is not a UUID', async () => {
        expectProblem(await api.get('/v1/allocations/not-a-uuid'), 400, 'ValidationFailed');
      });
    });
  });
});
