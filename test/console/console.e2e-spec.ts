import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { axeViolations, launchBrowser, TestBrowser } from '../support/browser';
import { RunningControl, startControl } from '../support/control';
import { createHost, createTenant, expectStatus, hostFacts, setQuotas } from '../support/facility';

/**
 * Screenshots of the main pages, saved by every run to test/output/screenshots (not kept in git), or with
 * DCM_UPDATE_SCREENSHOTS=1 to docs/screenshots, which the README shows: a run leaves the checkout as it was.
 */
const SCREENSHOTS = join(__dirname, '..', process.env.DCM_UPDATE_SCREENSHOTS === '1' ? '../docs/screenshots' : 'output/screenshots');
const HOSTS = 60;

// A browser on a busy 2-core machine: a test that walks a dozen pages, each checked by axe, takes tens of seconds.
jest.setTimeout(180_000);

/** Whether the error summary has focus (GOV.UK Frontend moves it there when the page loads with errors). */
const errorSummaryFocused = (page: Page) => page.evaluate<boolean>("document.activeElement.classList.contains('govuk-error-summary')");

describe('web console in a real browser', () => {
  let control: RunningControl;
  let browser: TestBrowser;
  const tokens = {} as Record<'operator' | 'viewer' | 'tenant', { id: string; token: string }>;

  const issue = (body: Record<string, unknown>) => expectStatus(control.api.post('/v1/tokens', body), 201) as Promise<{ id: string; token: string }>;
  const auditActions = async (query: string) =>
    ((await expectStatus(control.api.get(`/v1/audit?${query}&limit=1000`), 200)) as { action: string; actor: string; subject: string }[]).map(
      (event) => event.action,
    );

  /** What the browser reported as errors (a script or style the CSP refused, a failed request), by page. */
  const browserErrors = new WeakMap<Page, string[]>();

  async function signIn(context: BrowserContext, token: string): Promise<Page> {
    const page = await context.newPage();
    const errors: string[] = [];
    browserErrors.set(page, errors);
    // A page's own status (a 400 form, a 404) is the test's to check; a script, style or image that fails is an error.
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) errors.push(message.text());
    });
    page.on('response', (response) => {
      if (response.status() >= 400 && response.request().resourceType() !== 'document') errors.push(`${response.status()} ${response.url()}`);
    });
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${control.url}/`);
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    await page.fill('#token', token);
    await follow(page, page.getByRole('button', { name: /^(Sign in|Mewngofnodi)$/ }));
    return page;
  }

  /** Clicks, then waits for the page the click led to to load, whole, before it is read (a click waits only for it to commit). */
  async function follow(page: Page, target: Locator): Promise<void> {
    await target.click();
    await page.waitForLoadState();
  }

  /** axe's WCAG A/AA rules find nothing on the page, the browser reported no error, and it is saved as a screenshot. */
  async function checkPage(page: Page, screenshot?: string, options: { fullPage?: boolean } = {}): Promise<void> {
    await expect(axeViolations(page)).resolves.toEqual([]);
    expect(browserErrors.get(page) ?? []).toEqual([]);
    // Join tokens are secrets, even a test's: masked in the saved picture.
    if (screenshot)
      await page.screenshot({ path: join(SCREENSHOTS, `${screenshot}.png`), fullPage: options.fullPage ?? true, mask: [page.locator('.dcm-token')] });
  }

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    control = await startControl();
    await createTenant(control.api, 'torfaen', { name: 'Torfaen County Borough Council', contact: 'ict@torfaen.example.gov.uk' });
    await createTenant(control.api, 'gwent-police', { name: 'Gwent Police', classification: 'OFFICIAL-SENSITIVE' });
    await setQuotas(control.api, 'torfaen', { vcpu: 64, memory: '256GiB', storage: '10TiB' });
    await setQuotas(control.api, 'gwent-police', { vcpu: 32 });
    for (let index = 1; index <= HOSTS; index++) {
      const name = `blv-c${String(index).padStart(2, '0')}`;
      await createHost(
        control.api,
        name,
        { vcpu: { total: 64, reserved: 4 }, memory: { total: '512GiB' }, storage: { total: '8TB' } },
        { site: index % 2 ? 'blv-hall-a' : 'blv-hall-b', rack: `r${index % 5}`, accreditation: index % 3 ? 'OFFICIAL' : 'OFFICIAL-SENSITIVE' },
      );
    }
    await expectStatus(
      control.api.post('/v1/allocations', { tenant: 'torfaen', resources: { vcpu: 8, memory: '32GiB' }, host: 'blv-c01', description: 'Revenues' }),
      201,
    );
    tokens.operator = await issue({ kind: 'api', role: 'operator', name: 'SRS operations' });
    tokens.viewer = await issue({ kind: 'api', role: 'viewer' });
    tokens.tenant = await issue({ kind: 'api', role: 'tenant', tenant: 'torfaen' });
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await control?.close();
  });

  it('sends / to the console, refuses a bad token with the error summary focused, and signs in with a good one (both audited)', async () => {
    const context = await browser.context();
    const page = await signIn(context, 'dcm_not-a-token-this-control-ever-issued');
    await expect(page.locator('.govuk-error-summary').isVisible()).resolves.toBe(true);
    await expect(errorSummaryFocused(page)).resolves.toBe(true);
    await expect(page.locator('.govuk-error-summary a[href="#token"]').textContent()).resolves.toContain('Enter a valid dcm token');
    await expect(page.title()).resolves.toMatch(/^Error: /);
    await checkPage(page, 'sign-in-error');
    await expect(auditActions('action=console.sign_in_failed')).resolves.toEqual(['console.sign_in_failed']);

    await page.fill('#token', tokens.operator.token);
    await follow(page, page.getByRole('button', { name: 'Sign in' }));
    expect(new URL(page.url()).pathname).toBe('/console/');
    await expect(page.locator('h1').textContent()).resolves.toBe('Facility overview');
    await expect(auditActions(`action=console.sign_in&subject=${tokens.operator.id}`)).resolves.toEqual(['console.sign_in']);
    await context.close();
  });

  it('shows the facility overview with the figures of GET /v1/capacity, in text beside each meter', async () => {
    const context = await browser.context();
    const page = await signIn(context, tokens.viewer.token);
    const capacity = await expectStatus(control.api.get('/v1/capacity'), 200);
    const facility = page.locator('table').first();
    const vcpu = facility.locator('tr', { hasText: 'vCPU' });
    await expect(vcpu.locator('td').allTextContents()).resolves.toEqual([
      capacity.facility.resources.vcpu.capacity.toLocaleString('en-GB'),
      capacity.facility.resources.vcpu.allocated.toLocaleString('en-GB'),
      'Not measured',
      capacity.facility.resources.vcpu.free.toLocaleString('en-GB'),
      expect.stringContaining('0% allocated, Not measured used'),
    ]);
    await expect(page.locator('.govuk-summary-list').first().textContent()).resolves.toMatch(new RegExp(`Up\\s+${HOSTS}`));
    await expect(page.locator('caption', { hasText: 'Site blv-hall-b' }).count()).resolves.toBe(1);
    await checkPage(page, 'overview');
    await context.close();
  });

  it('lists hosts with filters and paging, page for page as GET /v1/hosts, and shows a host', async () => {
    const context = await browser.context();
    const page = await signIn(context, tokens.viewer.token);
    await page.goto(`${control.url}/console/hosts`);
    await expect(page.locator('[role=status]').textContent()).resolves.toBe(`Showing hosts 1 to 50 of ${HOSTS}`);
    await checkPage(page, 'hosts', { fullPage: false });
    await follow(page, page.getByRole('link', { name: 'Next' }));
    const names = await page.locator('tbody th').allTextContents();
    const api = await expectStatus(control.api.get('/v1/hosts?limit=50&offset=50'), 200);
    expect(names.map((name) => name.trim())).toEqual(api.map((host: { name: string }) => host.name));

    await page.selectOption('#site', 'blv-hall-b');
    await page.selectOption('#accreditation', 'OFFICIAL-SENSITIVE');
    await follow(page, page.getByRole('button', { name: 'Apply filters' }));
    const filtered = await expectStatus(control.api.get('/v1/hosts?site=blv-hall-b&accreditation=OFFICIAL-SENSITIVE'), 200);
    expect((await page.locator('tbody th').allTextContents()).map((name) => name.trim())).toEqual(filtered.map((host: { name: string }) => host.name));

    await page.goto(`${control.url}/console/hosts/blv-c01`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Host blv-c01');
    await expect(page.locator('table', { hasText: 'Revenues' }).count()).resolves.toBe(1);
    await checkPage(page);
    await context.close();
  });

  it("shows an organisation with quotas as GET /v1/tenants/:slug/quotas has them, grants and revokes a surge, and downloads its showback as the API's CSV", async () => {
    const context = await browser.context();
    const page = await signIn(context, tokens.operator.token);
    await page.goto(`${control.url}/console/organisations`);
    await checkPage(page);
    await follow(page, page.getByRole('link', { name: 'Torfaen County Borough Council' }));
    const quotas = (await expectStatus(control.api.get('/v1/tenants/torfaen/quotas'), 200)).quotas;
    const vcpuRow = page.locator('table', { hasText: 'Quotas' }).locator('tr', { hasText: 'vCPU' });
    const cells = async () => (await vcpuRow.locator('td').allTextContents()).map((text) => text.trim());
    await expect(cells()).resolves.toEqual([String(quotas.vcpu.limit), String(quotas.vcpu.granted), String(quotas.vcpu.allocated), 'Not measured', 'OK']);
    await checkPage(page, 'organisation');

    await follow(page, page.getByRole('button', { name: 'Grant a surge' }));
    await follow(page, page.getByRole('button', { name: 'Grant the surge' }));
    await expect(page.locator('.govuk-error-summary li').count()).resolves.toBe(4);
    await checkPage(page);
    await page.getByLabel('vCPU').check();
    await page.fill('#amount', '16');
    const expiry = new Date(Date.now() + 7 * 86_400_000);
    await page.fill('#expires-day', String(expiry.getUTCDate()));
    await page.fill('[name=expires-month]', String(expiry.getUTCMonth() + 1));
    await page.fill('[name=expires-year]', String(expiry.getUTCFullYear()));
    await page.fill('#reason', 'Major incident INC-4711');
    await follow(page, page.getByRole('button', { name: 'Grant the surge' }));
    await expect(page.locator('.govuk-notification-banner').textContent()).resolves.toContain('The surge grant is running.');
    const [grant] = await expectStatus(control.api.get('/v1/tenants/torfaen/grants'), 200);
    expect(grant).toMatchObject({ resources: { vcpu: 16 }, reason: 'Major incident INC-4711', createdBy: `token:${tokens.operator.id}` });
    // Until the end of the day given (UTC): midnight after it.
    expect(grant.expiresAt).toBe(new Date(Date.UTC(expiry.getUTCFullYear(), expiry.getUTCMonth(), expiry.getUTCDate() + 1)).toISOString());
    await expect(cells()).resolves.toEqual(['64', '16', '8', 'Not measured', 'OK']);

    await follow(page, page.getByRole('button', { name: /^Revoke/ }));
    await expect(page.locator('.govuk-notification-banner').textContent()).resolves.toContain('The surge grant has ended.');
    await expect(expectStatus(control.api.get('/v1/tenants/torfaen/grants'), 200)).resolves.toEqual([]);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download this period as CSV' }).click()]);
    const csv = await new Promise<string>((resolve, reject) => {
      void download.createReadStream().then((stream) => {
        let text = '';
        stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        stream.on('end', () => resolve(text));
        stream.on('error', reject);
      }, reject);
    });
    const href = new URL((await page.getByRole('link', { name: 'Download this period as CSV' }).getAttribute('href'))!, control.url);
    const api = await control.api.get(`/v1/reports/showback?from=${href.searchParams.get('from')}&to=${href.searchParams.get('to')}&format=csv`);
    // The same rows and columns; unit-hours of the running allocation grow between the two requests.
    const rows = (text: string) =>
      text
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter((line, index) => line !== '' && (index === 0 || line.startsWith('torfaen,')))
        .map((line) => line.split(',').map((cell) => (/^\d+\.\d+$/.test(cell) ? Number(cell) : cell)));
    const downloaded = rows(csv);
    const expected = rows(api.body as string);
    expect(downloaded.map((row) => row.slice(0, 3))).toEqual(expected.map((row) => row.slice(0, 3)));
    expect(downloaded.length).toBeGreaterThan(1);
    for (const [index, row] of downloaded.entries()) {
      for (const [column, cell] of row.entries()) {
        if (typeof cell === 'number') expect(Math.abs(cell - (expected[index][column] as number)) / cell).toBeLessThan(0.05);
        else expect(cell).toBe(expected[index][column]);
      }
    }
    await context.close();
  });

  it("shows a tenant token only its own organisation: another one's page is not found, operator pages are forbidden", async () => {
    const context = await browser.context();
    const page = await signIn(context, tokens.tenant.token);
    expect(new URL(page.url()).pathname).toBe('/console/organisations/torfaen');
    await expect(page.locator('nav[aria-label=Menu] a').allTextContents()).resolves.toEqual(
      expect.arrayContaining([expect.stringContaining('Your organisation')]),
    );
    await checkPage(page, 'tenant-view');
    for (const [path, status] of [
      ['/console/organisations/gwent-police', 404],
      ['/console/organisations/no-such-organisation', 404],
      ['/console/organisations/gwent-police/showback.csv', 404],
      ['/console/', 303],
      ['/console/hosts', 403],
      ['/console/hosts/blv-c01', 403],
      ['/console/audit', 403],
      ['/console/onboard/details', 403],
      ['/console/organisations/torfaen/grants/new', 403],
    ] as const) {
      const response = await page.request.get(`${control.url}${path}`, { maxRedirects: 0 });
      expect([path, response.status()]).toEqual([path, status]);
    }
    await page.goto(`${control.url}/console/organisations/gwent-police`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Page not found');
    await checkPage(page);
    await page.goto(`${control.url}/console/organisations`);
    await expect(page.locator('tbody tr').count()).resolves.toBe(1);
    await context.close();
  });

  it('ends the session when its token is revoked, and at sign-out (audited), after which pages ask to sign in again', async () => {
    const context = await browser.context();
    const revoked = await issue({ kind: 'api', role: 'viewer' });
    const page = await signIn(context, revoked.token);
    await expect(page.locator('h1').textContent()).resolves.toBe('Facility overview');
    await expectStatus(control.api.delete(`/v1/tokens/${revoked.id}`), 200);
    await page.goto(`${control.url}/console/hosts`);
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');

    const other = await signIn(await browser.context(), tokens.viewer.token);
    await other.getByRole('button', { name: 'Sign out' }).click();
    await expect(other.locator('h1').textContent()).resolves.toBe('You have signed out');
    await checkPage(other);
    await other.goto(`${control.url}/console/`);
    expect(new URL(other.url()).pathname).toBe('/console/sign-in');
    await expect(auditActions(`action=console.sign_out&subject=${tokens.viewer.id}`)).resolves.toEqual(['console.sign_out']);
    await context.close();
  });

  it('onboards an organisation with the keyboard only, in English: focus goes to the error summary, then one submit creates it all', async () => {
    const context = await browser.context();
    const page = await signIn(context, tokens.operator.token);
    await page.goto(`${control.url}/console/onboard/details`);
    await checkPage(page);
    /** Enter on a form: the browser submits it and the answer (the next page, or this one with errors) loads. */
    const submit = () => Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    const focused = () => page.evaluate<string>('document.activeElement.id || document.activeElement.tagName');
    /** Tabs forward until the element with this id has focus (the skip link, the navigation and the back link come first). */
    const tabTo = async (id: string) => {
      for (let presses = 0; presses < 40 && (await focused()) !== id; presses++) await page.keyboard.press('Tab');
      expect(await focused()).toBe(id);
    };
    await tabTo('name');
    await page.keyboard.type('Blaenau Gwent County Borough Council');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Not A Slug!');
    await submit();
    await expect(errorSummaryFocused(page)).resolves.toBe(true);
    await expect(page.locator('.govuk-error-summary').textContent()).resolves.toContain('Enter an identifier');
    await checkPage(page, 'onboard-error');
    // The summary's link moves focus to the field at fault.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await expect(focused()).resolves.toBe('slug');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('blaenau-gwent');
    await page.keyboard.press('Shift+Tab');
    await expect(focused()).resolves.toBe('name');
    await submit();

    expect(new URL(page.url()).pathname).toBe('/console/onboard/classification');
    await checkPage(page);
    await tabTo('classification');
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab');
    await expect(focused()).resolves.toBe('isolation');
    await page.keyboard.press('Space');
    await submit();

    expect(new URL(page.url()).pathname).toBe('/console/onboard/quotas');
    await checkPage(page);
    await tabTo('vcpu');
    await page.keyboard.type('128');
    await page.keyboard.press('Tab');
    await page.keyboard.type('512GiB');
    await page.keyboard.press('Tab');
    await page.keyboard.type('50TiB');
    await submit();

    expect(new URL(page.url()).pathname).toBe('/console/onboard/join-tokens');
    await checkPage(page);
    await tabTo('count');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('2');
    await submit();

    expect(new URL(page.url()).pathname).toBe('/console/onboard/check');
    await checkPage(page, 'onboard-check');
    await expect(page.locator('.govuk-summary-list').first().textContent()).resolves.toContain('blaenau-gwent');
    await tabTo('submit');
    await submit();
    await checkPage(page, 'onboard-done');
    const shown = await page.locator('code.dcm-token').allTextContents();
    expect(shown).toHaveLength(2);

    await expect(expectStatus(control.api.get('/v1/tenants/blaenau-gwent'), 200)).resolves.toMatchObject({
      name: 'Blaenau Gwent County Borough Council',
      classification: 'OFFICIAL',
      isolation: 'shared',
    });
    const quotas = (await expectStatus(control.api.get('/v1/tenants/blaenau-gwent/quotas'), 200)).quotas;
    expect([quotas.vcpu.limit, quotas.memory.limit, quotas.storage.limit]).toEqual([128, 512 * 2 ** 30, 50 * 2 ** 40]);
    // Each join token shown enrols a host, once.
    const enrolled = await control.api.post('/v1/agents/enrol', { joinToken: shown[0], hostname: 'bg-h01', facts: hostFacts('bg-h01') }, { token: null });
    expect(enrolled.status).toBe(201);
    const created = await expectStatus(control.api.get(`/v1/audit?actor=token:${tokens.operator.id}&limit=1000`), 200);
    expect(
      created
        .filter((event: { action: string }) => ['tenant.create', 'quota.set', 'token.create'].includes(event.action))
        .map((event: { action: string }) => event.action)
        .sort(),
    ).toEqual(['quota.set', 'tenant.create', 'token.create', 'token.create']);
    // The secrets were shown once: the page is gone from the session, and reloading the answers starts again.
    await page.goto(`${control.url}/console/onboard/check`);
    expect(new URL(page.url()).pathname).toBe('/console/onboard/details');
    await context.close();
  });

  it('onboards in Welsh, and a refusal (identifier taken) comes back as an error summary with nothing changed', async () => {
    const context = await browser.context();
    const page = await signIn(context, tokens.operator.token);
    await page.goto(`${control.url}/console/onboard/details`);
    await follow(page, page.getByRole('link', { name: 'Cymraeg' }));
    expect(new URL(page.url()).pathname).toBe('/console/onboard/details');
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('cy');
    await expect(page.locator('h1').textContent()).resolves.toBe('Beth yw’r sefydliad?');
    await checkPage(page);
    await page.fill('#name', 'Heddlu Gwent');
    await page.fill('#slug', 'gwent-police');
    await follow(page, page.getByRole('button', { name: 'Parhau' }));
    await page.getByLabel('SWYDDOGOL-SENSITIF (OFFICIAL-SENSITIVE)').check();
    await page.getByLabel('Gweinyddion penodedig').check();
    await follow(page, page.getByRole('button', { name: 'Parhau' }));
    await page.fill('#vcpu', 'llawer');
    await follow(page, page.getByRole('button', { name: 'Parhau' }));
    await expect(page.locator('.govuk-error-summary__title').textContent()).resolves.toContain('Mae problem wedi codi');
    await expect(page.locator('#vcpu-error').textContent()).resolves.toContain('Rhowch vCPUs fel rhif cyfan');
    await checkPage(page, 'cy-onboard-error');
    await page.fill('#vcpu', '16');
    await follow(page, page.getByRole('button', { name: 'Parhau' }));
    await page.fill('#count', '1');
    await follow(page, page.getByRole('button', { name: 'Parhau' }));
    await checkPage(page, 'cy-onboard-check');

    const eventsBefore = (await expectStatus(control.api.get('/v1/audit/anchor'), 200)).seq;
    await follow(page, page.getByRole('button', { name: 'Derbyn y sefydliad' }));
    await expect(page.locator('.govuk-error-summary').textContent()).resolves.toContain('Mae’r dynodwr gwent-police wedi’i gymryd');
    await checkPage(page);
    // Nothing changed: no event, gwent-police as it was, no new join token.
    await expect(expectStatus(control.api.get('/v1/audit/anchor'), 200)).resolves.toMatchObject({ seq: eventsBefore });
    await expect(expectStatus(control.api.get('/v1/tenants/gwent-police'), 200)).resolves.toMatchObject({ name: 'Gwent Police', isolation: 'shared' });

    await follow(page, page.getByRole('link', { name: /Newid\s+Dynodwr/ }));
    await page.fill('#slug', 'heddlu-gwent');
    await follow(page, page.getByRole('button', { name: 'Parhau' }));
    expect(new URL(page.url()).pathname).toBe('/console/onboard/check');
    await follow(page, page.getByRole('button', { name: 'Derbyn y sefydliad' }));
    await expect(page.locator('.govuk-panel__title').textContent()).resolves.toContain('Sefydliad wedi’i dderbyn');
    await checkPage(page);
    await expect(expectStatus(control.api.get('/v1/tenants/heddlu-gwent'), 200)).resolves.toMatchObject({
      classification: 'OFFICIAL-SENSITIVE',
      isolation: 'dedicated',
    });
    await context.close();
  });

  it('has no axe violations on any page in Welsh either', async () => {
    const context = await browser.context();
    const page = await signIn(context, tokens.operator.token);
    await follow(page, page.getByRole('link', { name: 'Cymraeg' }));
    for (const path of [
      '/console/',
      '/console/hosts',
      '/console/hosts/blv-c01',
      '/console/organisations',
      '/console/organisations/torfaen',
      '/console/organisations/torfaen/grants/new',
      '/console/audit',
      '/console/onboard/classification',
      '/console/onboard/quotas',
      '/console/onboard/join-tokens',
      '/console/nothing-here',
    ]) {
      await page.goto(`${control.url}${path}`);
      await expect(page.locator('html').getAttribute('lang')).resolves.toBe('cy');
      await checkPage(page, path === '/console/' ? 'cy-overview' : undefined);
    }
    await context.close();
  });

  it('shows the audit log filtered and paged, with the chain verified', async () => {
    const context = await browser.context();
    const page = await signIn(context, tokens.viewer.token);
    await expect(expectStatus(control.api.get('/v1/audit/verify'), 200)).resolves.toMatchObject({ intact: true, continuous: true });
    await page.goto(`${control.url}/console/audit`);
    await expect(page.locator('.govuk-inset-text').textContent()).resolves.toContain('The log is intact');
    await checkPage(page, 'audit', { fullPage: false });
    await follow(page, page.getByRole('link', { name: 'Older events' }));
    const olderFirst = Number(await page.locator('tbody tr td').first().textContent());
    const newest = (await expectStatus(control.api.get('/v1/audit?limit=51'), 200)) as { seq: number }[];
    expect(olderFirst).toBe(newest[50].seq);
    await page.goto(`${control.url}/console/audit`);
    await page.fill('#action', 'host.create');
    await follow(page, page.getByRole('button', { name: 'Apply filters' }));
    const actions = await page.locator('tbody tr td:nth-child(4)').allTextContents();
    expect(new Set(actions)).toEqual(new Set(['host.create']));
    await page.fill('#action', 'Not An Action');
    await follow(page, page.getByRole('button', { name: 'Apply filters' }));
    await expect(page.locator('.govuk-error-summary').textContent()).resolves.toContain('Enter an action such as tenant.create');
    await checkPage(page);
    await context.close();
  });

  it('works without JavaScript: sign in, the error summary, onboarding and sign-out', async () => {
    const context = await browser.context({ javaScriptEnabled: false });
    const page = await signIn(context, tokens.operator.token);
    await expect(page.locator('body').getAttribute('class')).resolves.not.toContain('js-enabled');
    await page.goto(`${control.url}/console/onboard/details`);
    await follow(page, page.getByRole('button', { name: 'Continue' }));
    await expect(page.locator('.govuk-error-summary li').count()).resolves.toBe(2);
    await page.fill('#name', 'Monmouthshire County Council');
    await page.fill('#slug', 'monmouthshire');
    await follow(page, page.getByRole('button', { name: 'Continue' }));
    await follow(page, page.getByRole('button', { name: 'Continue' }));
    await page.fill('#vcpu', '8');
    await follow(page, page.getByRole('button', { name: 'Continue' }));
    await page.fill('#count', '0');
    await follow(page, page.getByRole('button', { name: 'Continue' }));
    await follow(page, page.getByRole('button', { name: 'Onboard the organisation' }));
    await expect(page.locator('.govuk-panel__title').textContent()).resolves.toContain('Organisation onboarded');
    await expect(page.locator('code.dcm-token').count()).resolves.toBe(0);
    await expect(expectStatus(control.api.get('/v1/tenants/monmouthshire/quotas'), 200)).resolves.toMatchObject({ quotas: { vcpu: { limit: 8 } } });
    await page.goto(`${control.url}/console/hosts?page=2`);
    const total = (await control.api.get('/v1/hosts?limit=1')).headers.get('x-total-count');
    await expect(page.locator('[role=status]').textContent()).resolves.toBe(`Showing hosts 51 to ${total} of ${total}`);
    await follow(page, page.getByRole('button', { name: 'Sign out' }));
    await expect(page.locator('h1').textContent()).resolves.toBe('You have signed out');
    await context.close();
  });
});
