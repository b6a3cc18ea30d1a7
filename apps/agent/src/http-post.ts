import { request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface PostAnswer {
  status: number;
  body: string;
}

/** Control's answers are a few hundred bytes; anything far larger is not control. */
const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * POSTs JSON text with node:http(s), giving up after `timeoutMs` in all (connect, send, answer). The agent does not use
 * global fetch: its undici stack needs WebAssembly, which the agent's --lite-mode switches off, and would cost ~6 MB.
 * `httpsAgent` carries the TLS settings for an https URL (the CA to verify control against); default: Node's own.
 */
export function postJson(url: URL, json: string | Buffer, headers: Record<string, string>, timeoutMs: number, httpsAgent?: HttpsAgent): Promise<PostAnswer> {
  const payload = typeof json === 'string' ? Buffer.from(json) : json;
  const https = url.protocol === 'https:';
  const send = https ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = send(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'content-length': payload.length },
        agent: https ? httpsAgent : undefined, // undefined: Node's global agent
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        let received = 0;
        incoming.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > MAX_ANSWER_BYTES) return void outgoing.destroy(new Error(`the answer from ${url.origin} exceeds ${MAX_ANSWER_BYTES} bytes`));
          chunks.push(chunk);
        });
        incoming.on('end', () => {
          clearTimeout(deadline);
          resolve({ status: incoming.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
        incoming.on('error', fail);
      },
    );
    const deadline = setTimeout(() => outgoing.destroy(new Error(`no answer from ${url.origin} within ${timeoutMs} ms`)), timeoutMs);
    function fail(error: Error): void {
      clearTimeout(deadline);
      reject(error);
    }
    outgoing.on('error', fail);
    outgoing.end(payload);
  });
}
