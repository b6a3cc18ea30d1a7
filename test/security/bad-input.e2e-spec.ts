import { connect } from 'node:net';
import { join } from 'node:path';
import { SchedulerRegistry } from '@nestjs/schedule';
import { RequestOptions } from '../support/api-client';
import { RunningControl, startControl } from '../support/control';
import { createHost, createTenant, expectStatus, setQuotas, hostFacts } from '../support/facility';
import { PROBLEM_JSON } from '../support/problems';
import { aReport } from '../support/reports';
import { tableDigests } from '../support/sqlite-rows';

const GIB = 2 ** 30;
const UNKNOWN_ID = '00000000-0000-4000-8000-00000000dead';

/** Who sends a malformed request: the bootstrap admin (every API route), the enrolled agent (its reports), or nobody (enrolment). */
type Caller = 'admin' | 'agent' | 'none';

interface Malformed {
  /** The kind of hostility, for the failure message. */
  kind: string;
  method: string;
  path: string;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  caller?: Caller;
}

/** Requests Node's HTTP parser refuses before any route sees them, written to the socket as they are. */
const MALFORMED_HTTP: [string, (token: string) => string][] = [
  ['headers over 16 KiB', (token) => `POST /v1/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nX-Padding: ${'p'.repeat(20_000)}\r\n\r\n`],
  [
    'a control character in a header',
    (token) => `POST /v1/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nX-Name: a\u0001b\r\nContent-Length: 2\r\n\r\n{}`,
  ],
  ['not HTTP at all', () => 'HELLO THERE\r\n\r\n'],
  ['an HTTP version that does not exist', (token) => `POST /v1/tenants HTTP/9.9\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`],
  [
    'Content-Length and Transfer-Encoding together (request smuggling)',
    (token) =>
      `POST /v1/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
  ],
  [
    'a chunk size that is not hexadecimal',
    (token) =>
      `POST /v1/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
  ],
  ['a space in the path', (token) => `DELETE /v1/tenants/tor faen HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`],
];

/** Writes raw bytes to control and reads the answer until the server closes the connection. */
function sendRaw(url: string, request: string): Promise<{ status: number; contentType: string; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(request));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head, ...rest] = answer.split('\r\n\r\n');
      const contentType = /^content-type:\s*(.*)$/im.exec(head)?.[1] ?? '';
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), contentType, body: rest.join('\r\n\r\n') });
    });
  });
}

