import { createTenant, expectStatus } from '../support/facility';
import { RunningControl, startControl } from '../support/control';
import { expectJson, expectProblem } from '../support/problems';

const LIMIT = 10;

describe('per-token rate limits', () => {
  let control: RunningControl;
  let first: string;
  let second: string;

  beforeAll(async () => {
    control = await startControl({ rateLimitPerMinute: LIMIT });
    // Two of the admin token's ten requests this minute.
    first = (await expectStatus(control.api.post('/v1/tokens', { kind: 'api', role: 'operator', name: 'script one' }), 201)).token;
    second = (await expectStatus(control.api.post('/v1/tokens', { kind: 'api', role: 'operator', name: 'script two' }), 201)).token;
  });

  afterAll(async () => {
    await control?.close();
  });

  it('answers the request after the limit with 429 RateLimited, Retry-After in seconds, and writes nothing', async () => {
    const api = control.api.as(first);
    for (let i = 0; i < LIMIT; i++) await createTenant(api, `paced-${i}`);

    const refused = await api.post('/v1/tenants', { slug: 'one-too-many', name: 'One too many' });

    const problem = expectProblem(refused, 429, 'RateLimited');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
    expect(problem).toMatchObject({ limit: LIMIT, retryAfterSeconds: retryAfter, instance: '/v1/tenants' });
    expect(problem.detail).not.toContain(first);
    expectProblem(await control.api.as(second).get('/v1/tenants/one-too-many'), 404, 'NotFound');
  });

  it('counts each token on its own: another token is unaffected', async () => {
    const tenants = expectJson(await control.api.as(second).get('/v1/tenants'), 200);

    expect(tenants.map((tenant: { slug: string }) => tenant.slug)).toEqual(Array.from({ length: LIMIT }, (_, i) => `paced-${i}`).sort());
  });

  it('refuses before reading the body: an oversized body from a limited token is answered 429, not 413', async () => {
    const response = await control.api.as(first).post('/v1/tenants', { slug: 'huge', name: 'x'.repeat(2 * 1024 * 1024) });

    expectProblem(response, 429, 'RateLimited');
  });

  it('counts requests without a token by client address', async () => {
    const enrol = { joinToken: 'dcm_not-a-real-join-token-at-all', hostname: 'rogue', facts: {} };
    const answers = [];
    for (let i = 0; i <= LIMIT; i++) answers.push((await control.api.post('/v1/agents/enrol', enrol, { token: null })).status);

    expect(answers).toEqual([...Array<number>(LIMIT).fill(400), 429]);
  });

  it('never limits health probes or Prometheus scrapes', async () => {
    const answers = new Set<number>();
    for (let i = 0; i < 3 * LIMIT; i++) {
      for (const path of ['/health/live', '/health/ready', '/metrics']) answers.add((await control.api.get(path, { token: null })).status);
    }

    expect([...answers]).toEqual([200]);
  });
});

describe('rate limits turned off', () => {
  let control: RunningControl;

  beforeAll(async () => {
    control = await startControl({ rateLimitPerMinute: 0 });
  });

  afterAll(async () => {
    await control?.close();
  });

  it('serves any number of requests from one token', async () => {
    const answers = new Set<number>();
    for (let i = 0; i < 1300; i++) answers.add((await control.api.get('/v1/tenants')).status);

    expect([...answers]).toEqual([200]);
  });
});
