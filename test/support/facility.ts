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
