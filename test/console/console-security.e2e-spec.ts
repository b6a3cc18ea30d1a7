import { RunningControl, startControl } from '../support/control';
import { createTenant, expectStatus } from '../support/facility';
import { expectProblem } from '../support/problems';
import { makeTestPki, trustingOnly } from '../support/tls';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** A browser's cookie jar, as far as the console needs one: name=value pairs kept from Set-Cookie. */
class Cookies {
  private readonly jar = new Map<string, string>();
  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
      if (value === '' || /max-age=0/i.test(line)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }
  header(): string {
    return [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** A console client without a browser: follows nothing, keeps cookies, reads the CSRF token from each page. */
class ConsoleClient {
  readonly cookies = new Cookies();
  csrf = '';
  constructor(private readonly url: string) {}

  async get(path: string): Promise<{ status: number; text: string; headers: Headers }> {
    const response = await fetch(`${this.url}${path}`, { headers: { cookie: this.cookies.header() }, redirect: 'manual' });
    this.cookies.take(response);
    const text = await response.text();
    this.csrf = /name="_csrf" value="([^"]+)"/.exec(text)?.[1] ?? this.csrf;
    return { status: response.status, text, headers: response.headers };
  }

  async post(path: string, fields: Record<string, string>, options: { csrf?: boolean } = {}): Promise<{ status: number; text: string; headers: Headers }> {
    const body = new URLSearchParams({ ...fields, ...(options.csrf === false ? {} : { _csrf: this.csrf }) }).toString();
    const response = await fetch(`${this.url}${path}`, { method: 'POST', headers: { ...FORM, cookie: this.cookies.header() }, body, redirect: 'manual' });
    this.cookies.take(response);
    return { status: response.status, text: await response.text(), headers: response.headers };
  }

  async signIn(token: string) {
    await this.get('/console/sign-in');
    return this.post('/console/sign-in', { token });
  }
}

describe('web console security', () => {
  let control: RunningControl;

  beforeAll(async () => {
    control = await startControl({ consoleSessionKey: 'a-console-session-key-of-at-least-32-characters' });
    await createTenant(control.api, 'torfaen');
  });

  afterAll(async () => {
    await control?.close();
  });

  it('sets the session as a sealed HttpOnly, SameSite=Strict cookie for /console only, without Secure over plain HTTP', async () => {
    const client = new ConsoleClient(control.url);
    const page = await client.get('/console/sign-in');
    const cookie = page.headers.getSetCookie().find((line) => line.startsWith('dcm_console='))!;
    expect(cookie).toMatch(/; Path=\/console(;|$)/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).not.toMatch(/; Secure/);
    const signedIn = await client.post('/console/sign-in', { token: control.adminToken });
    expect([signedIn.status, signedIn.headers.get('location')]).toEqual([303, '/console/']);
    // Sealed: neither the token nor its hash is readable in the cookie.
    expect(client.cookies.header()).not.toContain(control.adminToken);
    expect(client.cookies.header()).not.toMatch(/[0-9a-f]{64}/);
  });

  it('marks the session cookie Secure when control serves HTTPS', async () => {
    const pki = makeTestPki();
    const tls = await startControl({ tlsCertFile: pki.certFile, tlsKeyFile: pki.keyFile });
    try {
      const response = await fetch(`${tls.url}/console/sign-in`, { dispatcher: trustingOnly(pki.ca) } as RequestInit);
      expect(response.status).toBe(200);
      expect(response.headers.getSetCookie().find((line) => line.startsWith('dcm_console='))).toMatch(/; Secure/);
    } finally {
      await tls.close();
      pki.remove();
    }
  });

  it('puts a Content-Security-Policy on console pages whose only inline script carries its nonce, and one on /docs', async () => {
    const client = new ConsoleClient(control.url);
    const page = await client.get('/console/sign-in');
    const csp = page.headers.get('content-security-policy')!;
    const nonce = /script-src 'self' 'nonce-([0-9a-f]+)'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    expect(csp).toContain("frame-ancestors 'none'");
    const inline = [...page.text.matchAll(/<script(?![^>]*\bsrc=)([^>]*)>/g)].map((match) => match[1]);
    expect(inline).toEqual([` nonce="${nonce}"`]);
    expect(page.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    const again = await client.get('/console/sign-in');
    expect(again.headers.get('content-security-policy')).not.toContain(nonce);

    const docs = await fetch(`${control.url}/docs`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-security-policy')).toContain("script-src 'self'");
    // The API's own answers are left as they were.
    expect((await control.api.get('/v1/tenants')).headers.get('content-security-policy')).toBeNull();
  });

  it("refuses a form without its CSRF token, or with another session's, and changes nothing", async () => {
    const client = new ConsoleClient(control.url);
    await client.signIn(control.adminToken);
    await client.get('/console/organisations/torfaen/grants/new');
    const before = (await expectStatus(control.api.get('/v1/audit/anchor'), 200)).seq;
    const grant = { resourceClass: 'vcpu', amount: '1', reason: 'no csrf', 'expires-day': '1', 'expires-month': '1', 'expires-year': '2099' };
    const missing = await client.post('/console/organisations/torfaen/grants', grant, { csrf: false });
    expect(missing.status).toBe(403);
    expect(missing.text).toContain('You cannot see this page');
    const other = new ConsoleClient(control.url);
    await other.get('/console/sign-in');
    client.csrf = other.csrf;
    expect((await client.post('/console/organisations/torfaen/grants', grant)).status).toBe(403);
    expect((await client.post('/console/sign-out', {}, { csrf: false })).status).toBe(403);
    await expect(expectStatus(control.api.get('/v1/audit/anchor'), 200)).resolves.toMatchObject({ seq: before });
  });

  it('keeps /v1 JSON-only: a form-encoded body is answered 415 there', async () => {
    const response = await control.api.post('/v1/tenants', undefined, { raw: 'slug=caerphilly&name=Caerphilly', headers: FORM });
    expectProblem(response, 415, 'UnsupportedMediaType');
    expect((await control.api.get('/v1/tenants/caerphilly')).status).toBe(404);
  });

  it('limits failed sign-ins per address: after 10 in a minute the next attempt is refused without looking at the token', async () => {
    const limited = await startControl();
    try {
      const client = new ConsoleClient(limited.url);
      // Sign-ins that succeed do not count: an office behind one address signs in as often as it needs.
      for (let attempt = 1; attempt <= 12; attempt++) expect((await new ConsoleClient(limited.url).signIn(limited.adminToken)).status).toBe(303);
      for (let attempt = 1; attempt <= 10; attempt++) expect((await client.signIn('dcm_wrong')).status).toBe(401);
      const refused = await client.signIn(limited.adminToken);
      expect(refused.status).toBe(429);
      expect(refused.text).toContain('Too many sign-in attempts');
      const failures = await expectStatus(limited.api.get('/v1/audit?action=console.sign_in_failed&limit=100'), 200);
      expect(failures).toHaveLength(10);
    } finally {
      await limited.close();
    }
  });

  it("counts a signed-in user's pages against their token's rate limit, not against their address's", async () => {
    const limited = await startControl({ rateLimitPerMinute: 20 });
    try {
      const user = new ConsoleClient(limited.url);
      await user.signIn(limited.adminToken); // 2 requests of this address
      const pages = await Promise.all(Array.from({ length: 19 }, () => user.get('/console/hosts')));
      expect(pages.map((page) => page.status)).toEqual(Array(19).fill(200));
      const anonymous = new ConsoleClient(limited.url);
      const signInPages = [];
      for (let request = 0; request < 18; request++) signInPages.push((await anonymous.get('/console/sign-in')).status);
      expect(signInPages).toEqual([...Array(18).fill(200)]);
      expect((await anonymous.get('/console/sign-in')).status).toBe(429); // the address's 21st
      expect((await user.get('/console/hosts')).status).toBe(200); // the token's 20th
    } finally {
      await limited.close();
    }
  });

  it('opens a session sealed by another replica with the same key, and not one sealed with another key', async () => {
    const adminToken = 'dcm_shared-admin-token-of-both-replicas-000000';
    const key = { consoleSessionKey: 'the-key-every-replica-shares-0123456789abcdef' };
    const [first, second, otherKey] = await Promise.all([
      startControl({ adminToken, ...key }),
      startControl({ adminToken, ...key }),
      startControl({ adminToken, consoleSessionKey: 'a-different-key-on-a-misconfigured-replica-000' }),
    ]);
    try {
      const client = new ConsoleClient(first.url);
      await client.signIn(adminToken);
      const cookie = client.cookies.header();
      const onSecond = await fetch(`${second.url}/console/hosts`, { headers: { cookie }, redirect: 'manual' });
      expect(onSecond.status).toBe(200);
      const onOther = await fetch(`${otherKey.url}/console/hosts`, { headers: { cookie }, redirect: 'manual' });
      expect([onOther.status, onOther.headers.get('location')]).toEqual([303, '/console/sign-in']);
    } finally {
      await Promise.all([first.close(), second.close(), otherKey.close()]);
    }
  });

  it('ends the session when the tenant is offboarded (its tokens are revoked)', async () => {
    await createTenant(control.api, 'leaving');
    const tenantToken = await expectStatus(control.api.post('/v1/tokens', { kind: 'api', role: 'tenant', tenant: 'leaving' }), 201);
    const client = new ConsoleClient(control.url);
    expect((await client.signIn(tenantToken.token)).headers.get('location')).toBe('/console/organisations/leaving');
    expect((await client.get('/console/organisations/leaving')).status).toBe(200);
    await expectStatus(control.api.delete('/v1/tenants/leaving'), 200);
    const after = await client.get('/console/organisations/leaving');
    expect([after.status, after.headers.get('location')]).toEqual([303, '/console/sign-in']);
  });

  it('redirects / to /console/, and answers unknown console pages with a page, not problem details', async () => {
    const root = await fetch(`${control.url}/`, { redirect: 'manual' });
    expect([root.status, root.headers.get('location')]).toEqual([302, '/console/']);
    const missing = await fetch(`${control.url}/console/no-such-page`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^text\/html/);
  });
});
