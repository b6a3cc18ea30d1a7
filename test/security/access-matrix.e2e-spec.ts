import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { RunningControl, startControl } from '../support/control';
import { createHost, createTenant, expectStatus, hostFacts, setQuotas } from '../support/facility';
import { aReport } from '../support/reports';
import { pause } from '../support/eventually';

/** Who calls: no token, a token that does not exist, an expired one, a revoked one, each role, and an agent. */
const CALLERS = ['none', 'bad', 'expired', 'revoked', 'viewer', 'operator', 'admin', 'tenantA', 'tenantB', 'agent'] as const;
type Caller = (typeof CALLERS)[number];

const ROLE_RANKS = { viewer: 1, operator: 2, admin: 3 } as const;

interface Row {
  /** Who may call it: anyone, the agent named in the path, or this role and the ones above it. */
  access: 'public' | 'agent' | keyof typeof ROLE_RANKS;
  /**
   * Whether tenant tokens may call it: `own` reads tenant A's records (A gets them, B gets 404 exactly as if they did
   * not exist); `filtered` lists what the caller may see (both get 200). Otherwise tenant tokens get 403.
   */
  tenant?: 'own' | 'filtered';
  /** The status an allowed caller gets. */
  ok: number;
  /** The request to send as `caller`: its own target where the call changes something. */
  request: (caller: Caller) => Promise<{ path: string; body?: unknown }>;
}

const ago = (ms: number) => new Date(Date.now() - ms).toISOString().slice(0, 10);

