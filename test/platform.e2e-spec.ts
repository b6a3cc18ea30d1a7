import { statSync } from 'node:fs';
import { join } from 'node:path';
import { createHost, createTenant, expectStatus, setQuotas } from './support/facility';
import { RunningControl, startControl } from './support/control';
import { bootControl, ControlProcess, createDataDir, removeDataDir } from './support/restartable-control';
import { expectJson, expectProblem } from './support/problems';

const SOME_ID = '00000000-0000-4000-8000-000000000000';

/** Every /v1 route of DESIGN.md the control serves so far, with a body where the route takes one. */
const V1_ROUTES: { method: string; path: string; body?: unknown }[] = [
  { method: 'GET', path: '/v1/tenants' },
  { method: 'POST', path: '/v1/tenants', body: { slug: 'intruder', name: 'Intruder' } },
  { method: 'GET', path: '/v1/tenants/torfaen' },
  { method: 'PATCH', path: '/v1/tenants/torfaen', body: { name: 'Hijacked' } },
  { method: 'DELETE', path: '/v1/tenants/torfaen' },
  { method: 'GET', path: '/v1/tenants/torfaen/quotas' },
  { method: 'PUT', path: '/v1/tenants/torfaen/quotas', body: { vcpu: 100000 } },
  { method: 'GET', path: '/v1/hosts' },
  { method: 'POST', path: '/v1/hosts', body: { name: 'rogue-host', site: 'hall-a' } },
  { method: 'GET', path: '/v1/hosts/blv-c01' },
  { method: 'PATCH', path: '/v1/hosts/blv-c01', body: { status: 'maintenance' } },
  { method: 'DELETE', path: '/v1/hosts/blv-c01' },
  { method: 'PUT', path: '/v1/hosts/blv-c01/inventories/vcpu', body: { total: 1 } },
  { method: 'GET', path: '/v1/allocations' },
  { method: 'POST', path: '/v1/allocations', body: { tenant: 'torfaen', resources: { vcpu: 1 } } },
  { method: 'GET', path: `/v1/allocations/${SOME_ID}` },
  { method: 'DELETE', path: `/v1/allocations/${SOME_ID}` },
  { method: 'GET', path: '/v1/capacity' },
  { method: 'GET', path: '/v1/resource-classes' },
  { method: 'PUT', path: '/v1/resource-classes/custom_rogue', body: { unit: 'count' } },
];

/** Values for the path parameters of the OpenAPI document, so that every documented operation can be called. */
const PATH_PARAMETERS: Record<string, string> = { slug: 'torfaen', name: 'blv-c01', id: SOME_ID, class: 'vcpu' };

