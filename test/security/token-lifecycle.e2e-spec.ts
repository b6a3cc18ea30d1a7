import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { RunningControl, startControl } from '../support/control';
import { spawnControl } from '../support/control-process';
import { createTenant, expectStatus } from '../support/facility';
import { freePort } from '../support/ports';
import { expectProblem } from '../support/problems';
import { bootControl, ControlProcess, createDataDir, removeDataDir } from '../support/restartable-control';

interface Token {
  id: string;
  name: string;
  role: string | null;
  tenant: string | null;
  revokedAt: string | null;
}

const CONFIGURED = 'an-operator-chosen-bootstrap-secret-0001';

describe('bootstrap admin token across restarts', () => {
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

  const bootstrapTokens = async (admin: string) =>
    (await expectStatus(running!.api(admin).get('/v1/tokens'), 200)).filter((token: Token) => token.name === 'bootstrap') as Token[];
  const auditOf = async (admin: string, action: string) => expectStatus(running!.api(admin).get(`/v1/audit?action=${action}&limit=1000`), 200);

  it('mints the first bootstrap token as an audit event by system:bootstrap', async () => {
    running = await bootControl(dataDir);
    const admin = running.tokenFile();

    const [bootstrap] = await bootstrapTokens(admin);
    const created = await auditOf(admin, 'token.create');
    expect(created).toEqual([expect.objectContaining({ actor: 'system:bootstrap', subject: bootstrap.id, after: expect.objectContaining({ role: 'admin' }) })]);
  });

  it('keeps a revoked generated token revoked, and mints none while another admin token stands', async () => {
    running = await bootControl(dataDir);
    const generated = running.tokenFile();
    const other = (await expectStatus(running.api(generated).post('/v1/tokens', { kind: 'api', role: 'admin', name: 'second admin' }), 201)).token;
    const [bootstrap] = await bootstrapTokens(generated);
    await expectStatus(running.api(other).delete(`/v1/tokens/${bootstrap.id}`), 200);
    await running.stop();

    running = await bootControl(dataDir);

    expectProblem(await running.api(generated).get('/v1/tenants'), 401, 'Unauthenticated');
    const bootstraps = await bootstrapTokens(other);
    expect(bootstraps).toEqual([expect.objectContaining({ id: bootstrap.id, revokedAt: expect.any(String) })]);
    expect((await auditOf(other, 'token.create')).filter((event: { actor: string }) => event.actor === 'system:bootstrap')).toHaveLength(1);
  });

  it('mints a new bootstrap token, audited, only once no unrevoked admin token is left; the revoked secret stays refused', async () => {
    running = await bootControl(dataDir);
    const generated = running.tokenFile();
    const [bootstrap] = await bootstrapTokens(generated);
    await expectStatus(running.api(generated).delete(`/v1/tokens/${bootstrap.id}`), 200);
    await running.stop();

    running = await bootControl(dataDir);

    const minted = running.tokenFile();
    expect(minted).not.toBe(generated);
    expectProblem(await running.api(generated).get('/v1/tenants'), 401, 'Unauthenticated');
    const bootstraps = await bootstrapTokens(minted);
    expect(bootstraps).toEqual([
      expect.objectContaining({ id: bootstrap.id, revokedAt: expect.any(String) }),
      expect.objectContaining({ id: expect.not.stringMatching(bootstrap.id), revokedAt: null }),
    ]);
    const created = (await auditOf(minted, 'token.create')).map((event: { actor: string; subject: string }) => [event.actor, event.subject]);
    expect(created).toEqual(expect.arrayContaining([['system:bootstrap', bootstraps[1].id]]));
    await expect(expectStatus(running.api(minted).get('/v1/audit/verify'), 200)).resolves.toMatchObject({ intact: true });
  });

  it('refuses to start with DCM_ADMIN_TOKEN equal to a revoked secret, and the secret stays refused', async () => {
    running = await bootControl(dataDir, { adminToken: CONFIGURED });
    const other = (await expectStatus(running.api(CONFIGURED).post('/v1/tokens', { kind: 'api', role: 'admin', name: 'second admin' }), 201)).token;
    const [bootstrap] = await bootstrapTokens(CONFIGURED);
    await expectStatus(running.api(other).delete(`/v1/tokens/${bootstrap.id}`), 200);
    await running.stop();
    running = undefined;

    await expect(bootControl(dataDir, { adminToken: CONFIGURED })).rejects.toThrow(/DCM_ADMIN_TOKEN \(adminToken\): is the secret of a revoked token/);

    running = await bootControl(dataDir);
    expectProblem(await running.api(CONFIGURED).get('/v1/tenants'), 401, 'Unauthenticated');
    expect(await bootstrapTokens(other)).toEqual([expect.objectContaining({ id: bootstrap.id, revokedAt: expect.any(String) })]);
  });

  it("refuses to start with DCM_ADMIN_TOKEN equal to another live token's secret, and changes nothing", async () => {
    running = await bootControl(dataDir);
    const generated = running.tokenFile();
    const viewer = await expectStatus(running.api(generated).post('/v1/tokens', { kind: 'api', role: 'viewer', name: 'dashboard' }), 201);
    // The tokens as they stand, but when each was last used (the listing itself uses the admin token).
    const tokens = async () =>
      (await expectStatus(running!.api(generated).get('/v1/tokens'), 200)).map(({ lastUsedAt: _, ...token }: Token & { lastUsedAt: unknown }) => token);
    const before = await tokens();
    await running.stop();
    running = undefined;

    await expect(bootControl(dataDir, { adminToken: viewer.token })).rejects.toThrow(
      `DCM_ADMIN_TOKEN (adminToken): is the secret of another token (api token ${viewer.id}, "dashboard"), which a bootstrap admin token cannot share`,
    );

    running = await bootControl(dataDir);
    expect(await tokens()).toEqual(before);
    expectProblem(await running.api(viewer.token).post('/v1/tenants', { slug: 'newport', name: 'Newport' }), 403, 'Forbidden');
  });

  it('says why on stderr and exits 2 when the process is started with a revoked DCM_ADMIN_TOKEN', async () => {
    running = await bootControl(dataDir, { adminToken: CONFIGURED });
    const [bootstrap] = await bootstrapTokens(CONFIGURED);
    await expectStatus(running.api(CONFIGURED).delete(`/v1/tokens/${bootstrap.id}`), 200);
    await running.stop();
    running = undefined;

    const control = spawnControl({ port: await freePort(), dataDir, adminToken: CONFIGURED, env: { DCM_LOG_LEVEL: 'silent' } });
    const [code] = await once(control.process, 'close');

    expect({ code, output: control.output() }).toEqual({
      code: 2,
      output: expect.stringContaining('DCM_ADMIN_TOKEN (adminToken): is the secret of a revoked token, and a revoked token is never accepted again'),
    });
    expect(existsSync(join(dataDir, 'admin.token')) && readFileSync(join(dataDir, 'admin.token'), 'utf8')).toBe(`${CONFIGURED}\n`);
  }, 60_000);
});