/** Signs of an answer that says more than it should: stack frames, file paths, SQL and driver errors, JS runtime errors. */
const LEAKS = [
  /\bat \S+ \(/,
  /node_modules|\/work\/|\/home\/|\/tmp\//,
  /\.(ts|js):\d+/,
  /SQLITE_|QueryFailedError|typeorm|syntax error|constraint failed|no such (table|column)/i,
  /\b(FROM|INTO|UPDATE|JOIN) "/,
  /TypeError|ReferenceError|RangeError|SyntaxError: |Cannot read propert|is not a function|undefined is not/,
];

const JOIN_FACTS = (hostname: string) => hostFacts(hostname);

/** Strings no name, slug, amount or description may be. */
const HOSTILE_STRINGS: [string, string][] = [
  ['SQL injection', "x'; DROP TABLE tenants; --"],
  ['SQL union', "' UNION SELECT secret_hash FROM tokens --"],
  ['SQL tautology', "1' OR '1'='1"],
  ['NUL byte', 'torfaen\u0000admin'],
  ['newline', 'torfaen\nadmin'],
  ['escape sequence', '\u001b[31mred\u001b[0m'],
  ['bell and backspace', 'bad\u0007\u0008name'],
  ['bidi override', 'evil\u202Egnp.exe'],
  ['lone surrogate', 'half\ud800pair'],
  ['path traversal', '../../etc/passwd'],
  ['NaN as a string', 'NaN'],
  ['Infinity as a string', 'Infinity'],
  ['huge string', 'x'.repeat(100_000)],
];

/** Numbers no amount, count or ratio may be (JSON has no NaN or Infinity literals: those come as raw bodies below). */
const HOSTILE_NUMBERS: [string, unknown][] = [
  ['negative', -1],
  ['fraction', 1.5],
  ['beyond 2^53', 2 ** 53 + 2],
  ['huge', 1e300],
  ['NaN as a string', 'NaN'],
  ['Infinity as a string', 'Infinity'],
  ['-Infinity as a string', '-Infinity'],
  ['exponent string', '1e3'],
  ['hex string', '0x10'],
  ['boolean', true],
  ['null', null],
  ['array', [1]],
  ['object', { value: 1 }],
];

/** Bodies that are not JSON at all, or JSON that no parser should take. */
const BROKEN_JSON: [string, string][] = [
  ['truncated object', '{"slug": "half-sent", "name": '],
  ['only a brace', '{'],
  ['single quotes', "{'slug': 'x'}"],
  ['trailing comma', '{"slug": "x",}'],
  ['NaN literal', '{"vcpu": NaN}'],
  ['Infinity literal', '{"vcpu": Infinity}'],
  ['comment', '{"vcpu": 1 /* more */}'],
  ['two documents', '{"a": 1}{"b": 2}'],
  ['unquoted key', '{vcpu: 1}'],
  ['NUL byte', '\u0000'],
  ['nesting 10,000 deep', '['.repeat(10_000)],
];

/** Keys that have polluted prototypes elsewhere. */
const PROTOTYPE_BODIES: [string, string][] = [
  ['__proto__ at the top', '{"__proto__": {"polluted": "yes"}}'],
  ['constructor.prototype at the top', '{"constructor": {"prototype": {"polluted": "yes"}}}'],
  ['__proto__ nested', '{"inner": {"__proto__": {"polluted": "yes"}}}'],
  ['prototype key', '{"prototype": {"polluted": "yes"}}'],
  ['constructor key', '{"constructor": "polluted"}'],
];

describe('hostile input', () => {
  let control: RunningControl;
  let agent: { agentId: string; agentToken: string };
  let joinToken: string;
  let viewerTokenId: string;
  let allocationId: string;
  let grantId: string;

  beforeAll(async () => {
    // The corpus is about validation; the rate limit has its own suite.
    control = await startControl({ rateLimitPerMinute: 0 });
    const { api } = control;
    // Only requests may change the database during the test: the scheduler's jobs (sampling, liveness…) are stopped.
    const scheduler = control.app.get(SchedulerRegistry);
    for (const name of scheduler.getIntervals()) scheduler.deleteInterval(name);

    await createTenant(api, 'torfaen', { contact: 'ict@torfaen.gov.uk' });
    await createTenant(api, 'blaenau-gwent');
    await createTenant(api, 'gwent-police', { isolation: 'dedicated', classification: 'SECRET' });
    await setQuotas(api, 'torfaen', { vcpu: 64, memory: '256GiB', storage: '20TiB' });
    await setQuotas(api, 'gwent-police', { vcpu: 32, memory: '128GiB' });
    await expectStatus(api.put('/v1/resource-classes/custom_gpu', { unit: 'count', description: 'GPUs' }), 200);
    await createHost(api, 'blv-c01', { vcpu: { total: 64, reserved: 4 }, memory: { total: '512GiB' }, storage: { total: '20TiB' } }, { rack: 'a03' });
    await createHost(api, 'blv-c02', { vcpu: { total: 32 }, memory: { total: '256GiB' } }, { labels: { model: 'PowerEdge R760' } });
    await createHost(api, 'blv-p01', { vcpu: { total: 32 }, memory: { total: '256GiB' } }, { accreditation: 'SECRET', dedicatedTenant: 'gwent-police' });
    const allocation = await expectStatus(
      api.post('/v1/allocations', { tenant: 'torfaen', resources: { vcpu: 8, memory: '32GiB' } }, { headers: { 'idempotency-key': 'setup-1' } }),
      201,
    );
    allocationId = allocation.id;
    const grant = { resources: { vcpu: 16 }, expiresAt: new Date(Date.now() + 7 * 86_400_000).toISOString(), reason: 'Migration of the revenues system' };
    grantId = (await expectStatus(api.post('/v1/tenants/torfaen/grants', grant), 201)).id;
    viewerTokenId = (await expectStatus(api.post('/v1/tokens', { kind: 'api', role: 'viewer', name: 'Grafana' }), 201)).id;
    // Uses left over, so that a malformed enrolment with a real join token could spend one if it were taken.
    joinToken = (await expectStatus(api.post('/v1/tokens', { kind: 'join', uses: 5 }), 201)).token;
    agent = await expectStatus(api.post('/v1/agents/enrol', { joinToken, hostname: 'blv-c03', facts: JOIN_FACTS('blv-c03') }, { token: null }), 201);
    await expectStatus(api.post(`/v1/agents/${agent.agentId}/reports`, aReport(1), { token: agent.agentToken }), 200);
  });

  afterAll(async () => {
    await control?.close();
  });

  /**
   * The write operations the API documents, so that routes added later are covered by the generic cases too, each with
   * real targets in its path (a request that got through would show in the database).
   */
  async function documentedWrites(): Promise<{ method: string; path: string }[]> {
    const document = (await control.api.get('/docs-json', { token: null })).body as { paths: Record<string, Record<string, unknown>> };
    const idFor = (path: string) =>
      path.startsWith('/v1/tokens/')
        ? viewerTokenId
        : path.startsWith('/v1/allocations/')
          ? allocationId
          : path.includes('/grants/')
            ? grantId
            : path.startsWith('/v1/agents/')
              ? agent.agentId
              : UNKNOWN_ID;
    const targets = (path: string): Record<string, string> => ({
      slug: 'torfaen',
      name: path.startsWith('/v1/resource-classes/') ? 'custom_gpu' : 'blv-c01',
      class: 'vcpu',
      id: idFor(path),
    });
    return Object.entries(document.paths)
      .filter(([path]) => path.startsWith('/v1/'))
      .flatMap(([path, methods]) =>
        Object.keys(methods)
          .map((method) => method.toUpperCase())
          .filter((method) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method))
          .map((method) => ({ method, path: path.replace(/\{(\w+)\}/g, (_, name: string) => targets(path)[name] ?? name) })),
      );
  }

  function corpus(writes: { method: string; path: string }[]): Malformed[] {
    const cases: Malformed[] = [];
    const add = (kind: string, method: string, path: string, body: unknown, extra: Partial<Malformed> = {}) =>
      cases.push({ kind, method, path, body, ...extra });
    const reports = `/v1/agents/${agent.agentId}/reports`;
    const callerOf = (path: string): Caller => (path === '/v1/agents/enrol' ? 'none' : path.includes('/reports') ? 'agent' : 'admin');

    // Every documented write route: bodies no parser takes, bodies of the wrong kind, prototype keys, unknown fields,
    // the wrong content type, and a body over the size limit. On DELETE routes the targets are real, so that a
    // request that got through would show in the database.
    for (const write of writes) {
      const path = write.path;
      const caller = callerOf(path);
      for (const [kind, raw] of BROKEN_JSON) add(`broken JSON: ${kind}`, write.method, path, undefined, { raw, caller });
      for (const [kind, raw] of PROTOTYPE_BODIES.slice(0, 2)) add(`prototype key: ${kind}`, write.method, path, undefined, { raw, caller });
      add('oversized body', write.method, path, { padding: 'x'.repeat(1024 * 1024 + 1) }, { caller });
      add('form-encoded body', write.method, path, undefined, {
        raw: 'slug=x&name=y',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        caller,
      });
      add('XML body', write.method, path, undefined, { raw: '<tenant slug="x"/>', headers: { 'content-type': 'application/xml' }, caller });
      if (write.method === 'DELETE') continue;
      add('text/plain body', write.method, path, undefined, { raw: '{"slug": "x"}', headers: { 'content-type': 'text/plain' }, caller });
      for (const [kind, raw] of PROTOTYPE_BODIES.slice(2)) add(`prototype key: ${kind}`, write.method, path, undefined, { raw, caller });
      add('valid JSON nested 100,000 deep', write.method, path, undefined, { raw: `{"inner": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`, caller });
      for (const [kind, body] of [
        ['an array', [{ slug: 'x' }]],
        ['a string', 'torfaen'],
        ['a number', 42],
        ['null', null],
        ['true', true],
        ['an unknown property', { noSuchField: 1 }],
      ] as [string, unknown][])
        add(`wrong type: body is ${kind}`, write.method, path, undefined, { raw: JSON.stringify(body), caller });
    }

    // Tenants.
    const tenant = { slug: 'newport', name: 'Newport City Council', contact: 'ict@newport.gov.uk' };
    for (const [kind, slug] of [
      ...HOSTILE_STRINGS,
      ['upper case', 'Newport'],
      ['too long', 'n'.repeat(64)],
      ['leading hyphen', '-newport'],
      ['empty', ''],
      ['unicode', 'casnewydd-ŵ'],
      ['number', 42],
      ['null', null],
    ] as [string, unknown][])
      add(`tenant slug: ${kind}`, 'POST', '/v1/tenants', { ...tenant, slug });
    for (const [kind, name] of [
      ...HOSTILE_STRINGS.filter(([kind]) => !kind.includes('as a string') && kind !== 'path traversal' && !kind.startsWith('SQL')),
      ['empty', ''],
      ['blank', '   '],
      ['201 characters', 'n'.repeat(201)],
      ['number', 7],
      ['object', { en: 'x' }],
    ] as [string, unknown][]) {
      add(`tenant name: ${kind}`, 'POST', '/v1/tenants', { ...tenant, name });
      add(`tenant name: ${kind}`, 'PATCH', '/v1/tenants/torfaen', { name });
    }
    for (const [kind, contact] of [
      ['321 characters', 'c'.repeat(321)],
      ['newline (header injection)', 'a@b.c\r\nBcc: all@example.org'],
      ['number', 1],
    ] as [string, unknown][])
      add(`tenant contact: ${kind}`, 'PATCH', '/v1/tenants/torfaen', { contact });
    add('tenant isolation: unknown', 'POST', '/v1/tenants', { ...tenant, isolation: 'private' });
    add('tenant classification: wrong case', 'POST', '/v1/tenants', { ...tenant, classification: 'secret' });
    add('tenant classification: unknown', 'PATCH', '/v1/tenants/torfaen', { classification: 'TOP SECRET' });
    add('tenant state: offboarded by PATCH', 'PATCH', '/v1/tenants/torfaen', { state: 'offboarded' });
    add('tenant slug is immutable', 'PATCH', '/v1/tenants/torfaen', { slug: 'renamed' });
    add('tenant: unknown property', 'POST', '/v1/tenants', { ...tenant, state: 'frozen' });
    add('tenant: null for a required field', 'POST', '/v1/tenants', { ...tenant, name: null });
    add('tenant: missing name', 'POST', '/v1/tenants', { slug: 'newport' });

    // Quotas (PUT replaces them all, so every body here must be refused whole).
    for (const [kind, vcpu] of HOSTILE_NUMBERS) add(`quota vcpu: ${kind}`, 'PUT', '/v1/tenants/torfaen/quotas', { vcpu, memory: '256GiB' });
    for (const [kind, memory] of [
      ['unknown suffix', '32XB'],
      ['lower-case suffix', '32gib'],
      ['suffix only', 'GiB'],
      ['negative', '-32GiB'],
      ['fraction of a byte', '1.5B'],
      ['beyond 2^53 bytes', '9EiB'],
      ['Arabic digits', '١٢GiB'],
      ['NUL byte', '32GiB\u0000'],
      ['SQL', "32GiB'; DELETE FROM quotas; --"],
      ['1,000 digits', '9'.repeat(1000)],
    ] as [string, string][])
      add(`quota memory: ${kind}`, 'PUT', '/v1/tenants/torfaen/quotas', { vcpu: 64, memory });
    add('quota vcpu: suffix on a count', 'PUT', '/v1/tenants/torfaen/quotas', { vcpu: '64GiB' });
    add('quota: unknown class', 'PUT', '/v1/tenants/torfaen/quotas', { vcpu: 64, gpu: 1 });
    add('quota: undeclared custom class', 'PUT', '/v1/tenants/torfaen/quotas', { vcpu: 64, custom_fpga: 1 });
    add('quota: empty class name', 'PUT', '/v1/tenants/torfaen/quotas', { '': 1 });
    add('quota: class name of 10,000 characters', 'PUT', '/v1/tenants/torfaen/quotas', { ['c'.repeat(10_000)]: 1 });
    add('quota: 65 classes', 'PUT', '/v1/tenants/torfaen/quotas', Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`custom_c${i}`, 1])));
    add('quota: raw 1e400 (parses as Infinity)', 'PUT', '/v1/tenants/torfaen/quotas', undefined, { raw: '{"vcpu": 1e400}' });
    add('quota: raw -0', 'PUT', '/v1/tenants/torfaen/quotas', undefined, { raw: '{"vcpu": -0, "memory": "1GiB", "custom_gpu": -1}' });

    // Hosts.
    const host = { name: 'blv-c09', site: 'hall-a', inventories: { vcpu: { total: 8 } } };
    for (const [kind, name] of [
      ...HOSTILE_STRINGS,
      ['upper case', 'BLV-C09'],
      ['64 characters', 'h'.repeat(64)],
      ['space', 'blv c09'],
      ['slash', 'blv/c09'],
    ] as [string, unknown][])
      add(`host name: ${kind}`, 'POST', '/v1/hosts', { ...host, name });
    add('host site: SQL', 'POST', '/v1/hosts', { ...host, site: "hall'); DROP TABLE hosts; --" });
    add('host site: unicode', 'PATCH', '/v1/hosts/blv-c01', { site: 'neuadd-ŵ' });
    add('host rack: 64 characters', 'PATCH', '/v1/hosts/blv-c01', { rack: 'r'.repeat(64) });
    add('host rack: control characters', 'PATCH', '/v1/hosts/blv-c01', { rack: 'a03\u0000' });
    add('host labels: not an object', 'PATCH', '/v1/hosts/blv-c01', { labels: ['a'] });
    add('host labels: 33 keys', 'PATCH', '/v1/hosts/blv-c01', { labels: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) });
    add('host labels: bad key', 'PATCH', '/v1/hosts/blv-c01', { labels: { 'bad key!': 'v' } });
    add('host labels: number value', 'PATCH', '/v1/hosts/blv-c01', { labels: { model: 760 } });
    add('host labels: 256-character value', 'PATCH', '/v1/hosts/blv-c01', { labels: { model: 'm'.repeat(256) } });
    add('host labels: control characters in a value', 'PATCH', '/v1/hosts/blv-c01', { labels: { model: 'R760\u001b[2J' } });
    add('host labels: __proto__ key', 'PATCH', '/v1/hosts/blv-c01', undefined, { raw: '{"labels": {"__proto__": "x"}}' });
    add('host status: not settable', 'PATCH', '/v1/hosts/blv-c01', { status: 'down' });
    add('host accreditation: unknown', 'PATCH', '/v1/hosts/blv-c01', { accreditation: 'TOP SECRET' });
    add('host dedicatedTenant: not a slug', 'PATCH', '/v1/hosts/blv-c01', { dedicatedTenant: 'Gwent Police' });
    add('host name is immutable', 'PATCH', '/v1/hosts/blv-c01', { name: 'blv-c99' });
    add('host inventories: not an object', 'POST', '/v1/hosts', { ...host, inventories: 'vcpu=8' });
    add('host inventories: an inventory that is not an object', 'POST', '/v1/hosts', { ...host, inventories: { vcpu: 8 } });
    add('host inventories: unknown class', 'POST', '/v1/hosts', { ...host, inventories: { cpu: { total: 8 } } });
    add('host inventories: unknown property', 'POST', '/v1/hosts', { ...host, inventories: { vcpu: { total: 8, colour: 'red' } } });
    for (const [kind, total] of HOSTILE_NUMBERS) add(`inventory total: ${kind}`, 'PUT', '/v1/hosts/blv-c01/inventories/vcpu', { total });
    for (const [kind, allocationRatio] of [
      ['zero', 0],
      ['negative', -4],
      ['1e9', 1e9],
      ['a string', '4'],
      ['NaN as a string', 'NaN'],
    ] as [string, unknown][])
      add(`inventory allocationRatio: ${kind}`, 'PUT', '/v1/hosts/blv-c01/inventories/vcpu', { total: 64, allocationRatio });
    add('inventory: reserved above total', 'PUT', '/v1/hosts/blv-c01/inventories/vcpu', { total: 8, reserved: 9 });
    add('inventory: minUnit above maxUnit', 'PUT', '/v1/hosts/blv-c01/inventories/vcpu', { total: 64, minUnit: 8, maxUnit: 2 });
    add('inventory: stepSize zero', 'PUT', '/v1/hosts/blv-c01/inventories/vcpu', { total: 64, stepSize: 0 });
    add('inventory: memory in a count class', 'PUT', '/v1/hosts/blv-c01/inventories/vcpu', { total: '64GiB' });
    add('inventory: capacity beyond 2^53', 'PUT', '/v1/hosts/blv-c01/inventories/memory', { total: '8EiB', allocationRatio: 1000 });
    add('inventory: unknown property', 'PUT', '/v1/hosts/blv-c01/inventories/vcpu', { total: 64, ratio: 2 });
    for (const [kind, resourceClass] of [
      ['upper case', 'VCPU'],
      ['unknown', 'cpu'],
      ['undeclared custom', 'custom_fpga'],
      ['300 characters', 'c'.repeat(300)],
      ['SQL', "vcpu' OR '1'='1"],
    ])
      add(`inventory class in the path: ${kind}`, 'PUT', `/v1/hosts/blv-c01/inventories/${encodeURIComponent(resourceClass)}`, { total: 8 });

    // Allocations.
    const allocation = { tenant: 'torfaen', resources: { vcpu: 2 } };
    for (const [kind, vcpu] of [...HOSTILE_NUMBERS, ['zero', 0]] as [string, unknown][])
      add(`allocation vcpu: ${kind}`, 'POST', '/v1/allocations', { ...allocation, resources: { vcpu } });
    add('allocation resources: empty', 'POST', '/v1/allocations', { ...allocation, resources: {} });
    add('allocation resources: an array', 'POST', '/v1/allocations', { ...allocation, resources: [['vcpu', 2]] });
    add('allocation resources: unknown class', 'POST', '/v1/allocations', { ...allocation, resources: { vcpu: 1, cpu: 1 } });
    add('allocation resources: __proto__ key', 'POST', '/v1/allocations', undefined, {
      raw: '{"tenant":"torfaen","resources":{"__proto__":{"vcpu":1},"vcpu":1}}',
    });
    add('allocation resources: constructor key', 'POST', '/v1/allocations', { ...allocation, resources: { constructor: 1 } });
    add('allocation memory: unknown suffix', 'POST', '/v1/allocations', { ...allocation, resources: { memory: '32 gigs' } });
    for (const [kind, tenantSlug] of HOSTILE_STRINGS.slice(0, 6))
      add(`allocation tenant: ${kind}`, 'POST', '/v1/allocations', { ...allocation, tenant: tenantSlug });
    add('allocation host: SQL', 'POST', '/v1/allocations', { ...allocation, host: "blv-c01' --" });
    add('allocation host: number', 'POST', '/v1/allocations', { ...allocation, host: 1 });
    add('allocation description: 501 characters', 'POST', '/v1/allocations', { ...allocation, description: 'd'.repeat(501) });
    add('allocation description: control characters', 'POST', '/v1/allocations', { ...allocation, description: 'Revenues\u0000\u001b[2J' });
    add('allocation description: bidi override', 'POST', '/v1/allocations', { ...allocation, description: 'Revenues \u202Egnp.exe' });
    add('allocation strategy: unknown', 'POST', '/v1/allocations', { ...allocation, strategy: 'random' });
    add('allocation: unknown property', 'POST', '/v1/allocations', { ...allocation, status: 'active' });
    add('allocation: missing tenant', 'POST', '/v1/allocations', { resources: { vcpu: 1 } });
    for (const [kind, key] of [
      ['empty', ''],
      ['256 characters', 'k'.repeat(256)],
      ['tab inside', 'key\twith-tab'],
    ])
      add(`Idempotency-Key: ${kind}`, 'POST', '/v1/allocations', allocation, { headers: { 'idempotency-key': key } });
    add(
      'Idempotency-Key with a malformed body',
      'POST',
      '/v1/allocations',
      { ...allocation, resources: { vcpu: -1 } },
      { headers: { 'idempotency-key': 'hostile-1' } },
    );
    add(
      'Idempotency-Key of the setup request with a malformed body',
      'POST',
      '/v1/allocations',
      { ...allocation, resources: 'all' },
      { headers: { 'idempotency-key': 'setup-1' } },
    );

    // Resource classes.
    for (const [kind, name] of [
      ['no custom_ prefix', 'gpu'],
      ['built-in', 'vcpu'],
      ['upper case', 'custom_GPU'],
      ['41-character name', `custom_${'g'.repeat(41)}`],
      ['SQL', "custom_x'--"],
      ['unicode', 'custom_ŵ'],
      ['NUL byte', 'custom_a\u0000b'],
    ])
      add(`resource class name: ${kind}`, 'PUT', `/v1/resource-classes/${encodeURIComponent(name)}`, { unit: 'count' });
    add('resource class unit: unknown', 'PUT', '/v1/resource-classes/custom_fpga', { unit: 'kg' });
    add('resource class unit: another unit for a declared class', 'PUT', '/v1/resource-classes/custom_gpu', { unit: 'bytes' });
    add('resource class description: 201 characters', 'PUT', '/v1/resource-classes/custom_fpga', { unit: 'count', description: 'd'.repeat(201) });
    add('resource class description: control characters', 'PUT', '/v1/resource-classes/custom_fpga', { unit: 'count', description: 'FPGA\u0007' });

    // Surge grants.
    const grant = { resources: { vcpu: 8 }, expiresAt: '2099-01-01T00:00:00Z', reason: 'Major incident INC-4711' };
    for (const [kind, vcpu] of HOSTILE_NUMBERS.slice(0, 6)) add(`grant vcpu: ${kind}`, 'POST', '/v1/tenants/torfaen/grants', { ...grant, resources: { vcpu } });
    add('grant resources: a class without a quota', 'POST', '/v1/tenants/torfaen/grants', { ...grant, resources: { custom_gpu: 1 } });
    add('grant reason: control characters', 'POST', '/v1/tenants/torfaen/grants', { ...grant, reason: 'incident\u001b[2J' });
    add('grant reason: 501 characters', 'POST', '/v1/tenants/torfaen/grants', { ...grant, reason: 'r'.repeat(501) });
    add('grant expiresAt: in the past', 'POST', '/v1/tenants/torfaen/grants', { ...grant, expiresAt: '2001-01-01T00:00:00Z' });
    add('grant expiresAt: not a date', 'POST', '/v1/tenants/torfaen/grants', { ...grant, expiresAt: 'when it is over' });
    add('grant id: not a UUID', 'DELETE', '/v1/tenants/torfaen/grants/not-a-uuid', undefined);
    add('grant of another tenant', 'DELETE', `/v1/tenants/blaenau-gwent/grants/${grantId}`, undefined);

    // Tokens.
    add('token kind: agent (not issuable)', 'POST', '/v1/tokens', { kind: 'agent' });
    add('token role: unknown', 'POST', '/v1/tokens', { kind: 'api', role: 'root' });
    add('token role: tenant without a tenant', 'POST', '/v1/tokens', { kind: 'api', role: 'tenant' });
    add('token tenant: not a slug', 'POST', '/v1/tokens', { kind: 'api', role: 'tenant', tenant: "torfaen' --" });
    add('token tenant: does not exist', 'POST', '/v1/tokens', { kind: 'api', role: 'tenant', tenant: 'atlantis' });
    for (const [kind, uses] of [...HOSTILE_NUMBERS, ['zero', 0], ['1e9', 1e9]] as [string, unknown][])
      add(`join token uses: ${kind}`, 'POST', '/v1/tokens', { kind: 'join', uses });
    for (const [kind, expiresAt] of [
      ['not a date', 'tomorrow'],
      ['in the past', '2001-01-01T00:00:00Z'],
      ['NaN as a string', 'NaN'],
      ['beyond the Date range', 1e20],
      ['year 0', '0000-01-01T00:00:00Z'],
      ['an object', { at: 1 }],
    ] as [string, unknown][])
      add(`token expiresAt: ${kind}`, 'POST', '/v1/tokens', { kind: 'join', uses: 1, expiresAt });
    add('token name: 201 characters', 'POST', '/v1/tokens', { kind: 'api', role: 'viewer', name: 'n'.repeat(201) });
    add('token name: control characters', 'POST', '/v1/tokens', { kind: 'api', role: 'viewer', name: 'Grafana\r\nadmin' });
    add('token: a secret of its own choosing', 'POST', '/v1/tokens', { kind: 'api', role: 'viewer', token: 'dcm_chosen-by-the-caller-0123456789' });

    // Agents: enrolment (no bearer token; authenticates with the join token in the body) and reports.
    const enrol = { joinToken, hostname: 'blv-c10', facts: JOIN_FACTS('blv-c10') };
    add('enrol joinToken: too short', 'POST', '/v1/agents/enrol', { ...enrol, joinToken: 'short' });
    add('enrol joinToken: a number', 'POST', '/v1/agents/enrol', { ...enrol, joinToken: 2 ** 64 });
    add('enrol hostname: SQL', 'POST', '/v1/agents/enrol', { ...enrol, hostname: "blv'; --" });
    add('enrol hostname: control characters', 'POST', '/v1/agents/enrol', { ...enrol, hostname: 'blv\u0000c10' });
    add('enrol facts: missing', 'POST', '/v1/agents/enrol', { joinToken, hostname: 'blv-c10' });
    add('enrol facts: logicalCores negative', 'POST', '/v1/agents/enrol', { ...enrol, facts: { ...enrol.facts, logicalCores: -64 } });
    add('enrol facts: logicalCores as a string', 'POST', '/v1/agents/enrol', { ...enrol, facts: { ...enrol.facts, logicalCores: '64' } });
    add('enrol facts: memory beyond 2^53', 'POST', '/v1/agents/enrol', { ...enrol, facts: { ...enrol.facts, memoryTotalBytes: 2 ** 60 } });
    add('enrol facts: 65 storage mounts', 'POST', '/v1/agents/enrol', {
      ...enrol,
      facts: { ...enrol.facts, storage: Array.from({ length: 65 }, (_, i) => ({ mountpoint: `/srv/${i}`, sizeBytes: GIB })) },
    });
    add('enrol facts: unknown property', 'POST', '/v1/agents/enrol', { ...enrol, facts: { ...enrol.facts, root: true } });
    add('enrol: unknown property', 'POST', '/v1/agents/enrol', { ...enrol, agentId: UNKNOWN_ID });
    const report = aReport(2);
    for (const [kind, body] of [
      ['schema version 2', { ...report, schemaVersion: 2 }],
      ['seq zero', { ...report, seq: 0 }],
      ['seq negative', { ...report, seq: -5 }],
      ['seq a fraction', { ...report, seq: 2.5 }],
      ['seq beyond 2^53', { ...report, seq: 2 ** 53 + 2 }],
      ['seq NaN as a string', { ...report, seq: 'NaN' }],
      ['usageRatio above 1', { ...report, cpu: { ...report.cpu, usageRatio: 1.5 } }],
      ['negative load', { ...report, cpu: { ...report.cpu, load1: -1 } }],
      ['memory as a string', { ...report, memory: { ...report.memory, totalBytes: '512GiB' } }],
      ['collectedAt not a date', { ...report, collectedAt: 'yesterday' }],
      ['257 filesystems', { ...report, filesystems: Array.from({ length: 257 }, () => report.filesystems[0]) }],
      ['tenant key not a slug', { ...report, tenants: { 'Torfaen Council': { storageUsedBytes: 1 } } }],
      ['tenant use negative', { ...report, tenants: { torfaen: { storageUsedBytes: -1 } } }],
      ['unknown property', { ...report, hostname: 'blv-c01' }],
      ['an empty batch', []],
      ['a batch of 501', Array.from({ length: 501 }, (_, i) => aReport(i + 2))],
      ['a batch with one bad report', [aReport(2), { ...aReport(3), seq: -3 }, aReport(4)]],
    ] as [string, unknown][])
      add(`report: ${kind}`, 'POST', reports, body, { caller: 'agent' });
    add('report: __proto__ tenant key', 'POST', reports, undefined, {
      raw: JSON.stringify(report).replace('"tenants":{}', '"tenants":{"__proto__":{"storageUsedBytes":1}}'),
      caller: 'agent',
    });
    add('report: for another agent', 'POST', `/v1/agents/${UNKNOWN_ID}/reports`, report, { caller: 'agent' });
    add('report: agent id not a UUID', 'POST', '/v1/agents/not-a-uuid/reports', report, { caller: 'agent' });

    // Path parameters: bad ids, over-long and hostile slugs and names.
    for (const [kind, segment] of [
      ['not a UUID', 'not-a-uuid'],
      ['SQL', "1' OR '1'='1"],
      ['1,000 characters', 'i'.repeat(1000)],
      ['NUL byte', '%00'],
      ['traversal', '..%2F..%2Fetc%2Fpasswd'],
      ['unknown UUID', UNKNOWN_ID],
    ]) {
      add(`allocation id: ${kind}`, 'DELETE', `/v1/allocations/${segment}`, undefined);
      add(`token id: ${kind}`, 'DELETE', `/v1/tokens/${segment}`, undefined);
      add(`tenant slug in the path: ${kind}`, 'DELETE', `/v1/tenants/${segment}`, undefined);
      add(`tenant slug in the path: ${kind}`, 'PATCH', `/v1/tenants/${segment}`, { name: 'Renamed' });
      add(`tenant slug in the path: ${kind}`, 'PUT', `/v1/tenants/${segment}/quotas`, { vcpu: 1 });
      add(`host name in the path: ${kind}`, 'DELETE', `/v1/hosts/${segment}`, undefined);
      add(`host name in the path: ${kind}`, 'PATCH', `/v1/hosts/${segment}`, { rack: 'a01' });
      add(`host name in the path: ${kind}`, 'PUT', `/v1/hosts/${segment}/inventories/vcpu`, { total: 1 });
    }
    add('viewer token revoked with a body that is not JSON', 'DELETE', `/v1/tokens/${viewerTokenId}`, undefined, {
      raw: '{',
      headers: { 'content-type': 'application/json' },
    });
    add('unknown route', 'POST', '/v1/tenants/torfaen/frobnicate', { now: true });
    add('unknown method on a route', 'PATCH', '/v1/allocations', { tenant: 'torfaen' });

    return cases.map((malformed) => ({ caller: 'admin', ...malformed }));
  }

  it('answers each of hundreds of malformed requests with a 4xx problem, leaks nothing, and changes nothing', async () => {
    const writes = await documentedWrites();
    const cases = corpus(writes);
    const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();
    const before = tableDigests(join(control.dataDir, 'dcm.sqlite'));

    const failures: string[] = [];
    const routesHit = new Set<string>();
    for (const malformed of cases) {
      const token = { admin: control.adminToken, agent: agent.agentToken, none: null }[malformed.caller!];
      const options: RequestOptions = { token, headers: malformed.headers, raw: malformed.raw };
      const label = `${malformed.method} ${malformed.path.slice(0, 80)} (${malformed.kind})`;
      let response;
      try {
        response = await control.api.request(malformed.method, malformed.path, malformed.body, options);
      } catch (error) {
        failures.push(`${label}: no answer: ${(error as Error).message}`);
        continue;
      }
      routesHit.add(`${malformed.method} ${malformed.path}`);
      const text = typeof response.body === 'string' ? response.body : JSON.stringify(response.body ?? '');
      const problems = [
        ...(response.status >= 400 && response.status < 500 ? [] : [`status ${response.status}`]),
        ...(PROBLEM_JSON.test(response.headers.get('content-type') ?? '') ? [] : [`content type ${response.headers.get('content-type')}`]),
        ...(typeof response.body === 'object' && response.body?.type === `urn:dcm:problem:${response.body?.code}` && response.body?.status === response.status
          ? []
          : ['not a problem with a code']),
        ...LEAKS.filter((leak) => leak.test(text)).map((leak) => `leaks ${leak}`),
      ];
      if (problems.length > 0) failures.push(`${label}: ${problems.join(', ')}: ${text.slice(0, 300)}`);
    }

    for (const [kind, request] of MALFORMED_HTTP) {
      const answer = await sendRaw(control.url, request(control.adminToken));
      const problems = [
        ...(answer.status >= 400 && answer.status < 500 ? [] : [`status ${answer.status}`]),
        ...(PROBLEM_JSON.test(answer.contentType) ? [] : [`content type ${answer.contentType}`]),
        ...(/"code":"\w+"/.test(answer.body) ? [] : ['not a problem with a code']),
        ...LEAKS.filter((leak) => leak.test(answer.body)).map((leak) => `leaks ${leak}`),
      ];
      if (problems.length > 0) failures.push(`malformed HTTP (${kind}): ${problems.join(', ')}: ${answer.body.slice(0, 300)}`);
    }

    expect(failures).toEqual([]);
    expect(cases.length + MALFORMED_HTTP.length).toBeGreaterThanOrEqual(200);
    expect(routesHit.size).toBeGreaterThan(writes.length);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeBefore);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(tableDigests(join(control.dataDir, 'dcm.sqlite'))).toEqual(before);
  });

  it('still serves afterwards: reads and writes work', async () => {
    await expectStatus(control.api.get('/health/ready', { token: null }), 200);
    await createTenant(control.api, 'newport');
    await expectStatus(control.api.post('/v1/allocations', { tenant: 'torfaen', resources: { vcpu: 2 } }), 201);
    await expectStatus(control.api.post(`/v1/agents/${agent.agentId}/reports`, aReport(2), { token: agent.agentToken }), 200);
  });
});
