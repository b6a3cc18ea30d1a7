/**
 * Child process: the baseline. A bare node:http server that reads a JSON body and answers 201 with a JSON body about
 * as large as an allocation's, doing no other work: the most any Node HTTP service can answer with this client.
 */
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { serveChild } from './child';

const ANSWER = JSON.stringify({
  id: '1b4e28ba-2fa1-11d2-883f-0016d3cca427',
  tenant: 'torfaen',
  host: 'blv-c0001',
  site: 'site-a',
  resources: { memory: 8589934592, vcpu: 4 },
  description: '',
  status: 'active',
  createdAt: '2024-11-22T09:00:00.000Z',
  releasedAt: null,
});

serveChild(async () => {
  const server = createServer({ keepAliveTimeout: 72_000 }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method === 'POST') JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
      response.writeHead(request.method === 'POST' ? 201 : 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(ANSWER) });
      response.end(ANSWER);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    details: { url },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
});
