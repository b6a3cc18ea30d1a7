import { createServer, IncomingHttpHeaders, Server } from 'node:http';
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
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const accepted: Record<string, unknown>[] = [];
  const receiver: WebhookReceiver = {
    url: '',
    calls: [],
    accepted: () => accepted,
    failNext: 0,
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
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dcm-events`;
  return receiver;
}