describe('platform', () => {
  let control: RunningControl;

  beforeAll(async () => {
    control = await startControl();
    await createTenant(control.api, 'torfaen');
    await setQuotas(control.api, 'torfaen', { vcpu: 64 });
    await createHost(control.api, 'blv-c01', { vcpu: { total: 8 } });
  });

  afterAll(async () => {
    await control?.close();
  });

  describe('health', () => {
    it('answers /health/live with 200 without a token', async () => {
      const live = expectJson(await control.api.get('/health/live', { token: null }), 200);

      expect(live.status).toBe('ok');
    });

    it('answers /health/ready with 200 without a token once the database answers and migrations are applied', async () => {
      const ready = expectJson(await control.api.get('/health/ready', { token: null }), 200);

      expect(ready).toMatchObject({ status: 'ok', details: { database: { status: 'up' }, migrations: { status: 'up' } } });
    });
  });

  describe('API documentation', () => {
    it('serves an OpenAPI document at /docs-json listing the /v1 paths and methods', async () => {
      const document = expectJson(await control.api.get('/docs-json', { token: null }), 200);

      expect(document.openapi).toMatch(/^3\./);
      const operations = Object.fromEntries(
        Object.entries(document.paths as Record<string, Record<string, unknown>>)
          .filter(([path]) => path.startsWith('/v1/'))
          .map(([path, methods]) => [path, Object.keys(methods).sort()]),
      );
      // Other /v1 paths may join as features land; these are the ones DESIGN.md names that exist so far.
      expect(operations).toMatchObject({
        '/v1/tenants': ['get', 'post'],
        '/v1/tenants/{slug}': ['delete', 'get', 'patch'],
        '/v1/tenants/{slug}/quotas': ['get', 'put'],
        '/v1/hosts': ['get', 'post'],
        '/v1/hosts/{name}': ['delete', 'get', 'patch'],
        '/v1/hosts/{name}/inventories/{class}': ['put'],
        '/v1/hosts/{name}/tenants/{slug}': ['delete', 'put'],
        '/v1/allocations': ['get', 'post'],
        '/v1/allocations/{id}': ['delete', 'get'],
        '/v1/capacity': ['get'],
        '/v1/resource-classes': ['get'],
        '/v1/resource-classes/{name}': ['put'],
      });
      expect(document.components.securitySchemes).toMatchObject({ bearer: { type: 'http', scheme: 'bearer' } });
    });

    it('serves the API documentation as HTML at /docs', async () => {
      const docs = await control.api.get('/docs', { token: null });

      expect(docs.status).toBe(200);
      expect(docs.headers.get('content-type')).toMatch(/^text\/html/);
      expect(docs.body).toContain('<title>Swagger UI</title>');
    });
  });

  describe('authentication', () => {
    it.each(V1_ROUTES)(
      '$method $path answers 401 Unauthenticated without a token, with an unknown token and with another scheme',
      async ({ method, path, body }) => {
        for (const options of [
          { token: null },
          { token: 'dcm_not-a-real-token' },
          { token: null, headers: { authorization: `Basic ${btoa('admin:admin')}` } },
        ]) {
          const problem = expectProblem(await control.api.request(method, path, body, options), 401, 'Unauthenticated');
          expect(problem.instance).toBe(path);
        }
      },
    );

    it('changes nothing for an unauthenticated caller', async () => {
      for (const { method, path, body } of V1_ROUTES) await control.api.request(method, path, body, { token: 'dcm_not-a-real-token' });

      await expect(control.api.get('/v1/tenants/torfaen')).resolves.toMatchObject({ status: 200, body: { name: 'Tenant torfaen', state: 'active' } });
      await expect(control.api.get('/v1/tenants/torfaen/quotas')).resolves.toMatchObject({ body: { quotas: { vcpu: { limit: 64, allocated: 0 } } } });
      await expect(control.api.get('/v1/hosts/blv-c01')).resolves.toMatchObject({ status: 200, body: { status: 'up', inventories: { vcpu: { total: 8 } } } });
      expectProblem(await control.api.get('/v1/tenants/intruder'), 404, 'NotFound');
      expectProblem(await control.api.get('/v1/hosts/rogue-host'), 404, 'NotFound');
      await expect(control.api.get('/v1/allocations?status=all')).resolves.toMatchObject({ status: 200, body: [] });
      const classes = expectJson(await control.api.get('/v1/resource-classes'), 200);
      expect(classes.map((resourceClass: { name: string }) => resourceClass.name)).not.toContain('custom_rogue');
    });

    it('answers 401 for every /v1 operation the OpenAPI document lists, including routes added later', async () => {
      const document = expectJson(await control.api.get('/docs-json', { token: null }), 200);
      const operations = Object.entries(document.paths as Record<string, Record<string, unknown>>)
        .filter(([path]) => path.startsWith('/v1/'))
        .flatMap(([path, methods]) =>
          Object.keys(methods).map((method) => ({
            method: method.toUpperCase(),
            path: path.replace(/\{(\w+)\}/g, (_, name) => PATH_PARAMETERS[name] ?? name),
          })),
        );

      // Enrolment authenticates with the join token in its body rather than a bearer token: a well-formed request
      // with a join token that does not exist must be refused just the same.
      const bodies: Record<string, unknown> = {
        '/v1/agents/enrol': {
          joinToken: 'dcm_not-a-real-join-token-at-all',
          hostname: 'rogue-host',
          facts: { hostname: 'rogue-host', os: 'x', kernel: 'x', cpuModel: 'x', logicalCores: 1, memoryTotalBytes: 1, storage: [] },
        },
      };
      const answers = [];
      for (const { method, path } of operations) {
        const body = bodies[path] ?? (['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined);
        const response = await control.api.request(method, path, body, { token: null });
        answers.push({ method, path, status: response.status, code: response.body?.code });
      }

      expect(operations.length).toBeGreaterThanOrEqual(V1_ROUTES.length);
      expect(answers).toEqual(operations.map(({ method, path }) => ({ method, path, status: 401, code: 'Unauthenticated' })));
    });

    it('tells a 401 client how to authenticate with WWW-Authenticate: Bearer (RFC 9110 §15.5.2)', async () => {
      const response = await control.api.get('/v1/tenants', { token: null });

      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate') ?? '(no WWW-Authenticate header)').toMatch(/^Bearer\b/);
    });
  });

  describe('malformed requests', () => {
    it('answers an unknown route with a 404 problem', async () => {
      const problem = expectProblem(await control.api.get('/v1/nothing-here'), 404, 'NotFound');

      expect(problem.instance).toBe('/v1/nothing-here');
    });

    it('answers malformed JSON with 400 ValidationFailed', async () => {
      expectProblem(await control.api.post('/v1/tenants', undefined, { raw: '{"slug": "half-sent", "name": ' }), 400, 'ValidationFailed');

      expectProblem(await control.api.get('/v1/tenants/half-sent'), 404, 'NotFound');
    });

    it('answers a text/plain body with 415 UnsupportedMediaType', async () => {
      const response = await control.api.post('/v1/tenants', undefined, { raw: 'slug=plain-text&name=Plain', headers: { 'content-type': 'text/plain' } });

      expectProblem(response, 415, 'UnsupportedMediaType');
      expectProblem(await control.api.get('/v1/tenants/plain-text'), 404, 'NotFound');
    });

    it.each([
      ['a tenant', '/v1/tenants', '{"slug":"proto-tenant","name":"Proto","__proto__":{"polluted":"yes"}}'],
      ['quotas', '/v1/tenants/torfaen/quotas', '{"vcpu":1,"__proto__":{"polluted":"yes"}}'],
      ['allocation resources', '/v1/allocations', '{"tenant":"torfaen","resources":{"__proto__":{"polluted":"yes"},"vcpu":1}}'],
      ['host inventories', '/v1/hosts', '{"name":"proto-host","site":"hall-a","inventories":{"__proto__":{"total":1}}}'],
      ['a constructor.prototype', '/v1/tenants', '{"slug":"proto-tenant","name":"Proto","constructor":{"prototype":{"polluted":"yes"}}}'],
    ])('refuses a __proto__ key in %s with 400 and creates nothing', async (_case, path, raw) => {
      const method = path.endsWith('/quotas') ? 'PUT' : 'POST';

      expectProblem(await control.api.request(method, path, undefined, { raw }), 400, 'ValidationFailed');

      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expectProblem(await control.api.get('/v1/tenants/proto-tenant'), 404, 'NotFound');
      expectProblem(await control.api.get('/v1/hosts/proto-host'), 404, 'NotFound');
      await expect(control.api.get('/v1/tenants/torfaen/quotas')).resolves.toMatchObject({ body: { quotas: { vcpu: { limit: 64 } } } });
      await expect(control.api.get('/v1/allocations?status=all')).resolves.toMatchObject({ body: [] });
    });
  });

  describe('body size limit', () => {
    let limited: RunningControl;

    beforeAll(async () => {
      limited = await startControl({ bodyLimitBytes: 2048 });
    });

    afterAll(async () => {
      await limited?.close();
    });

    it('answers a body over the limit with 413 PayloadTooLarge and creates nothing', async () => {
      const body = { slug: 'verbose', name: 'Verbose', contact: 'x'.repeat(300), padding: 'x'.repeat(2048) };

      expectProblem(await limited.api.post('/v1/tenants', body), 413, 'PayloadTooLarge');

      expectProblem(await limited.api.get('/v1/tenants/verbose'), 404, 'NotFound');
    });

    it('accepts a body under the limit', async () => {
      await expect(limited.api.post('/v1/tenants', { slug: 'concise', name: 'x'.repeat(200) })).resolves.toMatchObject({ status: 201 });
    });
  });

  describe('bootstrap admin token', () => {
    let dataDir: string;
    let running: ControlProcess | undefined;

    beforeEach(() => {
      dataDir = createDataDir();
    });

    afterEach(async () => {
      await running?.stop();
      running = undefined;
      removeDataDir(dataDir);
    });

    it('is written to <dataDir>/admin.token with mode 0600 and works as a bearer token', async () => {
      running = await bootControl(dataDir);

      expect(statSync(join(dataDir, 'admin.token')).mode & 0o777).toBe(0o600);
      const token = running.tokenFile();
      expect(token).toMatch(/^dcm_[A-Za-z0-9_-]{43}$/);
      await expect(running.api(token).get('/v1/tenants')).resolves.toMatchObject({ status: 200, body: [] });
    });

    it('keeps working after a restart on the same data directory, with the data kept', async () => {
      running = await bootControl(dataDir);
      const token = running.tokenFile();
      await createTenant(running.api(token), 'torfaen');
      await running.stop();

      running = await bootControl(dataDir);

      expect(running.tokenFile()).toBe(token);
      expect(statSync(join(dataDir, 'admin.token')).mode & 0o777).toBe(0o600);
      const tenants = expectJson(await running.api(token).get('/v1/tenants'), 200);
      expect(tenants.map((tenant: { slug: string }) => tenant.slug)).toEqual(['torfaen']);
    });

    it('is the operator-chosen adminToken when one is configured, and the file says so', async () => {
      running = await bootControl(dataDir, { adminToken: 'a-long-operator-chosen-secret-1234' });

      expect(running.tokenFile()).toBe('a-long-operator-chosen-secret-1234');
      expect(statSync(join(dataDir, 'admin.token')).mode & 0o777).toBe(0o600);
      await expect(running.api('a-long-operator-chosen-secret-1234').get('/v1/tenants')).resolves.toMatchObject({ status: 200 });
      expectProblem(await running.api('a-long-operator-chosen-secret-12345').get('/v1/tenants'), 401, 'Unauthenticated');
    });

    it('replaces a generated token with a configured one on restart: the old one stops working', async () => {
      running = await bootControl(dataDir);
      const generated = running.tokenFile();
      await running.stop();

      running = await bootControl(dataDir, { adminToken: 'a-long-operator-chosen-secret-1234' });

      expect(running.tokenFile()).toBe('a-long-operator-chosen-secret-1234');
      await expect(running.api('a-long-operator-chosen-secret-1234').get('/v1/tenants')).resolves.toMatchObject({ status: 200 });
      expectProblem(await running.api(generated).get('/v1/tenants'), 401, 'Unauthenticated');
    });
  });

  describe('resource classes', () => {
    it('lists the built-in classes with their units', async () => {
      const classes = expectJson(await control.api.get('/v1/resource-classes'), 200);

      expect(classes).toEqual(
        expect.arrayContaining([
          { name: 'memory', unit: 'bytes', description: expect.any(String) },
          { name: 'storage', unit: 'bytes', description: expect.any(String) },
          { name: 'vcpu', unit: 'count', description: expect.any(String) },
        ]),
      );
    });

    it('declares custom_gpu, which quotas, inventories and allocations then accept', async () => {
      const { api } = control;

      const declared = expectJson(await api.put('/v1/resource-classes/custom_gpu', { unit: 'count', description: 'NVIDIA L40S GPUs' }), 200);

      expect(declared).toEqual({ name: 'custom_gpu', unit: 'count', description: 'NVIDIA L40S GPUs' });
      expect(expectJson(await api.get('/v1/resource-classes'), 200)).toContainEqual(declared);
      await createTenant(api, 'gpu-lab');
      await setQuotas(api, 'gpu-lab', { vcpu: 16, custom_gpu: 4 });
      await expectStatus(api.post('/v1/hosts', { name: 'gpu-01', site: 'hall-g', inventories: { vcpu: { total: 32 } } }), 201);
      const host = expectJson(await api.put('/v1/hosts/gpu-01/inventories/custom_gpu', { total: 8, allocationRatio: 1 }), 200);
      expect(host.inventories.custom_gpu).toMatchObject({ unit: 'count', total: 8, capacity: 8, allocated: 0 });

      const allocation = expectJson(await api.post('/v1/allocations', { tenant: 'gpu-lab', resources: { vcpu: 4, custom_gpu: 2 } }), 201);

      expect(allocation).toMatchObject({ host: 'gpu-01', resources: { custom_gpu: 2, vcpu: 4 } });
      await expect(api.get('/v1/tenants/gpu-lab/quotas')).resolves.toMatchObject({
        body: { quotas: { custom_gpu: { unit: 'count', limit: 4, allocated: 2, available: 2, state: 'ok' } } },
      });
      await expect(api.get('/v1/hosts/gpu-01')).resolves.toMatchObject({ body: { inventories: { custom_gpu: { allocated: 2, free: 6 } } } });
      const refused = expectProblem(await api.post('/v1/allocations', { tenant: 'gpu-lab', resources: { custom_gpu: 3 } }), 409, 'QuotaExceeded');
      expect(refused).toMatchObject({ resource: 'custom_gpu', requested: 3, limit: 4, allocated: 2 });
      const capacity = expectJson(await api.get('/v1/capacity'), 200);
      expect(capacity.facility.resources.custom_gpu).toEqual({
        unit: 'count',
        capacity: 8,
        allocated: 2,
        used: null,
        free: 6,
        overcommitted: false,
        placeable: 6,
      });
    });

    it('declares a custom class in bytes, which accepts suffixed amounts', async () => {
      await expect(control.api.put('/v1/resource-classes/custom_nvme', { unit: 'bytes' })).resolves.toMatchObject({
        status: 200,
        body: { name: 'custom_nvme', unit: 'bytes', description: null },
      });
      await createTenant(control.api, 'nvme-user');

      await setQuotas(control.api, 'nvme-user', { custom_nvme: '2TiB' });

      await expect(control.api.get('/v1/tenants/nvme-user/quotas')).resolves.toMatchObject({
        body: { quotas: { custom_nvme: { unit: 'bytes', limit: 2 * 2 ** 40 } } },
      });
    });

    it('declaring a class again with the same unit is harmless; with another unit it is refused with 409', async () => {
      await expectStatus(control.api.put('/v1/resource-classes/custom_fpga', { unit: 'count' }), 200);

      await expect(control.api.put('/v1/resource-classes/custom_fpga', { unit: 'count', description: 'Xilinx' })).resolves.toMatchObject({
        status: 200,
        body: { name: 'custom_fpga', unit: 'count', description: 'Xilinx' },
      });
      expectProblem(await control.api.put('/v1/resource-classes/custom_fpga', { unit: 'bytes' }), 409, 'Conflict');
      const classes = expectJson(await control.api.get('/v1/resource-classes'), 200);
      expect(classes).toContainEqual({ name: 'custom_fpga', unit: 'count', description: 'Xilinx' });
    });

    it.each([
      ['without the custom_ prefix', 'gpu'],
      ['a built-in class', 'vcpu'],
      ['an empty custom name', 'custom_'],
      ['upper case', 'custom_GPU'],
      ['a hyphen', 'custom-gpu'],
      ['a name part longer than 40 characters', `custom_${'g'.repeat(41)}`],
    ])('refuses a class name %s with 400', async (_case, name) => {
      const problem = expectProblem(await control.api.put(`/v1/resource-classes/${name}`, { unit: 'count' }), 400, 'ValidationFailed');

      expect(problem.detail).toContain('is not a valid custom class name');
      const classes = expectJson(await control.api.get('/v1/resource-classes'), 200);
      // vcpu is there already and stays as it was; no other name may appear.
      expect(classes.filter((resourceClass: { name: string }) => resourceClass.name === name)).toEqual(
        name === 'vcpu' ? [{ name: 'vcpu', unit: 'count', description: 'virtual CPUs' }] : [],
      );
    });

    it('refuses an unknown unit with 400', async () => {
      const problem = expectProblem(await control.api.put('/v1/resource-classes/custom_weight', { unit: 'kg' }), 400, 'ValidationFailed');

      expect(problem.errors).toEqual(['unit must be one of the following values: count, bytes']);
    });
  });
});
