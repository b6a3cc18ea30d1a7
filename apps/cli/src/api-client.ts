import type { Agent } from 'undici';
import type { components } from './generated/control-api';

/** Control's response bodies, generated from its OpenAPI document (npm run api-types). */
type Schemas = components['schemas'];

/** The RFC 9457 problem details control answers errors with. */
export interface Problem {
  type?: string;
  title?: string;
  status: number;
  code?: string;
  detail?: string;
  [extension: string]: unknown;
}

/** Control answered with an error: carries its problem details. */
export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title ?? `HTTP ${problem.status}`);
  }
}

/** Control could not be reached at all (refused, DNS, TLS, timeout). */
export class ConnectionError extends Error {}

export type ResourceInput = Record<string, number | string>;

export type Tenant = Schemas['TenantResponseDto'];

export interface CreateTenantRequest {
  slug: string;
  name: string;
  contact?: string;
  isolation?: string;
  classification?: string;
}

export type UpdateTenantRequest = Partial<Omit<CreateTenantRequest, 'slug'>> & { state?: string };

export type QuotaPosition = Schemas['QuotaPositionDto'];

export type TenantQuotas = Schemas['TenantQuotasResponseDto'];

export type Inventory = Schemas['InventoryResponseDto'];

export type Host = Schemas['HostResponseDto'];

export interface HostQuery {
  site?: string;
  status?: string;
}

export type Allocation = Schemas['AllocationResponseDto'];

export interface CreateAllocationRequest {
  tenant: string;
  resources: ResourceInput;
  host?: string;
  description?: string;
  strategy?: string;
}

export interface AllocationQuery {
  tenant?: string;
  host?: string;
  status?: string;
  limit?: number;
  offset?: number;
}

export type ClassCapacity = Schemas['ClassCapacityDto'];

export type HostCounts = Schemas['HostCountsDto'];

export type Capacity = Schemas['CapacityResponseDto'];

export type ClassForecast = Schemas['ClassForecastDto'];

export type Forecast = Schemas['CapacityForecastResponseDto'];

export type Token = Schemas['TokenResponseDto'];

export type CreatedToken = Schemas['CreatedTokenResponseDto'];

export interface CreateTokenRequest {
  kind: 'api' | 'join';
  role?: string;
  tenant?: string;
  uses?: number;
  host?: string;
  accept?: boolean;
  expiresAt?: string;
  name?: string;
}

export interface ShowbackQuery {
  from: string;
  to: string;
}

export type ShowbackResource = Schemas['ShowbackResourceDto'];

export type Showback = Schemas['ShowbackResponseDto'];

export interface IdleQuery {
  threshold?: number;
  window?: string;
}

export type IdleReport = Schemas['IdleResponseDto'];

export type AuditEvent = Schemas['AuditEventResponseDto'];

export type AuditAnchor = Schemas['AuditAnchorResponseDto'];

export interface AuditQuery {
  subject?: string;
  subjectType?: string;
  actor?: string;
  action?: string;
  from?: string;
  to?: string;
  limit?: number;
  before?: number;
}

export type AuditVerification = Schemas['AuditVerificationResponseDto'];

export type Grant = Schemas['GrantResponseDto'];

export interface CreateGrantRequest {
  resources: ResourceInput;
  expiresAt: string;
  reason: string;
}

const REQUEST_TIMEOUT_MS = 30_000;

/** The CA certificates (PEM) to verify control's certificate against, instead of Node's built-in public CAs, and their file. */
export interface TrustedCa {
  caFile: string;
  ca: string;
}

/** A typed client for control's REST API (`/v1`), as the bearer of one token. */
export class DcmApiClient {
  private readonly baseUrl: string;
  private dispatcher: Agent | undefined;

  constructor(
    url: string,
    private readonly token: string,
    private readonly trusted?: TrustedCa,
  ) {
    this.baseUrl = url.replace(/\/+$/, '');
  }

