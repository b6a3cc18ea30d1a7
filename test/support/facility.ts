import { ApiClient } from './api-client';

/** Small helpers that build a facility through the public API, failing loudly on any refusal. */
export async function expectStatus<T>(promise: Promise<{ status: number; body: T }>, status: number): Promise<T> {
  const response = await promise;
  if (response.status !== status) {
    throw new Error(`expected HTTP ${status}, got ${response.status}: ${JSON.stringify(response.body)}`);
  }
  return response.body;
}

export function createTenant(api: ApiClient, slug: string, extra: Record<string, unknown> = {}) {
  return expectStatus(api.post('/v1/tenants', { slug, name: `Tenant ${slug}`, ...extra }), 201);
}

export function setQuotas(api: ApiClient, slug: string, quotas: Record<string, number | string>) {
  return expectStatus(api.put(`/v1/tenants/${slug}/quotas`, quotas), 200);
}

export function createHost(api: ApiClient, name: string, inventories: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return expectStatus(api.post('/v1/hosts', { name, site: 'hall-a', inventories, ...extra }), 201);
}

const GIB = 2 ** 30;

/** What an agent enrols with: the facts of a mid-sized host (override any). */
export function hostFacts(hostname: string, overrides: Record<string, unknown> = {}) {
  return {
    hostname,
    os: 'Debian GNU/Linux 12',
    kernel: '6.1.0-27-amd64',
    cpuModel: 'AMD EPYC 9354',
    logicalCores: 64,
    memoryTotalBytes: 512 * GIB,
    storage: [{ mountpoint: '/srv', sizeBytes: 20_480 * GIB }],
    ...overrides,
  };
}

/** Enrols an agent for `hostname` with a new one-use join token; answers the enrolment (agentId, agentToken, …). */
/** `join`: more of the join token's fields, e.g. `{ host: hostname }` to re-enrol an existing host, `{ accept: true }`. */
export async function enrolAgent(api: ApiClient, hostname: string, facts: Record<string, unknown> = hostFacts(hostname), join: Record<string, unknown> = {}) {
  const token = await expectStatus(api.post('/v1/tokens', { kind: 'join', uses: 1, ...join }), 201);
  return expectStatus(api.post('/v1/agents/enrol', { joinToken: token.token, hostname, facts }, { token: null }), 201);
}
