/**
 * The load generator's HTTP client, behind one small interface so that the client's own cost can be compared:
 * - `undici`: undici's Pool and pool.request() (one keep-alive connection per concurrent client);
 * - `fetch`: Node's global fetch (undici inside, plus the WHATWG Request/Response/streams layers).
 * BENCH_CLIENT chooses; the default is undici when it is installed, fetch otherwise.
 */

export interface HttpAnswer {
  status: number;
  body: string;
}

export interface HttpClient {
  readonly kind: 'undici' | 'fetch';
  /**
   * Opens `count` connections (as many concurrent GETs of `path`) before a timed phase. A saturated Node server accepts
   * about one new connection per event-loop turn, so connections opened while it is busy can wait for seconds, and
   * the timed phase would measure that queue rather than the requests.
   */
  warmUp(count: number, path: string): Promise<void>;
  request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<HttpAnswer>;
  close(): Promise<void>;
}

// The few members of undici's Pool this file uses (undici is optional: typed here, loaded with require).
interface UndiciPool {
  request(options: { method: string; path: string; headers: Record<string, string>; body?: string }): Promise<{
    statusCode: number;
    body: { text(): Promise<string> };
  }>;
  close(): Promise<void>;
}
type UndiciModule = {
  Pool: new (
    origin: string,
    options: { connections: number; pipelining: number; keepAliveTimeout: number; headersTimeout: number; bodyTimeout: number },
  ) => UndiciPool;
};

/** A request unanswered for this long counts as an error (a hung server must not stall the run for undici's 300 s). */
export const REQUEST_TIMEOUT_MS = 60_000;

function loadUndici(): UndiciModule | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('undici') as UndiciModule;
  } catch {
    return null;
  }
}

export function clientKind(): HttpClient['kind'] {
  const wanted = process.env.BENCH_CLIENT;
  if (wanted === 'fetch') return 'fetch';
  if (wanted === 'undici') {
    if (!loadUndici()) throw new Error('BENCH_CLIENT=undici, but undici is not installed (npm install --save-dev undici@^6)');
    return 'undici';
  }
  if (wanted) throw new Error(`BENCH_CLIENT must be undici or fetch, got ${JSON.stringify(wanted)}`);
  return loadUndici() ? 'undici' : 'fetch';
}

/** A client for one server, sized for `connections` requests in flight. */
export function createHttpClient(origin: string, token: string | null, connections: number, kind: HttpClient['kind'] = clientKind()): HttpClient {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const bodyless: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};

  if (kind === 'undici') {
    const { Pool } = loadUndici()!;
    const pool = new Pool(origin, {
      connections,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      headersTimeout: REQUEST_TIMEOUT_MS,
      bodyTimeout: REQUEST_TIMEOUT_MS,
    });
    return {
      kind,
      async request(method, path, body) {
        const response = await pool.request({
          method,
          path,
          headers: body === undefined ? bodyless : headers,
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return { status: response.statusCode, body: await response.body.text() };
      },
      warmUp: (count, path) => warmUp(count, path, (p) => pool.request({ method: 'GET', path: p, headers: bodyless }).then((r) => r.body.text())),
      close: () => pool.close(),
    };
  }

  return {
    kind,
    async request(method, path, body) {
      const response = await fetch(`${origin}${path}`, {
        method,
        headers: body === undefined ? bodyless : headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      return { status: response.status, body: await response.text() };
    },
    warmUp: (count, path) => warmUp(count, path, (p) => fetch(`${origin}${p}`, { headers: bodyless }).then((r) => r.text())),
    close: async () => undefined,
  };
}

async function warmUp(count: number, path: string, get: (path: string) => Promise<unknown>): Promise<void> {
  await Promise.all(Array.from({ length: count }, () => get(path)));
}
