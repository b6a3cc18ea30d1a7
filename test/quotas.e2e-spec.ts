import { createHost, createTenant, expectStatus, setQuotas } from './support/facility';
import { RunningControl, startControl } from './support/control';
import { expectJson, expectProblem } from './support/problems';

const GIB = 2 ** 30;
const TIB = 2 ** 40;

describe('quotas API', () => {
  let control: RunningControl;

  beforeAll(async () => {
    control = await startControl();
    await createHost(control.api, 'blv-c01', {
      vcpu: { total: 1000, allocationRatio: 1 },
      memory: { total: '4TiB' },
      storage: { total: '100TiB' },
    });
  });

  afterAll(async () => {
    await control?.close();
  });

  const quotasOf = async (slug: string) => expectJson(await control.api.get(`/v1/tenants/${slug}/quotas`), 200);
  const allocate = (slug: string, resources: Record<string, unknown>) => control.api.post('/v1/allocations', { tenant: slug, resources });

  describe('PUT /v1/tenants/:slug/quotas', () => {
    it('sets limits in base units, bytes from IEC suffixes, and shows each position', async () => {
      await createTenant(control.api, 'torfaen');

      const response = await control.api.put('/v1/tenants/torfaen/quotas', { vcpu: 64, memory: '256GiB', storage: '20TiB' });

      const expected = {
        tenant: 'torfaen',
        quotas: {
          memory: {
            unit: 'bytes',
            limit: 274_877_906_944,
            granted: 0,
            effectiveLimit: 274_877_906_944,
            allocated: 0,
            used: null,
            available: 274_877_906_944,
            state: 'ok',
            since: expect.any(String),
          },
          storage: {
            unit: 'bytes',
            limit: 20 * TIB,
            granted: 0,
            effectiveLimit: 20 * TIB,
            allocated: 0,
            used: null,
            available: 20 * TIB,
            state: 'ok',
            since: expect.any(String),
          },
          vcpu: { unit: 'count', limit: 64, granted: 0, effectiveLimit: 64, allocated: 0, used: null, available: 64, state: 'ok', since: expect.any(String) },
        },
      };
      expect(expectJson(response, 200)).toEqual(expected);
      await expect(quotasOf('torfaen')).resolves.toEqual(expected);
    });

    it('accepts SI suffixes, decimal fractions that make whole bytes, and plain byte counts', async () => {
      await createTenant(control.api, 'si-units');

      await setQuotas(control.api, 'si-units', { memory: '1.5GiB', storage: '2TB', vcpu: '8' });

      const { quotas } = await quotasOf('si-units');
      expect(quotas.memory.limit).toBe(1_610_612_736);
      expect(quotas.storage.limit).toBe(2_000_000_000_000);
      expect(quotas.vcpu.limit).toBe(8);
    });

    it('accepts the largest exact amount, 2^53 − 1', async () => {
      await createTenant(control.api, 'largest');

      await setQuotas(control.api, 'largest', { storage: Number.MAX_SAFE_INTEGER });

      await expect(quotasOf('largest')).resolves.toMatchObject({ quotas: { storage: { limit: Number.MAX_SAFE_INTEGER, available: Number.MAX_SAFE_INTEGER } } });
    });

    it('shows allocated and available once allocations are made', async () => {
      await createTenant(control.api, 'monmouthshire');
      await setQuotas(control.api, 'monmouthshire', { vcpu: 64, memory: '256GiB' });
      await expectStatus(allocate('monmouthshire', { vcpu: 16, memory: '64GiB' }), 201);
      await expectStatus(allocate('monmouthshire', { vcpu: 8 }), 201);

      await expect(quotasOf('monmouthshire')).resolves.toEqual({
        tenant: 'monmouthshire',
        quotas: {
          memory: {
            unit: 'bytes',
            limit: 256 * GIB,
            granted: 0,
            effectiveLimit: 256 * GIB,
            allocated: 64 * GIB,
            used: null,
            available: 192 * GIB,
            state: 'ok',
            since: expect.any(String),
          },
          vcpu: { unit: 'count', limit: 64, granted: 0, effectiveLimit: 64, allocated: 24, used: null, available: 40, state: 'ok', since: expect.any(String) },
        },
      });
    });

    it('reports warning from 90 % of the limit, ok just below it', async () => {
      await createTenant(control.api, 'nearly-full');
      await setQuotas(control.api, 'nearly-full', { vcpu: 10 });
      await expectStatus(allocate('nearly-full', { vcpu: 8 }), 201);
      await expect(quotasOf('nearly-full')).resolves.toMatchObject({ quotas: { vcpu: { allocated: 8, available: 2, state: 'ok' } } });

      await expectStatus(allocate('nearly-full', { vcpu: 1 }), 201);

      await expect(quotasOf('nearly-full')).resolves.toMatchObject({ quotas: { vcpu: { allocated: 9, available: 1, state: 'warning' } } });
    });

    it('reports over, with nothing available, after a quota is lowered below what is allocated; further allocations are refused', async () => {
      await createTenant(control.api, 'cut-back');
      await setQuotas(control.api, 'cut-back', { vcpu: 10 });
      await expectStatus(allocate('cut-back', { vcpu: 8 }), 201);

      const lowered = expectJson(await control.api.put('/v1/tenants/cut-back/quotas', { vcpu: 4 }), 200);

      expect(lowered.quotas.vcpu).toEqual({
        unit: 'count',
        limit: 4,
        granted: 0,
        effectiveLimit: 4,
        allocated: 8,
        used: null,
        available: 0,
        state: 'over',
        since: null,
      });
      await expect(quotasOf('cut-back')).resolves.toEqual(lowered);
      const refusal = expectProblem(await allocate('cut-back', { vcpu: 1 }), 409, 'QuotaExceeded');
      expect(refusal).toMatchObject({ resource: 'vcpu', requested: 1, limit: 4, allocated: 8 });
    });

    it('replaces the whole set: a class left out loses its quota when nothing of it is allocated', async () => {
      await createTenant(control.api, 'replace-all');
      await setQuotas(control.api, 'replace-all', { vcpu: 8, memory: '16GiB', storage: '1TiB' });

      await setQuotas(control.api, 'replace-all', { vcpu: 16 });

      const { quotas } = await quotasOf('replace-all');
      expect(Object.keys(quotas)).toEqual(['vcpu']);
      expect(quotas.vcpu.limit).toBe(16);
    });

    it('refuses with 409 to remove a class the tenant holds allocations of, and changes nothing', async () => {
      await createTenant(control.api, 'holding');
      await setQuotas(control.api, 'holding', { vcpu: 8, memory: '16GiB' });
      await expectStatus(allocate('holding', { vcpu: 2, memory: '4GiB' }), 201);
      const before = await quotasOf('holding');

      const problem = expectProblem(await control.api.put('/v1/tenants/holding/quotas', { vcpu: 32 }), 409, 'Conflict');

      expect(problem.resources).toEqual(['memory']);
      await expect(quotasOf('holding')).resolves.toEqual(before);
    });

    it('allows a held class to be set to 0, which stops further allocations of it', async () => {
      await createTenant(control.api, 'zeroed');
      await setQuotas(control.api, 'zeroed', { vcpu: 8 });
      await expectStatus(allocate('zeroed', { vcpu: 2 }), 201);

      await setQuotas(control.api, 'zeroed', { vcpu: 0 });

      await expect(quotasOf('zeroed')).resolves.toMatchObject({ quotas: { vcpu: { limit: 0, allocated: 2, available: 0, state: 'over' } } });
      expectProblem(await allocate('zeroed', { vcpu: 1 }), 409, 'QuotaExceeded');
    });

    it('clears every quota with an empty body when nothing is allocated', async () => {
      await createTenant(control.api, 'cleared');
      await setQuotas(control.api, 'cleared', { vcpu: 8 });

      await expect(control.api.put('/v1/tenants/cleared/quotas', {})).resolves.toMatchObject({ status: 200, body: { tenant: 'cleared', quotas: {} } });
    });

    describe('refusals', () => {
      beforeAll(async () => {
        await createTenant(control.api, 'validation-target');
      });

      it.each([
        ['an unknown class', { gpu: 4 }, 'quotas.gpu: unknown resource class'],
        ['a negative count', { vcpu: -1 }, 'quotas.vcpu: must not be negative'],
        ['a negative byte string', { memory: '-1GiB' }, 'quotas.memory: must not be negative'],
        ['a fraction of a count', { vcpu: 1.5 }, 'quotas.vcpu: must be a whole number'],
        ['a fraction of a byte as a number', { memory: 1.5 }, 'quotas.memory: must be a whole number of bytes'],
        ['a fraction of a byte as a string', { memory: '1.5B' }, 'quotas.memory: must be a whole number of bytes'],
        ['a suffixed amount that is not whole bytes', { memory: '0.3KiB' }, 'quotas.memory: must be a whole number of bytes'],
        ['exponent notation for bytes', { memory: '1e3' }, 'quotas.memory: must be a whole number of bytes, optionally with a unit such as "512GiB" or "2TB"'],
        ['exponent notation for a count', { vcpu: '1e3' }, 'quotas.vcpu: must be a whole number written in plain digits'],
        ['"NaN"', { vcpu: 'NaN' }, 'quotas.vcpu: must be a whole number written in plain digits'],
        ['"Infinity"', { storage: 'Infinity' }, 'quotas.storage: must be a whole number of bytes, optionally with a unit such as "512GiB" or "2TB"'],
        ['an unknown suffix', { memory: '4GB2' }, 'quotas.memory: must be a whole number of bytes, optionally with a unit such as "512GiB" or "2TB"'],
        ['a unit suffix on a count', { vcpu: '8GiB' }, 'quotas.vcpu: must be a plain count, without a unit suffix'],
        ['2^53', { vcpu: 2 ** 53 }, 'quotas.vcpu: exceeds the largest supported amount (2^53-1)'],
        ['a huge number', { storage: 1e300 }, 'quotas.storage: exceeds the largest supported amount (2^53-1)'],
        ['bytes beyond 2^53 written with a suffix', { storage: '8EiB' }, 'quotas.storage: exceeds the largest supported amount (2^53-1)'],
        ['a boolean', { vcpu: true }, 'quotas.vcpu: must be a whole number'],
        ['null', { memory: null }, 'quotas.memory: must be a number of bytes or a string such as "512GiB"'],
        ['an empty string', { memory: '' }, 'quotas.memory: must not be empty'],
      ])('refuses %s with 400 ValidationFailed and changes nothing', async (_case, body, error) => {
        await setQuotas(control.api, 'validation-target', { vcpu: 8 });

        const problem = expectProblem(await control.api.put('/v1/tenants/validation-target/quotas', { vcpu: 16, ...body }), 400, 'ValidationFailed');

        expect(problem.errors).toEqual([error]);
        await expect(quotasOf('validation-target')).resolves.toMatchObject({ quotas: { vcpu: { limit: 8 } } });
      });

      it.each([
        ['an array', [64]],
        ['a string', 'vcpu=64'],
        ['a number', 64],
      ])('refuses a body that is %s', async (_case, body) => {
        const problem = expectProblem(await control.api.put('/v1/tenants/validation-target/quotas', body), 400, 'ValidationFailed');

        expect(problem.detail).toBe('quotas must be an object mapping resource classes to amounts');
      });
    });

    it('lists every bad class in one answer', async () => {
      await createTenant(control.api, 'many-errors');

      const problem = expectProblem(await control.api.put('/v1/tenants/many-errors/quotas', { vcpu: -1, memory: '1.5B', gpu: 1 }), 400, 'ValidationFailed');

      expect(problem.errors).toHaveLength(3);
      await expect(quotasOf('many-errors')).resolves.toEqual({ tenant: 'many-errors', quotas: {} });
    });

    it('answers 404 NotFound for an unknown tenant', async () => {
      const problem = expectProblem(await control.api.put('/v1/tenants/nobody-here/quotas', { vcpu: 1 }), 404, 'NotFound');

      expect(problem.detail).toBe('tenant nobody-here does not exist');
    });
  });

  describe('GET /v1/tenants/:slug/quotas', () => {
    it('shows no quotas for a new tenant', async () => {
      await createTenant(control.api, 'brand-new');

      await expect(quotasOf('brand-new')).resolves.toEqual({ tenant: 'brand-new', quotas: {} });
    });

    it('answers 404 NotFound for an unknown tenant', async () => {
      expectProblem(await control.api.get('/v1/tenants/nobody-here/quotas'), 404, 'NotFound');
    });
  });

  describe('deny by default', () => {
    it('refuses to allocate a class without a quota: QuotaExceeded with limit 0', async () => {
      await createTenant(control.api, 'vcpu-only');
      await setQuotas(control.api, 'vcpu-only', { vcpu: 64 });

      const problem = expectProblem(await allocate('vcpu-only', { vcpu: 2, memory: '8GiB' }), 409, 'QuotaExceeded');

      expect(problem).toMatchObject({ tenant: 'vcpu-only', resource: 'memory', requested: 8 * GIB, limit: 0, allocated: 0 });
      expect(problem.detail).toContain('no quota for memory');
      await expect(control.api.get('/v1/allocations?tenant=vcpu-only&status=all')).resolves.toMatchObject({ status: 200, body: [] });
      await expect(quotasOf('vcpu-only')).resolves.toMatchObject({ quotas: { vcpu: { allocated: 0 } } });
    });

    it('refuses a tenant with no quotas at all, even for a single vCPU', async () => {
      await createTenant(control.api, 'no-quotas');

      const problem = expectProblem(await allocate('no-quotas', { vcpu: 1 }), 409, 'QuotaExceeded');

      expect(problem).toMatchObject({ resource: 'vcpu', requested: 1, limit: 0, allocated: 0 });
    });

    it('refuses an allocation of nothing (a zero amount) as invalid, whatever the quotas', async () => {
      const problem = expectProblem(await allocate('no-quotas', { vcpu: 0 }), 400, 'ValidationFailed');

      expect(problem.errors).toEqual(['resources.vcpu: must be more than 0']);
    });
  });
});