  listTenants(state?: string): Promise<Tenant[]> {
    return this.request('GET', '/v1/tenants', { query: { state } });
  }
  getTenant(slug: string): Promise<Tenant> {
    return this.request('GET', `/v1/tenants/${segment(slug)}`);
  }
  createTenant(body: CreateTenantRequest): Promise<Tenant> {
    return this.request('POST', '/v1/tenants', { body });
  }
  updateTenant(slug: string, body: UpdateTenantRequest): Promise<Tenant> {
    return this.request('PATCH', `/v1/tenants/${segment(slug)}`, { body });
  }
  offboardTenant(slug: string): Promise<Tenant> {
    return this.request('DELETE', `/v1/tenants/${segment(slug)}`);
  }

  getQuotas(slug: string): Promise<TenantQuotas> {
    return this.request('GET', `/v1/tenants/${segment(slug)}/quotas`);
  }
  replaceQuotas(slug: string, limits: ResourceInput): Promise<TenantQuotas> {
    return this.request('PUT', `/v1/tenants/${segment(slug)}/quotas`, { body: limits });
  }

  listHosts(query: HostQuery = {}): Promise<Host[]> {
    return this.request('GET', '/v1/hosts', { query: { ...query } });
  }
  /** Host writes take the API's bodies as they are (amounts as numbers or strings such as "1TiB"). */
  createHost(body: Record<string, unknown>): Promise<Host> {
    return this.request('POST', '/v1/hosts', { body });
  }
  updateHost(name: string, patch: Record<string, unknown>): Promise<Host> {
    return this.request('PATCH', `/v1/hosts/${segment(name)}`, { body: patch });
  }
  setInventory(name: string, resourceClass: string, body: Record<string, unknown>): Promise<Host> {
    return this.request('PUT', `/v1/hosts/${segment(name)}/inventories/${segment(resourceClass)}`, { body });
  }
  bindTenant(name: string, slug: string): Promise<Host> {
    return this.request('PUT', `/v1/hosts/${segment(name)}/tenants/${segment(slug)}`);
  }
  unbindTenant(name: string, slug: string): Promise<Host> {
    return this.request('DELETE', `/v1/hosts/${segment(name)}/tenants/${segment(slug)}`);
  }
  decommissionHost(name: string): Promise<Host> {
    return this.request('DELETE', `/v1/hosts/${segment(name)}`);
  }
  getHost(name: string): Promise<Host> {
    return this.request('GET', `/v1/hosts/${segment(name)}`);
  }

  listAllocations(query: AllocationQuery = {}): Promise<Allocation[]> {
    return this.request('GET', '/v1/allocations', { query: { ...query } });
  }
  getAllocation(id: string): Promise<Allocation> {
    return this.request('GET', `/v1/allocations/${segment(id)}`);
  }
  createAllocation(body: CreateAllocationRequest, idempotencyKey?: string): Promise<Allocation> {
    return this.request('POST', '/v1/allocations', { body, headers: idempotencyKey ? { 'idempotency-key': idempotencyKey } : {} });
  }
  releaseAllocation(id: string): Promise<Allocation> {
    return this.request('DELETE', `/v1/allocations/${segment(id)}`);
  }

  capacity(): Promise<Capacity> {
    return this.request('GET', '/v1/capacity');
  }
  forecast(): Promise<Forecast> {
    return this.request('GET', '/v1/capacity/forecast');
  }

  listTokens(): Promise<Token[]> {
    return this.request('GET', '/v1/tokens');
  }
  createToken(body: CreateTokenRequest): Promise<CreatedToken> {
    return this.request('POST', '/v1/tokens', { body });
  }
  revokeToken(id: string): Promise<Token> {
    return this.request('DELETE', `/v1/tokens/${segment(id)}`);
  }

  showback(query: ShowbackQuery): Promise<Showback> {
    return this.request('GET', '/v1/reports/showback', { query: { ...query } });
  }
  /** The showback as control writes it in CSV, untouched. */
  showbackCsv(query: ShowbackQuery): Promise<string> {
    return this.request('GET', '/v1/reports/showback', { query: { ...query, format: 'csv' }, headers: { accept: 'text/csv' }, text: true });
  }
  idle(query: IdleQuery = {}): Promise<IdleReport> {
    return this.request('GET', '/v1/reports/idle', { query: { ...query } });
  }