describe('tokens of an offboarded tenant', () => {
  it('are revoked at start, audited, when found valid (issued before offboarding revoked them, or edited back)', async () => {
    const dataDir = createDataDir();
    let running: ControlProcess | undefined;
    try {
      running = await bootControl(dataDir);
      const admin = running.api(running.tokenFile());
      await createTenant(admin, 'newport');
      const tenantToken = await expectStatus(admin.post('/v1/tokens', { kind: 'api', role: 'tenant', tenant: 'newport' }), 201);
      await expectStatus(admin.delete('/v1/tenants/newport'), 200);
      await running.stop();
      running = undefined;
      const database = new Database(join(dataDir, 'dcm.sqlite'));
      database.prepare('UPDATE tokens SET revoked_at = NULL WHERE id = ?').run(tenantToken.id);
      database.close();

      running = await bootControl(dataDir);

      expectProblem(await running.api(tenantToken.token).get('/v1/tenants/newport'), 401, 'Unauthenticated');
      const revocations = await expectStatus(running.api(running.tokenFile()).get(`/v1/audit?action=token.revoke&subject=${tenantToken.id}`), 200);
      expect(revocations.map((event: { actor: string }) => event.actor)).toEqual(['system:offboarding', expect.stringMatching(/^token:/)]);
    } finally {
      await running?.stop();
      removeDataDir(dataDir);
    }
  });
});

describe('offboarding a tenant', () => {
  let control: RunningControl;

  beforeAll(async () => {
    control = await startControl();
  });

  afterAll(async () => {
    await control?.close();
  });

  it("revokes the tenant's tokens, each revocation audited, and leaves other tenants' tokens alone", async () => {
    await createTenant(control.api, 'blaenau-gwent');
    await createTenant(control.api, 'torfaen');
    const issue = async (tenant: string) => expectStatus(control.api.post('/v1/tokens', { kind: 'api', role: 'tenant', tenant }), 201);
    const leaving = [await issue('blaenau-gwent'), await issue('blaenau-gwent')];
    const staying = await issue('torfaen');
    // Cached by a first use, as a busy token would be.
    for (const token of [...leaving, staying]) await expectStatus(control.api.as(token.token).get('/v1/tenants'), 200);

    await expectStatus(control.api.delete('/v1/tenants/blaenau-gwent'), 200);

    for (const token of leaving) expectProblem(await control.api.as(token.token).get('/v1/tenants/blaenau-gwent'), 401, 'Unauthenticated');
    await expectStatus(control.api.as(staying.token).get('/v1/tenants/torfaen'), 200);
    const listed: Token[] = await expectStatus(control.api.get('/v1/tokens'), 200);
    expect(listed.filter((token) => token.tenant === 'blaenau-gwent').map((token) => token.revokedAt)).toEqual([expect.any(String), expect.any(String)]);
    const revocations = await expectStatus(control.api.get('/v1/audit?action=token.revoke'), 200);
    expect(revocations.map((event: { subject: string }) => event.subject).sort()).toEqual(leaving.map((token) => token.id).sort());
  });
});
