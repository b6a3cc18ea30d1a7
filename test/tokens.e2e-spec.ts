import { createTenant, expectStatus } from './support/facility';
import { RunningControl, startControl } from './support/control';
import { expectProblem } from './support/problems';
import { eventually } from './support/eventually';

const DAY_MS = 86_400_000;

describe('tokens and roles', () => {
  let control: RunningControl;

  beforeAll(async () => {
    control = await startControl();
    await createTenant(control.api, 'torfaen');
  });

  afterAll(async () => {
    await control.close();
  });

  const issue = (body: Record<string, unknown>) => expectStatus(control.api.post('/v1/tokens', body), 201);

  it('issues a viewer token that reads but cannot write', async () => {
    const viewer = await issue({ kind: 'api', role: 'viewer', name: 'grafana' });
    expect(viewer).toMatchObject({ kind: 'api', role: 'viewer', name: 'grafana', tenant: null, revokedAt: null });
    expect(viewer.token).toMatch(/^dcm_/);
    const api = control.api.as(viewer.token);

    expect((await api.get('/v1/tenants')).status).toBe(200);
    const refused = await api.post('/v1/tenants', { slug: 'caerphilly', name: 'Caerphilly' });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('Forbidden');
    expect((await control.api.get('/v1/tenants/caerphilly')).status).toBe(404);
  });

  it('lets an operator write tenants but not manage tokens', async () => {
    const operator = await issue({ kind: 'api', role: 'operator' });
    const api = control.api.as(operator.token);
    expect((await api.post('/v1/tenants', { slug: 'monmouthshire', name: 'Monmouthshire' })).status).toBe(201);
    const refused = await api.post('/v1/tokens', { kind: 'api', role: 'admin' });
    expect(refused.status).toBe(403);
  });

  it('lets an operator issue join tokens for the hosts it onboards, but no API token of any role, nor list or revoke tokens', async () => {
    const operator = await issue({ kind: 'api', role: 'operator' });
    const api = control.api.as(operator.token);
    const join = await expectStatus(api.post('/v1/tokens', { kind: 'join', uses: 2, name: 'hall-a rack 3' }), 201);
    expect(join).toMatchObject({ kind: 'join', role: null, usesLeft: 2, name: 'hall-a rack 3' });
    expect(join.token).toMatch(/^dcm_/);
    const created = await expectStatus(control.api.get(`/v1/audit?subject=${join.id}`), 200);
    expect(created.map((event: { action: string; actor: string }) => [event.action, event.actor])).toEqual([['token.create', `token:${operator.id}`]]);

    for (const role of ['viewer', 'operator', 'admin']) expectProblem(await api.post('/v1/tokens', { kind: 'api', role }), 403, 'Forbidden');
    expectProblem(await api.post('/v1/tokens', { kind: 'api', role: 'tenant', tenant: 'torfaen' }), 403, 'Forbidden');
    expectProblem(await api.get('/v1/tokens'), 403, 'Forbidden');
    expectProblem(await api.delete(`/v1/tokens/${join.id}`), 403, 'Forbidden');
    const viewer = await issue({ kind: 'api', role: 'viewer' });
    expectProblem(await control.api.as(viewer.token).post('/v1/tokens', { kind: 'join', uses: 1 }), 403, 'Forbidden');
  });

  it('never lists secrets', async () => {
    const listed = await expectStatus(control.api.get('/v1/tokens'), 200);
    expect(listed.length).toBeGreaterThanOrEqual(3);
    for (const token of listed) expect(token).not.toHaveProperty('token');
    expect(JSON.stringify(listed)).not.toMatch(/dcm_[A-Za-z0-9_-]{20,}/);
  });

  it('revokes a token at once', async () => {
    const viewer = await issue({ kind: 'api', role: 'viewer' });
    expect((await control.api.get('/v1/tenants', { token: viewer.token })).status).toBe(200);
    const revoked = await expectStatus(control.api.delete(`/v1/tokens/${viewer.id}`), 200);
    expect(revoked.revokedAt).not.toBeNull();
    const refused = await control.api.get('/v1/tenants', { token: viewer.token });
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('Unauthenticated');
  });

  it('binds tenant tokens to an existing tenant and gives join tokens a use count', async () => {
    const tenantToken = await issue({ kind: 'api', role: 'tenant', tenant: 'torfaen' });
    expect(tenantToken.tenant).toBe('torfaen');
    const join = await issue({ kind: 'join', uses: 3, expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    expect(join).toMatchObject({ kind: 'join', role: null, usesLeft: 3 });
    // A join token is only for enrolment.
    expect((await control.api.get('/v1/tenants', { token: join.token })).status).toBe(401);
  });

  it('gives a join token issued without an expiry one of 30 days, and refuses a longer one', async () => {
    const join = await issue({ kind: 'join', uses: 1 });
    expect(Date.parse(join.expiresAt) - Date.parse(join.createdAt)).toBe(30 * DAY_MS);

    const before = await expectStatus(control.api.get('/v1/tokens'), 200);
    const tooLong = await control.api.post('/v1/tokens', { kind: 'join', uses: 1, expiresAt: new Date(Date.now() + 31 * DAY_MS).toISOString() });
    expect(tooLong.body.detail).toContain('expiresAt');
    expectProblem(tooLong, 400, 'ValidationFailed');
    await expect(control.api.get('/v1/tokens').then((listed) => listed.body.length)).resolves.toBe(before.length);
    // API tokens keep their optional expiry.
    await expect(issue({ kind: 'api', role: 'viewer' })).resolves.toMatchObject({ expiresAt: null });
  });

  it.each([
    [{ kind: 'api' }, 'role'],
    [{ kind: 'api', role: 'tenant' }, 'tenant'],
    [{ kind: 'api', role: 'tenant', tenant: 'nobody-here' }, 'tenant'],
    [{ kind: 'api', role: 'viewer', uses: 2 }, 'uses'],
    [{ kind: 'join', role: 'viewer' }, 'role'],
    [{ kind: 'join', expiresAt: '2001-01-01T00:00:00Z' }, 'expiresAt'],
    [{ kind: 'agent' }, 'kind'],
    [{ kind: 'api', role: 'root' }, 'role'],
  ])('refuses %j naming %s', async (body, field) => {
    const before = await expectStatus(control.api.get('/v1/tokens'), 200);
    const response = await control.api.post('/v1/tokens', body);
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('ValidationFailed');
    expect(response.body.detail).toContain(field);
    await expect(control.api.get('/v1/tokens').then((listed) => listed.body.length)).resolves.toBe(before.length);
  });

  it('keeps when each token was last used, to the minute, without the secret', async () => {
    const viewer = await issue({ kind: 'api', role: 'viewer', name: 'last-used' });
    const listed = async () => (await expectStatus(control.api.get('/v1/tokens'), 200)).find((token: { id: string }) => token.id === viewer.id);
    await expect(listed()).resolves.toMatchObject({ lastUsedAt: null });
    const before = Date.now();
    await expectStatus(control.api.as(viewer.token).get('/v1/tenants'), 200);
    // Uses are written in batches about a second apart.
    const lastUsedAt: string = await eventually('the use to be written', async () => (await listed()).lastUsedAt ?? undefined, 5_000);
    expect(Date.parse(lastUsedAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(lastUsedAt!)).toBeLessThanOrEqual(Date.now());
  });

  it('keeps a tenant token to its own tenant: other tenants answer 404 as if they did not exist, and it cannot write', async () => {
    await createTenant(control.api, 'blaenau-gwent');
    const tenantToken = await issue({ kind: 'api', role: 'tenant', tenant: 'torfaen' });
    const api = control.api.as(tenantToken.token);
    await expect(expectStatus(api.get('/v1/tenants/torfaen'), 200)).resolves.toMatchObject({ slug: 'torfaen' });
    await expect(expectStatus(api.get('/v1/tenants/torfaen/quotas'), 200)).resolves.toMatchObject({ tenant: 'torfaen' });
    const other = await api.get('/v1/tenants/blaenau-gwent');
    const none = await api.get('/v1/tenants/does-not-exist');
    expect([other.status, other.body.code, other.body.detail?.replace('blaenau-gwent', 'X')]).toEqual([
      none.status,
      none.body.code,
      none.body.detail?.replace('does-not-exist', 'X'),
    ]);
    expect((await api.get('/v1/tenants/blaenau-gwent/quotas')).status).toBe(404);
    expect((await api.get('/v1/hosts')).status).toBe(403);
    expect((await api.patch('/v1/tenants/torfaen', { name: 'Renamed' })).status).toBe(403);
  });
});
