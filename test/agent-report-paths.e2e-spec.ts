import { request } from 'node:http';
import { RunningControl, startControl } from './support/control';
import { enrolAgent, expectStatus } from './support/facility';
import { aReport } from './support/reports';

const LIMIT = 40;

interface Answer {
  status: number;
  code: string | undefined;
  retryAfter: string | undefined;
  wwwAuthenticate: string | undefined;
}

/**
 * POST /v1/agents/:id/reports is served by a fast path ahead of the framework when the body comes with a
 * Content-Length, and by the framework (AgentsController) otherwise, e.g. chunked. Both must answer alike.
 */
function post(url: string, path: string, body: string, headers: Record<string, string>, chunked: boolean): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      `${url}${path}`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...headers,
          ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': Buffer.byteLength(body) }),
        },
      },
      (incoming) => {
        let text = '';
        incoming.setEncoding('utf8');
        incoming.on('data', (chunk) => (text += chunk));
        incoming.on('end', () => {
          let code: string | undefined;
          try {
            code = (JSON.parse(text) as { code?: string }).code;
          } catch {
            code = undefined;
          }
          resolve({
            status: incoming.statusCode!,
            code,
            retryAfter: incoming.headers['retry-after'] as string | undefined,
            wwwAuthenticate: incoming.headers['www-authenticate'] as string | undefined,
          });
        });
      },
    );
    outgoing.on('error', reject);
    if (chunked) {
      // Two chunks, as a streaming client would send them.
      outgoing.write(body.slice(0, Math.floor(body.length / 2)));
      outgoing.end(body.slice(Math.floor(body.length / 2)));
    } else outgoing.end(body);
  });
}

describe('agent reports: the fast path and the framework answer alike', () => {
  let control: RunningControl;
  let agent: { agentId: string; agentToken: string };
  let other: { agentId: string; agentToken: string };
  let viewerToken: string;
  let seq = 0;

  const enrol = (hostname: string) => enrolAgent(control.api, hostname);

  beforeAll(async () => {
    control = await startControl({ rateLimitPerMinute: LIMIT });
    agent = await enrol('blv-fast-1');
    other = await enrol('blv-fast-2');
    viewerToken = (await expectStatus(control.api.post('/v1/tokens', { kind: 'api', role: 'viewer' }), 201)).token;
  });

  afterAll(async () => {
    await control?.close();
  });

  const cases: [string, () => { path: string; body: string; headers: Record<string, string> }, number, string | undefined][] = [
    [
      'a report',
      () => ({ path: `/v1/agents/${agent.agentId}/reports`, body: JSON.stringify(aReport(++seq)), headers: { authorization: `Bearer ${agent.agentToken}` } }),
      200,
      undefined,
    ],
    [
      'a replayed batch',
      () => ({
        path: `/v1/agents/${agent.agentId}/reports`,
        body: JSON.stringify([aReport(++seq), aReport(++seq)]),
        headers: { authorization: `Bearer ${agent.agentToken}` },
      }),
      200,
      undefined,
    ],
    [
      'a report collected in the year 9999 (refused on its own, answered 200)',
      () => ({
        path: `/v1/agents/${agent.agentId}/reports`,
        body: JSON.stringify(aReport(++seq, { collectedAt: '9999-12-31T23:59:59.000Z' })),
        headers: { authorization: `Bearer ${agent.agentToken}` },
      }),
      200,
      undefined,
    ],
    ['no token', () => ({ path: `/v1/agents/${agent.agentId}/reports`, body: JSON.stringify(aReport(++seq)), headers: {} }), 401, 'Unauthenticated'],
    [
      'an unknown token',
      () => ({
        path: `/v1/agents/${agent.agentId}/reports`,
        body: JSON.stringify(aReport(++seq)),
        headers: { authorization: 'Bearer dcm_unknown-token-000000000000000000000' },
      }),
      401,
      'Unauthenticated',
    ],
    [
      'a viewer token',
      () => ({ path: `/v1/agents/${agent.agentId}/reports`, body: JSON.stringify(aReport(++seq)), headers: { authorization: `Bearer ${viewerToken}` } }),
      403,
      'Forbidden',
    ],
    [
      "another agent's id",
      () => ({ path: `/v1/agents/${other.agentId}/reports`, body: JSON.stringify(aReport(++seq)), headers: { authorization: `Bearer ${agent.agentToken}` } }),
      404,
      'NotFound',
    ],
    [
      'broken JSON',
      () => ({ path: `/v1/agents/${agent.agentId}/reports`, body: '{"seq": 1,', headers: { authorization: `Bearer ${agent.agentToken}` } }),
      400,
      'ValidationFailed',
    ],
    [
      'a prototype key',
      () => ({
        path: `/v1/agents/${agent.agentId}/reports`,
        body: '{"__proto__": {"polluted": true}}',
        headers: { authorization: `Bearer ${agent.agentToken}` },
      }),
      400,
      'ValidationFailed',
    ],
    [
      'a report that breaks the protocol',
      () => ({
        path: `/v1/agents/${agent.agentId}/reports`,
        body: JSON.stringify({ ...aReport(++seq), seq: -1 }),
        headers: { authorization: `Bearer ${agent.agentToken}` },
      }),
      400,
      'ValidationFailed',
    ],
  ];

  it.each(cases)('%s', async (_case, build, status, code) => {
    const fast = build();
    const framework = build();
    const answers = [
      await post(control.url, fast.path, fast.body, fast.headers, false),
      await post(control.url, framework.path, framework.body, framework.headers, true),
    ];
    expect(answers.map(({ status: answered, code: answeredCode }) => [answered, answeredCode])).toEqual([
      [status, code],
      [status, code],
    ]);
    if (status === 401) expect(answers.map((answer) => answer.wwwAuthenticate)).toEqual(['Bearer realm="dcm"', 'Bearer realm="dcm"']);
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('counts against the same per-token limit on both paths, and answers 429 with Retry-After on both', async () => {
    const limited = await enrol('blv-fast-3');
    const report = (chunked: boolean) =>
      post(control.url, `/v1/agents/${limited.agentId}/reports`, JSON.stringify(aReport(++seq)), { authorization: `Bearer ${limited.agentToken}` }, chunked);
    const statuses = [];
    for (let i = 0; i < LIMIT; i++) statuses.push((await report(i % 2 === 0)).status);
    expect(statuses).toEqual(Array<number>(LIMIT).fill(200));
    const [fast, framework] = [await report(false), await report(true)];
    expect([fast.status, fast.code, framework.status, framework.code]).toEqual([429, 'RateLimited', 429, 'RateLimited']);
    expect(Number(fast.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(framework.retryAfter)).toBeGreaterThanOrEqual(1);
  });

  it('stores what both paths accepted: reports 1 to 6, from the first two cases, and none from the year 9999', async () => {
    const host = await expectStatus(control.api.get('/v1/hosts/blv-fast-1'), 200);
    expect(host.measurements.seq).toBe(6);
  });
});