describe('access matrix: every route × every kind of caller', () => {
  let control: RunningControl;
  const tokens = {} as Record<Caller, string | null>;
  let agentId: string;
  let allocationOfA: string;
  let reportSeq = 0;

  const admin = () => control.api;
  const newTenant = async (slug: string) => {
    await createTenant(admin(), slug);
    return slug;
  };
  const newGrant = async () =>
    (
      await expectStatus(
        admin().post('/v1/tenants/alpha/grants', { resources: { vcpu: 1 }, expiresAt: new Date(Date.now() + 3_600_000).toISOString(), reason: 'matrix' }),
        201,
      )
    ).id as string;
  const newAllocation = async () => (await expectStatus(admin().post('/v1/allocations', { tenant: 'alpha', resources: { vcpu: 1 } }), 201)).id as string;
  const newToken = async () => (await expectStatus(admin().post('/v1/tokens', { kind: 'api', role: 'viewer' }), 201)).id as string;
  const joinToken = async () => (await expectStatus(admin().post('/v1/tokens', { kind: 'join', uses: 1 }), 201)).token as string;
  const facts = (hostname: string) => hostFacts(hostname);

  const MATRIX: Record<string, Row> = {
    'GET /health/live': { access: 'public', ok: 200, request: async () => ({ path: '/health/live' }) },
    'GET /health/ready': { access: 'public', ok: 200, request: async () => ({ path: '/health/ready' }) },
    'GET /metrics': { access: 'public', ok: 200, request: async () => ({ path: '/metrics' }) },

    'POST /v1/tenants': {
      access: 'operator',
      ok: 201,
      request: async (caller) => ({ path: '/v1/tenants', body: { slug: `new-${caller.toLowerCase()}`, name: 'New' } }),
    },
    'GET /v1/tenants': { access: 'viewer', tenant: 'filtered', ok: 200, request: async () => ({ path: '/v1/tenants' }) },
    'GET /v1/tenants/:slug': { access: 'viewer', tenant: 'own', ok: 200, request: async () => ({ path: '/v1/tenants/alpha' }) },
    'PATCH /v1/tenants/:slug': {
      access: 'operator',
      ok: 200,
      request: async (caller) => ({ path: '/v1/tenants/alpha', body: { contact: `${caller}@example.org` } }),
    },
    'DELETE /v1/tenants/:slug': {
      access: 'operator',
      ok: 200,
      request: async (caller) => ({ path: `/v1/tenants/${await newTenant(`gone-${caller.toLowerCase()}`)}` }),
    },
    'GET /v1/tenants/:slug/quotas': { access: 'viewer', tenant: 'own', ok: 200, request: async () => ({ path: '/v1/tenants/alpha/quotas' }) },
    'PUT /v1/tenants/:slug/quotas': {
      access: 'operator',
      ok: 200,
      request: async () => ({ path: '/v1/tenants/alpha/quotas', body: { vcpu: 1000, memory: '1TiB' } }),
    },
    'POST /v1/tenants/:slug/grants': {
      access: 'operator',
      ok: 201,
      request: async () => ({
        path: '/v1/tenants/alpha/grants',
        body: { resources: { vcpu: 2 }, expiresAt: new Date(Date.now() + 3_600_000).toISOString(), reason: 'surge' },
      }),
    },
    'GET /v1/tenants/:slug/grants': { access: 'viewer', tenant: 'own', ok: 200, request: async () => ({ path: '/v1/tenants/alpha/grants' }) },
    'DELETE /v1/tenants/:slug/grants/:id': { access: 'operator', ok: 200, request: async () => ({ path: `/v1/tenants/alpha/grants/${await newGrant()}` }) },

    'POST /v1/hosts': {
      access: 'operator',
      ok: 201,
      request: async (caller) => ({ path: '/v1/hosts', body: { name: `h-${caller.toLowerCase()}`, site: 'hall-a', inventories: { vcpu: { total: 8 } } } }),
    },
    'GET /v1/hosts': { access: 'viewer', ok: 200, request: async () => ({ path: '/v1/hosts' }) },
    'GET /v1/hosts/:name': { access: 'viewer', ok: 200, request: async () => ({ path: '/v1/hosts/blv-m01' }) },
    'PATCH /v1/hosts/:name': { access: 'operator', ok: 200, request: async () => ({ path: '/v1/hosts/blv-m01', body: { rack: 'a01' } }) },
    'PUT /v1/hosts/:name/inventories/:class': {
      access: 'operator',
      ok: 200,
      request: async () => ({ path: '/v1/hosts/blv-m01/inventories/vcpu', body: { total: 256 } }),
    },
    'PUT /v1/hosts/:name/tenants/:slug': { access: 'operator', ok: 200, request: async () => ({ path: '/v1/hosts/blv-m01/tenants/alpha' }) },
    'DELETE /v1/hosts/:name/tenants/:slug': {
      access: 'operator',
      ok: 200,
      request: async () => {
        await expectStatus(admin().put('/v1/hosts/blv-m01/tenants/alpha'), 200);
        return { path: '/v1/hosts/blv-m01/tenants/alpha' };
      },
    },
    'DELETE /v1/hosts/:name': {
      access: 'operator',
      ok: 200,
      request: async (caller) => {
        const name = `gone-h-${caller.toLowerCase()}`;
        await createHost(admin(), name, { vcpu: { total: 1 } });
        return { path: `/v1/hosts/${name}` };
      },
    },

    'POST /v1/allocations': {
      access: 'operator',
      ok: 201,
      request: async () => ({ path: '/v1/allocations', body: { tenant: 'alpha', resources: { vcpu: 1 } } }),
    },
    'GET /v1/allocations': { access: 'viewer', tenant: 'filtered', ok: 200, request: async () => ({ path: '/v1/allocations' }) },
    'GET /v1/allocations/:id': { access: 'viewer', tenant: 'own', ok: 200, request: async () => ({ path: `/v1/allocations/${allocationOfA}` }) },
    'DELETE /v1/allocations/:id': { access: 'operator', ok: 200, request: async () => ({ path: `/v1/allocations/${await newAllocation()}` }) },

    'GET /v1/capacity': { access: 'viewer', ok: 200, request: async () => ({ path: '/v1/capacity' }) },
    'GET /v1/capacity/forecast': { access: 'viewer', ok: 200, request: async () => ({ path: '/v1/capacity/forecast' }) },
    'GET /v1/reports/showback': {
      access: 'viewer',
      tenant: 'filtered',
      ok: 200,
      request: async () => ({ path: `/v1/reports/showback?from=${ago(86_400_000)}&to=${ago(-86_400_000)}` }),
    },
    'GET /v1/reports/idle': { access: 'viewer', ok: 200, request: async () => ({ path: '/v1/reports/idle' }) },

    'POST /v1/agents/enrol': {
      access: 'public',
      ok: 201,
      request: async (caller) => ({
        path: '/v1/agents/enrol',
        body: { joinToken: await joinToken(), hostname: `enrol-${caller.toLowerCase()}`, facts: facts(`enrol-${caller.toLowerCase()}`) },
      }),
    },
    'POST /v1/agents/:id/reports': { access: 'agent', ok: 200, request: async () => ({ path: `/v1/agents/${agentId}/reports`, body: aReport(++reportSeq) }) },

    'POST /v1/tokens': { access: 'admin', ok: 201, request: async () => ({ path: '/v1/tokens', body: { kind: 'api', role: 'viewer' } }) },
    // Operators onboard hosts: a join token is theirs to issue too (API tokens stay the admins', the row above).
    'POST /v1/tokens (join)': { access: 'operator', ok: 201, request: async () => ({ path: '/v1/tokens', body: { kind: 'join', uses: 1 } }) },
    'GET /v1/tokens': { access: 'admin', ok: 200, request: async () => ({ path: '/v1/tokens' }) },
    'DELETE /v1/tokens/:id': { access: 'admin', ok: 200, request: async () => ({ path: `/v1/tokens/${await newToken()}` }) },

    'GET /v1/audit': { access: 'viewer', ok: 200, request: async () => ({ path: '/v1/audit' }) },
    'GET /v1/audit/verify': { access: 'viewer', ok: 200, request: async () => ({ path: '/v1/audit/verify' }) },
    'GET /v1/audit/anchor': { access: 'viewer', ok: 200, request: async () => ({ path: '/v1/audit/anchor' }) },
    'GET /v1/resource-classes': { access: 'viewer', ok: 200, request: async () => ({ path: '/v1/resource-classes' }) },
    'PUT /v1/resource-classes/:name': {
      access: 'operator',
      ok: 200,
      request: async () => ({ path: '/v1/resource-classes/custom_gpu', body: { unit: 'count' } }),
    },
    'GET /v1/scheduler': { access: 'viewer', ok: 200, request: async () => ({ path: '/v1/scheduler' }) },
  };

  function expected(row: Row, caller: Caller): number {
    if (row.access === 'public') return row.ok;
    if (caller === 'none' || caller === 'bad' || caller === 'expired' || caller === 'revoked') return 401;
    if (row.access === 'agent') return caller === 'agent' ? row.ok : 403;
    if (caller === 'agent') return 403;
    if (caller === 'tenantA') return row.tenant ? row.ok : 403;
    if (caller === 'tenantB') return row.tenant === 'own' ? 404 : row.tenant === 'filtered' ? row.ok : 403;
    return ROLE_RANKS[caller] >= ROLE_RANKS[row.access] ? row.ok : 403;
  }

  /** Every route the application serves, as `METHOD /path/:param`, read from its controllers. */
  function servedRoutes(): string[] {
    const routes: string[] = [];
    for (const module of control.app.get(ModulesContainer).values()) {
      for (const { metatype } of module.controllers.values()) {
        if (!metatype) continue;
        const base = String(Reflect.getMetadata(PATH_METADATA, metatype) ?? '');
        const prototype = metatype.prototype as Record<string, unknown>;
        for (const name of Object.getOwnPropertyNames(prototype)) {
          const handler = prototype[name];
          if (name === 'constructor' || typeof handler !== 'function' || Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
          const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
          const path = [base, String(Reflect.getMetadata(PATH_METADATA, handler))].filter((part) => part && part !== '/').join('/');
          routes.push(`${method} /${path}`);
        }
      }
    }
    return routes.sort();
  }

  beforeAll(async () => {
    control = await startControl();
    await newTenant('alpha');
    await newTenant('beta');
    await setQuotas(admin(), 'alpha', { vcpu: 1000, memory: '1TiB' });
    await setQuotas(admin(), 'beta', { vcpu: 10 });
    await createHost(admin(), 'blv-m01', { vcpu: { total: 256 }, memory: { total: '1TiB' } });
    allocationOfA = await newAllocation();
    await expectStatus(admin().post('/v1/allocations', { tenant: 'beta', resources: { vcpu: 1 } }), 201);

    const issue = async (body: Record<string, unknown>) =>
      (await expectStatus(admin().post('/v1/tokens', { kind: 'api', ...body }), 201)) as { id: string; token: string };
    tokens.none = null;
    tokens.bad = 'dcm_this-token-was-never-issued-by-this-control-0000000';
    tokens.viewer = (await issue({ role: 'viewer' })).token;
    tokens.operator = (await issue({ role: 'operator' })).token;
    tokens.admin = (await issue({ role: 'admin' })).token;
    tokens.tenantA = (await issue({ role: 'tenant', tenant: 'alpha' })).token;
    tokens.tenantB = (await issue({ role: 'tenant', tenant: 'beta' })).token;
    const revoked = await issue({ role: 'admin' });
    await expectStatus(admin().delete(`/v1/tokens/${revoked.id}`), 200);
    tokens.revoked = revoked.token;
    const expiring = await issue({ role: 'admin', expiresAt: new Date(Date.now() + 1_000).toISOString() });
    tokens.expired = expiring.token;
    const enrolled = await expectStatus(
      admin().post('/v1/agents/enrol', { joinToken: await joinToken(), hostname: 'blv-agent', facts: facts('blv-agent') }, { token: null }),
      201,
    );
    agentId = enrolled.agentId;
    tokens.agent = enrolled.agentToken;
    await pause(1_100); // the expiring token is now expired
  });

  afterAll(async () => {
    await control?.close();
  });

  it('has an entry for every route the application serves, and none for a route it does not', () => {
    // A route may have several rows (one per kind of body); the web console's pages are held to the API's roles by
    // test/console/console.e2e-spec.ts, with a session instead of a bearer token.
    const apiRoutes = servedRoutes().filter((route) => !/^[A-Z]+ \/(console(\/|$)|$)/.test(route));
    expect([...new Set(Object.keys(MATRIX).map((route) => route.replace(/ \(.*\)$/, '')))].sort()).toEqual(apiRoutes);
  });

  it('answers each caller with the expected status on every route', async () => {
    const answers: string[] = [];
    const wanted: string[] = [];
    for (const [route, row] of Object.entries(MATRIX)) {
      const method = route.split(' ')[0];
      for (const caller of CALLERS) {
        const { path, body } = await row.request(caller);
        const response = await control.api.request(method, path, body, { token: tokens[caller] });
        answers.push(`${route} as ${caller}: ${response.status}`);
        wanted.push(`${route} as ${caller}: ${expected(row, caller)}`);
      }
    }
    expect(answers).toEqual(wanted);
  });

  it("shows a tenant token only its own tenant's records in lists", async () => {
    const asA = control.api.as(tokens.tenantA);
    const tenants = await expectStatus(asA.get('/v1/tenants'), 200);
    expect(tenants.map((tenant: { slug: string }) => tenant.slug)).toEqual(['alpha']);
    const allocations = await expectStatus(asA.get('/v1/allocations?status=all&limit=1000'), 200);
    expect(allocations.length).toBeGreaterThan(0);
    expect(allocations.every((allocation: { tenant: string }) => allocation.tenant === 'alpha')).toBe(true);
    await expect(expectStatus(asA.get('/v1/allocations?tenant=beta'), 200)).resolves.toEqual([]);
    const showback = await expectStatus(asA.get(`/v1/reports/showback?from=${ago(86_400_000)}&to=${ago(-86_400_000)}`), 200);
    expect(showback.tenants.map((row: { tenant: string }) => row.tenant)).toEqual(['alpha']);
    const missing = await asA.get('/v1/tenants/beta');
    const absent = await asA.get('/v1/tenants/no-such-tenant');
    expect([missing.status, missing.body.code]).toEqual([absent.status, absent.body.code]);
  });

  it("answers an agent token on another agent's reports as if that agent did not exist", async () => {
    const other = await expectStatus(
      admin().post('/v1/agents/enrol', { joinToken: await joinToken(), hostname: 'blv-other', facts: facts('blv-other') }, { token: null }),
      201,
    );
    const response = await control.api.as(tokens.agent).post(`/v1/agents/${other.agentId}/reports`, aReport(1));
    const missing = await control.api.as(tokens.agent).post('/v1/agents/00000000-0000-4000-8000-000000000000/reports', aReport(1));
    expect([response.status, response.body.code]).toEqual([404, 'NotFound']);
    expect([missing.status, missing.body.code]).toEqual([404, 'NotFound']);
  });
});