  listAudit(query: AuditQuery = {}): Promise<AuditEvent[]> {
    return this.request('GET', '/v1/audit', { query: { ...query } });
  }
  verifyAudit(anchor?: Pick<AuditAnchor, 'seq' | 'hash'>): Promise<AuditVerification> {
    return this.request('GET', '/v1/audit/verify', { query: anchor ? { anchorSeq: anchor.seq, anchorHash: anchor.hash } : {} });
  }
  auditAnchor(): Promise<AuditAnchor> {
    return this.request('GET', '/v1/audit/anchor');
  }

  listGrants(tenant: string, all = false): Promise<Grant[]> {
    return this.request('GET', `/v1/tenants/${segment(tenant)}/grants`, { query: { all: all ? 'true' : undefined } });
  }
  createGrant(tenant: string, body: CreateGrantRequest): Promise<Grant> {
    return this.request('POST', `/v1/tenants/${segment(tenant)}/grants`, { body });
  }
  revokeGrant(tenant: string, id: string): Promise<Grant> {
    return this.request('DELETE', `/v1/tenants/${segment(tenant)}/grants/${segment(id)}`);
  }

  /**
   * Node's global fetch, or with a CA file undici's own fetch and Agent: the global one takes no CA. undici is loaded
   * only then, as it costs every command about 50 ms to load.
   */
  private fetch(url: URL, init: RequestInit): Promise<Response> {
    if (!this.trusted) return fetch(url, init);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const undici = require('undici') as typeof import('undici');
    this.dispatcher ??= new undici.Agent({ connect: { ca: this.trusted.ca } });
    return undici.fetch(url, { ...(init as object), dispatcher: this.dispatcher }) as unknown as Promise<Response>;
  }

  private async request<T>(
    method: string,
    path: string,
    options: { query?: Record<string, string | number | undefined>; body?: unknown; headers?: Record<string, string>; text?: boolean } = {},
  ): Promise<T> {
    const url = new URL(this.baseUrl + path);
    for (const [name, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value));
    const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${this.token}`, ...options.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await this.fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new ConnectionError(describeFetchFailure(error, this.baseUrl, this.trusted));
    }
    const text = await response.text();
    if (response.ok && options.text) return text as T;
    const parsed = parseJson(text);
    if (!response.ok) throw new ApiError(toProblem(response.status, parsed, text));
    return parsed as T;
  }
}

function segment(value: string): string {
  return encodeURIComponent(value);
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function toProblem(status: number, parsed: unknown, text: string): Problem {
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return { ...(parsed as Record<string, unknown>), status };
  // Not problem details (a proxy's error page, say): keep the first line of what came back.
  return { status, detail: text.split('\n', 1)[0].slice(0, 200) || `HTTP ${status}` };
}

/** OpenSSL's certificate verification codes as Node reports them (CERT_HAS_EXPIRED, SELF_SIGNED_CERT_IN_CHAIN, …). */
const CERTIFICATE_ERROR = /CERT|ISSUER|SIGNATURE|INVALID_CA|INVALID_PURPOSE|HOSTNAME_MISMATCH|ALTNAME/;

function describeFetchFailure(error: unknown, baseUrl: string, trusted: TrustedCa | undefined): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `cannot reach dcm control at ${baseUrl}: no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.code && CERTIFICATE_ERROR.test(cause.code)) {
    const against = trusted ? `the CA in ${trusted.caFile}` : "Node's built-in public CAs";
    // Node 24 appends advice about --use-system-ca, which does not apply: dcm trusts its CA file or Node's own CAs.
    const reason = cause.message?.replace(/; if the root CA is installed locally, try running Node\.js with --use-system-ca$/, '');
    return (
      `the certificate of dcm control at ${baseUrl} is not trusted: ${reason} (${cause.code}), checked against ${against}; ` +
      'give the CA that signed it with "dcm login --ca-file FILE" or DCM_CA_FILE'
    );
  }
  return `cannot reach dcm control at ${baseUrl}: ${cause?.code ?? cause?.message ?? (error as Error).message ?? String(error)}`;
}
