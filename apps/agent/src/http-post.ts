import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface PostAnswer {
  status: number;
  body: string;
}

/**
 * POSTs JSON with node:http(s). The agent avoids global fetch: loading its HTTP stack costs ~6 MB of resident memory,
 * a tenth of the agent's budget.
 */
export function postJson(url: URL, body: unknown, headers: Record<string, string>, timeoutMs: number): Promise<PostAnswer> {
  const payload = Buffer.from(JSON.stringify(body));
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = send(
      url,
      { method: 'POST', timeout: timeoutMs, headers: { ...headers, 'content-type': 'application/json', 'content-length': payload.length } },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        incoming.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer from ${url.origin} within ${timeoutMs} ms`)));
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}
