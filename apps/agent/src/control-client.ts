import { Agent as HttpsAgent } from 'node:https';
import type { EnrolRequest, EnrolResponse, IngestResponse } from '@dcm/protocol';
import { postJson } from './http-post';
import type { SpooledBatch } from './spool';

/**
 * How control took a request, as the agent must act on it:
 * - `unavailable`: not reached, or failing (network error, timeout, 5xx, 429): keep everything, back off, retry;
 * - `unauthorised`: control does not accept this agent (401, 403; for reports also 404 unknown or revoked agent, 409
 *   decommissioned host): nothing the agent can fix by retrying — keep everything, back off, tell the operator loudly;
 * - `refused`: control will not take this request as it is (400, 413, 422, any other 4xx);
 * - `untrusted`: control's TLS certificate failed verification: nothing was sent; keep everything, back off, tell the
 *   operator loudly (control's certificate or tls.caFile must change).
 */
export type ControlFailure = { kind: 'unavailable' | 'unauthorised' | 'refused' | 'untrusted'; status: number | null; detail: string };

/** OpenSSL's certificate verification codes as Node reports them (CERT_HAS_EXPIRED, SELF_SIGNED_CERT_IN_CHAIN, …). */
const CERTIFICATE_ERROR = /CERT|ISSUER|SIGNATURE|INVALID_CA|INVALID_PURPOSE|HOSTNAME_MISMATCH|ALTNAME/;

/** An enrolment answer as control gives it: what the agent keeps and later sends as a header must be fit for that. */
const AGENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const AGENT_TOKEN = /^[\x21-\x7e]{20,512}$/;
const HOST_NAME = /^[\x21-\x7e]{1,255}$/;

export type ControlResult<T> = { ok: true; value: T } | ({ ok: false } & ControlFailure);

export interface AgentCredentials {
  controlUrl: string;
  agentId: string;
  agentToken: string;
  hostName: string;
}

/** dcm control's agent endpoints (POST /v1/agents/enrol, POST /v1/agents/:id/reports). */
export class ControlClient {
  private readonly httpsAgent: HttpsAgent | undefined;

  /** `ca`: the CA certificates (PEM) to verify control's certificate against, instead of Node's built-in public CAs. */
  constructor(
    private readonly controlUrl: string,
    private readonly timeoutMs: number,
    ca?: string,
  ) {
    // keepAlive as Node's global agent has it: one TLS handshake per connection, not one per report.
    this.httpsAgent = ca ? new HttpsAgent({ ca, keepAlive: true }) : undefined;
  }

  async enrol(request: EnrolRequest): Promise<ControlResult<EnrolResponse>> {
    const result = await this.post<EnrolResponse>('/v1/agents/enrol', JSON.stringify(request), null, false);
    if (result.ok && !isEnrolResponse(result.value)) {
      // Kept in credentials.json and sent with every report: an answer unlike control's must not be kept.
      return { ok: false, kind: 'unavailable', status: 200, detail: 'the enrolment answer carries no well-formed agentId, agentToken and hostName' };
    }
    return result;
  }

  /** Posts spooled reports as they were spooled (a JSON array): they are not parsed and serialised again. */
  async sendReports(credentials: AgentCredentials, batch: SpooledBatch): Promise<ControlResult<IngestResponse>> {
    const result = await this.post<IngestResponse>(`/v1/agents/${encodeURIComponent(credentials.agentId)}/reports`, batch.body, credentials.agentToken, true);
    if (result.ok && !Number.isSafeInteger(result.value?.lastSeq)) {
      return { ok: false, kind: 'unavailable', status: 200, detail: 'the ingest answer carries no lastSeq' };
    }
    return result;
  }

  private async post<T>(path: string, json: string | Buffer, token: string | null, agentRoute: boolean): Promise<ControlResult<T>> {
    let answer;
    try {
      answer = await postJson(new URL(path, this.controlUrl), json, token ? { authorization: `Bearer ${token}` } : {}, this.timeoutMs, this.httpsAgent);
    } catch (error) {
      const { code, message } = error as NodeJS.ErrnoException;
      if (code && CERTIFICATE_ERROR.test(code)) return { ok: false, kind: 'untrusted', status: null, detail: `${message} (${code})` };
      return { ok: false, kind: 'unavailable', status: null, detail: message };
    }
    const { status } = answer;
    if (status >= 200 && status < 300) {
      try {
        return { ok: true, value: JSON.parse(answer.body) as T };
      } catch {
        return { ok: false, kind: 'unavailable', status, detail: 'the answer is not JSON' };
      }
    }
    const detail = problemDetail(answer.body);
    if (status >= 500 || status === 429 || status < 400) return { ok: false, kind: 'unavailable', status, detail };
    if (status === 401 || status === 403 || (agentRoute && (status === 404 || status === 409))) return { ok: false, kind: 'unauthorised', status, detail };
    return { ok: false, kind: 'refused', status, detail };
  }
}

function isEnrolResponse(value: Partial<EnrolResponse> | null): boolean {
  const matches = (pattern: RegExp, text: unknown) => typeof text === 'string' && pattern.test(text);
  return matches(AGENT_ID, value?.agentId) && matches(AGENT_TOKEN, value?.agentToken) && matches(HOST_NAME, value?.hostName);
}

/** The `detail` of an RFC 9457 problem, or the start of whatever else came back. */
function problemDetail(text: string): string {
  try {
    const problem = JSON.parse(text) as { code?: unknown; detail?: unknown };
    return [problem.code, problem.detail].filter((part) => typeof part === 'string').join(': ') || text.slice(0, 500);
  } catch {
    return text.slice(0, 500);
  }
}
