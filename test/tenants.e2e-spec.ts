import { createHost, createTenant, expectStatus, setQuotas } from './support/facility';
import { RunningControl, startControl } from './support/control';
import { expectJson, expectProblem } from './support/problems';

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('tenants API', () => {
  let control: RunningControl;

  beforeAll(async () => {
    control = await startControl();
    // One roomy OFFICIAL host for the tests that need an active allocation.
    await createHost(control.api, 'blv-c01', { vcpu: { total: 1000, allocationRatio: 1 } });
  });

  afterAll(async () => {
    await control?.close();
  });

  async function allocate(slug: string, vcpu = 2) {
    return expectStatus(control.api.post('/v1/allocations', { tenant: slug, resources: { vcpu } }), 201);
  }

  async function tenantWithAllocation(slug: string, extra: Record<string, unknown> = {}) {
    await createTenant(control.api, slug, extra);
    await setQuotas(control.api, slug, { vcpu: 100 });
    return allocate(slug);
  }

  describe('POST /v1/tenants', () => {
    it('onboards a tenant with isolation shared and classification OFFICIAL by default', async () => {
      const response = await control.api.post('/v1/tenants', { slug: 'torfaen', name: 'Torfaen County Borough Council' });

      const created = expectJson(response, 201);
      expect(created).toEqual({
        slug: 'torfaen',
        name: 'Torfaen County Borough Council',
        contact: '',
        isolation: 'shared',
        classification: 'OFFICIAL',
        state: 'active',
        createdAt: expect.stringMatching(ISO_INSTANT),
        updatedAt: created.createdAt,
        offboardedAt: null,
      });
      await expect(control.api.get('/v1/tenants/torfaen')).resolves.toMatchObject({ status: 200, body: created });
    });

    it('keeps the contact, isolation and classification it is given', async () => {
      const body = {
        slug: 'gwent-police',
        name: 'Gwent Police',
        contact: 'ict@gwent.police.uk',
        isolation: 'dedicated',
        classification: 'OFFICIAL-SENSITIVE',
      };

      expect(expectJson(await control.api.post('/v1/tenants', body), 201)).toMatchObject({ ...body, state: 'active' });
      await expect(control.api.get('/v1/tenants/gwent-police')).resolves.toMatchObject({ status: 200, body });
    });

    it('refuses a duplicate slug with 409 Conflict and leaves the first tenant as it was', async () => {
      await createTenant(control.api, 'blaenau-gwent', { name: 'Blaenau Gwent CBC' });

      const problem = expectProblem(await control.api.post('/v1/tenants', { slug: 'blaenau-gwent', name: 'Impostor' }), 409, 'Conflict');

      expect(problem.detail).toContain('blaenau-gwent');
      await expect(control.api.get('/v1/tenants/blaenau-gwent')).resolves.toMatchObject({ status: 200, body: { name: 'Blaenau Gwent CBC' } });
    });

    it.each([
      ['a single character', 'a'],
      ['upper case', 'Torfaen'],
      ['a leading hyphen', '-torfaen'],
      ['a space', 'tor faen'],
      ['an underscore', 'tor_faen'],
      ['64 characters', 'a'.repeat(64)],
      ['an empty string', ''],
    ])('refuses a slug with %s with 400 ValidationFailed', async (_case, slug) => {
      const problem = expectProblem(await control.api.post('/v1/tenants', { slug, name: 'Bad slug' }), 400, 'ValidationFailed');

      expect(problem.errors).toEqual([expect.stringMatching(/^slug must be 2–63 characters/)]);
      const tenants = expectJson(await control.api.get('/v1/tenants'), 200);
      expect(tenants.map((tenant: { name: string }) => tenant.name)).not.toContain('Bad slug');
    });

    it('accepts a slug of exactly 63 characters', async () => {
      const slug = `m${'0'.repeat(62)}`;

      await expect(control.api.post('/v1/tenants', { slug, name: 'Longest slug' })).resolves.toMatchObject({ status: 201, body: { slug } });
    });

    it('refuses an unknown property with 400 ValidationFailed', async () => {
      const problem = expectProblem(
        await control.api.post('/v1/tenants', { slug: 'caerphilly', name: 'Caerphilly', region: 'south-east' }),
        400,
        'ValidationFailed',
      );

      expect(problem.errors).toEqual(['property region should not exist']);
      expectProblem(await control.api.get('/v1/tenants/caerphilly'), 404, 'NotFound');
    });

    it('refuses a missing name with 400 ValidationFailed', async () => {
      const problem = expectProblem(await control.api.post('/v1/tenants', { slug: 'newport' }), 400, 'ValidationFailed');

      expect(problem.errors).toContain('name must be a string');
      expectProblem(await control.api.get('/v1/tenants/newport'), 404, 'NotFound');
    });

    it('refuses an empty name', async () => {
      const problem = expectProblem(await control.api.post('/v1/tenants', { slug: 'newport', name: '' }), 400, 'ValidationFailed');

      expect(problem.errors).toEqual(['name must be longer than or equal to 1 characters']);
    });

    it('lists every field of the wrong type in one 400 answer', async () => {
      const response = await control.api.post('/v1/tenants', {
        slug: 42,
        name: ['Monmouthshire'],
        contact: 7,
        isolation: 'private',
        classification: 'TOP-SECRET',
      });

      const problem = expectProblem(response, 400, 'ValidationFailed');
      for (const field of ['slug', 'name', 'contact', 'isolation', 'classification']) {
        expect(problem.errors).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^${field} `))]));
      }
      expect(problem.errors).toContain('isolation must be one of the following values: shared, dedicated');
      expect(problem.errors).toContain('classification must be one of the following values: OFFICIAL, OFFICIAL-SENSITIVE, SECRET');
    });

    it('refuses a body that is not an object', async () => {
      expectProblem(await control.api.post('/v1/tenants', ['torfaen']), 400, 'ValidationFailed');
    });
  });

  describe('GET /v1/tenants', () => {
    let listing: RunningControl;

    beforeAll(async () => {
      listing = await startControl();
      await createTenant(listing.api, 'torfaen');
      await createTenant(listing.api, 'caerphilly');
      await createTenant(listing.api, 'newport');
      await createTenant(listing.api, 'monmouthshire');
      await expectStatus(listing.api.patch('/v1/tenants/newport', { state: 'frozen' }), 200);
      await expectStatus(listing.api.delete('/v1/tenants/monmouthshire'), 200);
    });

    afterAll(async () => {
      await listing?.close();
    });

    const slugsOf = (tenants: { slug: string }[]) => tenants.map((tenant) => tenant.slug);

    it('lists every tenant, in slug order, offboarded ones included', async () => {
      const tenants = expectJson(await listing.api.get('/v1/tenants'), 200);

      expect(slugsOf(tenants)).toEqual(['caerphilly', 'monmouthshire', 'newport', 'torfaen']);
      expect(tenants.map((tenant: { state: string }) => tenant.state)).toEqual(['active', 'offboarded', 'frozen', 'active']);
    });

    it.each([
      ['active', ['caerphilly', 'torfaen']],
      ['frozen', ['newport']],
      ['offboarded', ['monmouthshire']],
    ])('filters by ?state=%s', async (state, expected) => {
      const tenants = expectJson(await listing.api.get(`/v1/tenants?state=${state}`), 200);

      expect(slugsOf(tenants)).toEqual(expected);
    });

    it('refuses an unknown state with 400 ValidationFailed', async () => {
      const problem = expectProblem(await listing.api.get('/v1/tenants?state=deleted'), 400, 'ValidationFailed');

      expect(problem.errors).toEqual(['state must be one of the following values: active, frozen, offboarded']);
    });
  });

  describe('GET /v1/tenants/:slug', () => {
    it('answers 404 NotFound for a tenant that does not exist', async () => {
      const problem = expectProblem(await control.api.get('/v1/tenants/nobody-here'), 404, 'NotFound');

      expect(problem.detail).toBe('tenant nobody-here does not exist');
      expect(problem.instance).toBe('/v1/tenants/nobody-here');
    });
  });

  describe('PATCH /v1/tenants/:slug', () => {
    it('renames a tenant and keeps its slug', async () => {
      const created = await createTenant(control.api, 'rename-me', { name: 'Old name' });

      const updated = expectJson(await control.api.patch('/v1/tenants/rename-me', { name: 'New name', contact: 'desk@example.gov.uk' }), 200);

      expect(updated).toMatchObject({ slug: 'rename-me', name: 'New name', contact: 'desk@example.gov.uk', createdAt: created.createdAt });
      expect(Date.parse(updated.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.updatedAt));
      await expect(control.api.get('/v1/tenants/rename-me')).resolves.toMatchObject({ status: 200, body: { name: 'New name' } });
    });

    it('freezes and unfreezes a tenant', async () => {
      await createTenant(control.api, 'freeze-me');

      await expect(control.api.patch('/v1/tenants/freeze-me', { state: 'frozen' })).resolves.toMatchObject({ status: 200, body: { state: 'frozen' } });
      await expect(control.api.get('/v1/tenants/freeze-me')).resolves.toMatchObject({ body: { state: 'frozen' } });
      await expect(control.api.patch('/v1/tenants/freeze-me', { state: 'active' })).resolves.toMatchObject({ status: 200, body: { state: 'active' } });
      await expect(control.api.get('/v1/tenants/freeze-me')).resolves.toMatchObject({ body: { state: 'active' } });
    });

    it('does not offboard through PATCH: state offboarded is refused with 400', async () => {
      await createTenant(control.api, 'patch-offboard');

      const problem = expectProblem(await control.api.patch('/v1/tenants/patch-offboard', { state: 'offboarded' }), 400, 'ValidationFailed');

      expect(problem.errors).toEqual(['state must be one of the following values: active, frozen']);
      await expect(control.api.get('/v1/tenants/patch-offboard')).resolves.toMatchObject({ body: { state: 'active', offboardedAt: null } });
    });

    it('refuses to change the slug: 400, slug is an unknown property', async () => {
      await createTenant(control.api, 'fixed-slug');

      const problem = expectProblem(await control.api.patch('/v1/tenants/fixed-slug', { slug: 'other-slug' }), 400, 'ValidationFailed');

      expect(problem.errors).toEqual(['property slug should not exist']);
      await expect(control.api.get('/v1/tenants/fixed-slug')).resolves.toMatchObject({ status: 200 });
      expectProblem(await control.api.get('/v1/tenants/other-slug'), 404, 'NotFound');
    });

    it('changes the classification of a tenant without active allocations', async () => {
      await createTenant(control.api, 'reclassify');

      await expect(control.api.patch('/v1/tenants/reclassify', { classification: 'SECRET' })).resolves.toMatchObject({
        status: 200,
        body: { classification: 'SECRET' },
      });
      await expect(control.api.get('/v1/tenants/reclassify')).resolves.toMatchObject({ body: { classification: 'SECRET' } });
    });

    it('refuses a classification change with 409 while allocations are active, and allows it once they are released', async () => {
      const allocation = await tenantWithAllocation('busy-classify');

      const problem = expectProblem(await control.api.patch('/v1/tenants/busy-classify', { classification: 'OFFICIAL-SENSITIVE' }), 409, 'Conflict');

      expect(problem.detail).toContain('active allocations');
      await expect(control.api.get('/v1/tenants/busy-classify')).resolves.toMatchObject({ body: { classification: 'OFFICIAL' } });
      await expectStatus(control.api.delete(`/v1/allocations/${allocation.id}`), 200);
      await expect(control.api.patch('/v1/tenants/busy-classify', { classification: 'OFFICIAL-SENSITIVE' })).resolves.toMatchObject({
        status: 200,
        body: { classification: 'OFFICIAL-SENSITIVE' },
      });
    });

    it('refuses an isolation change with 409 while allocations are active', async () => {
      await tenantWithAllocation('busy-isolate');

      expectProblem(await control.api.patch('/v1/tenants/busy-isolate', { isolation: 'dedicated' }), 409, 'Conflict');

      await expect(control.api.get('/v1/tenants/busy-isolate')).resolves.toMatchObject({ body: { isolation: 'shared' } });
    });

    it('accepts a rename while allocations are active (only placement-relevant fields are locked)', async () => {
      await tenantWithAllocation('busy-rename');

      await expect(control.api.patch('/v1/tenants/busy-rename', { name: 'Renamed', classification: 'OFFICIAL' })).resolves.toMatchObject({
        status: 200,
        body: { name: 'Renamed', classification: 'OFFICIAL' },
      });
    });

    it('answers 404 NotFound for a tenant that does not exist', async () => {
      expectProblem(await control.api.patch('/v1/tenants/nobody-here', { name: 'x' }), 404, 'NotFound');
    });

    it('refuses unknown values with 400', async () => {
      await createTenant(control.api, 'bad-patch');

      const problem = expectProblem(await control.api.patch('/v1/tenants/bad-patch', { isolation: 'private', state: 'paused' }), 400, 'ValidationFailed');

      expect(problem.errors).toHaveLength(2);
    });

    it.each(['name', 'contact', 'isolation', 'classification', 'state'])('refuses %s: null with 400 ValidationFailed (not a 500)', async (field) => {
      const slug = `null-${field}`;
      await createTenant(control.api, slug);

      expectProblem(await control.api.patch(`/v1/tenants/${slug}`, { [field]: null }), 400, 'ValidationFailed');

      await expect(control.api.get(`/v1/tenants/${slug}`)).resolves.toMatchObject({ status: 200, body: { name: `Tenant ${slug}`, state: 'active' } });
    });
  });

  describe('DELETE /v1/tenants/:slug', () => {
    it('offboards a tenant: state offboarded, offboardedAt set, the record kept', async () => {
      await createTenant(control.api, 'leaving');

      const offboarded = expectJson(await control.api.delete('/v1/tenants/leaving'), 200);

      expect(offboarded).toMatchObject({ slug: 'leaving', state: 'offboarded', offboardedAt: expect.stringMatching(ISO_INSTANT) });
      await expect(control.api.get('/v1/tenants/leaving')).resolves.toMatchObject({ status: 200, body: offboarded });
      const listed = expectJson(await control.api.get('/v1/tenants?state=offboarded'), 200);
      expect(listed.map((tenant: { slug: string }) => tenant.slug)).toContain('leaving');
    });

    it('offboarding twice answers 200 and keeps the first offboardedAt', async () => {
      await createTenant(control.api, 'leaving-twice');
      const first = expectJson(await control.api.delete('/v1/tenants/leaving-twice'), 200);

      const second = expectJson(await control.api.delete('/v1/tenants/leaving-twice'), 200);

      expect(second).toEqual(first);
    });

    it('never reuses the slug of an offboarded tenant', async () => {
      await createTenant(control.api, 'gone-for-good');
      await expectStatus(control.api.delete('/v1/tenants/gone-for-good'), 200);

      expectProblem(await control.api.post('/v1/tenants', { slug: 'gone-for-good', name: 'Reborn' }), 409, 'Conflict');
    });

    it('is refused with 409 while allocations are active, and succeeds once they are released', async () => {
      const allocation = await tenantWithAllocation('still-here');

      const problem = expectProblem(await control.api.delete('/v1/tenants/still-here'), 409, 'Conflict');

      expect(problem).toMatchObject({ activeAllocations: 1 });
      await expect(control.api.get('/v1/tenants/still-here')).resolves.toMatchObject({ body: { state: 'active', offboardedAt: null } });
      await expectStatus(control.api.delete(`/v1/allocations/${allocation.id}`), 200);
      await expect(control.api.delete('/v1/tenants/still-here')).resolves.toMatchObject({ status: 200, body: { state: 'offboarded' } });
    });

    it('refuses allocations, quota changes and edits for an offboarded tenant with 409', async () => {
      await createTenant(control.api, 'offboarded-ltd');
      await setQuotas(control.api, 'offboarded-ltd', { vcpu: 100 });
      await expectStatus(control.api.delete('/v1/tenants/offboarded-ltd'), 200);

      const allocation = expectProblem(await control.api.post('/v1/allocations', { tenant: 'offboarded-ltd', resources: { vcpu: 1 } }), 409, 'Conflict');
      expect(allocation.detail).toContain('offboarded');
      expectProblem(await control.api.put('/v1/tenants/offboarded-ltd/quotas', { vcpu: 200 }), 409, 'Conflict');
      expectProblem(await control.api.patch('/v1/tenants/offboarded-ltd', { name: 'Back again' }), 409, 'Conflict');

      await expect(control.api.get('/v1/allocations?tenant=offboarded-ltd&status=all')).resolves.toMatchObject({ status: 200, body: [] });
      await expect(control.api.get('/v1/tenants/offboarded-ltd/quotas')).resolves.toMatchObject({ body: { quotas: { vcpu: { limit: 100, allocated: 0 } } } });
    });

    it('answers 404 NotFound for a tenant that does not exist', async () => {
      expectProblem(await control.api.delete('/v1/tenants/nobody-here'), 404, 'NotFound');
    });
  });
});
