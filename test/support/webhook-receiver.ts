import { createServer, IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

export interface ReceivedCall {
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A real HTTP endpoint for webhook tests: records every POST and answers `failNext` of them with 503 first. */
export interface WebhookReceiver {
  url: string;
  calls: ReceivedCall[];
  /** The bodies of the calls answered 2xx, in order. */
  accepted(): Record<string, unknown>[];
  failNext: number;
  /** When set, calls are answered 200 with a body this long, streamed in 64 KiB chunks for as long as the caller reads. */
  answerBytes: number;
  /** How much of those answers the caller took (what the socket accepted) before it stopped reading. */
  answerBytesWritten: number;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const accepted: Record<string, unknown>[] = [];
  const receiver: WebhookReceiver = {
    url: '',
    calls: [],
    accepted: () => accepted,
    failNext: 0,
    answerBytes: 0,
    answerBytesWritten: 0,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk) => (text += chunk));
    request.on('end', () => {
      const body = JSON.parse(text) as Record<string, unknown>;
      receiver.calls.push({ headers: request.headers, body });
      if (receiver.failNext > 0) {
        receiver.failNext--;
        response.writeHead(503).end();
        return;
      }
      accepted.push(body);
      if (receiver.answerBytes > 0) return streamAnswer(response, receiver);
      response.writeHead(204).end();
    });
  });
  // Closing must not wait for a caller that stopped reading a long answer.
  const close = receiver.close;
  receiver.close = () => (server.closeAllConnections(), close());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dcm-events`;
  return receiver;
}

function streamAnswer(response: ServerResponse, receiver: WebhookReceiver): void {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  response.writeHead(200, { 'content-type': 'text/plain', 'content-length': receiver.answerBytes });
  let left = receiver.answerBytes;
  const write = () => {
    while (left > 0) {
      const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= piece.length;
      receiver.answerBytesWritten += piece.length;
      if (!response.write(piece)) return void response.once('drain', write);
    }
    response.end();
  };
  response.on('close', () => (left = 0));
  write();
}
