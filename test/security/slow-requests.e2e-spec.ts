import { connect, Socket } from 'node:net';
import { RunningControl, startControl } from '../support/control';
import { makeTestPki, TestPki } from '../support/tls';

const TIMEOUT_S = 2;
const AGENT_ID = '00000000-0000-4000-8000-0000000000a1';

interface Trickle {
  /** Bytes of the body sent before the server closed the connection. */
  sent: number;
  /** What the server answered, if anything. */
  answer: string;
  closedByServer: boolean;
}

/**
 * Sends a request's headers at once, then its body one byte every `everyMs`, as a slow-loris client does; stops when
 * the server closes the connection or the whole body has gone.
 */
function trickle(url: string, head: string, bodyLength: number, everyMs: number): Promise<Trickle> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    let sent = 0;
    let answer = '';
    let timer: NodeJS.Timeout | undefined;
    const socket: Socket = connect(Number(port), hostname, () => {
      socket.write(head);
      timer = setInterval(() => {
        if (sent === bodyLength) return;
        socket.write('x');
        sent += 1;
      }, everyMs);
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ sent, answer, closedByServer: sent < bodyLength });
    });
    // The client gives up after the whole body: a server that waited that long never cut it off.
    setTimeout(() => socket.destroy(), (bodyLength + 2) * everyMs).unref();
  });
}

/** Connects, sends `bytes` (maybe none) and resolves whether the server closed the connection before the client gave up. */
function silentAfter(url: string, bytes: Buffer): Promise<boolean> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname, () => socket.write(bytes));
  socket.on('error', () => undefined);
  // The client would wait ten times the limit.
  const giveUp = setTimeout(() => socket.destroy(new Error('still open')), 10 * TIMEOUT_S * 1000);
  return new Promise<boolean>((resolve) =>
    socket.on('close', (hadError) => {
      clearTimeout(giveUp);
      resolve(!hadError);
    }),
  );
}

describe('slow requests', () => {
  let control: RunningControl;

  beforeAll(async () => {
    control = await startControl({ requestTimeoutSeconds: TIMEOUT_S });
  });

  afterAll(async () => {
    await control?.close();
  });

  // 40 bytes at 4 a second take 10 s, five times the limit.
  const BODY = 40;
  const EVERY_MS = 250;

  it('cuts off a body trickled to a framework route, before any authentication, well before it is whole', async () => {
    const head = `POST /v1/tenants HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${BODY}\r\n\r\n`;

    const result = await trickle(control.url, head, BODY, EVERY_MS);

    expect(result.closedByServer).toBe(true);
    expect(result.sent).toBeLessThan(BODY / 2);
    expect(result.answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('cuts off a body trickled to the agent-report fast path the same way', async () => {
    const head = `POST /v1/agents/${AGENT_ID}/reports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer dcm_not-a-real-agent-token\r\nContent-Type: application/json\r\nContent-Length: ${BODY}\r\n\r\n`;

    const result = await trickle(control.url, head, BODY, EVERY_MS);

    expect(result.closedByServer).toBe(true);
    expect(result.sent).toBeLessThan(BODY / 2);
  });

  it('cuts off headers trickled without end', async () => {
    const result = await trickle(control.url, 'GET /v1/tenants HTTP/1.1\r\nX-Slow: ', BODY, EVERY_MS);

    expect(result.closedByServer).toBe(true);
    expect(result.sent).toBeLessThan(BODY / 2);
  });

  it('closes a connection that sends nothing at all', async () => {
    const { hostname, port } = new URL(control.url);
    const socket = connect(Number(port), hostname);
    socket.on('error', () => undefined);
    // The client would wait ten times the limit.
    const giveUp = setTimeout(() => socket.destroy(new Error('still open')), 10 * TIMEOUT_S * 1000);

    const closedByServer = await new Promise<boolean>((resolve) => socket.on('close', (hadError) => resolve(!hadError)));
    clearTimeout(giveUp);

    expect(closedByServer).toBe(true);
  }, 60_000);

  it('still serves a request that arrives in time', async () => {
    await expect(control.api.get('/health/live', { token: null })).resolves.toMatchObject({ status: 200 });
  });
});

describe('slow TLS handshakes', () => {
  let pki: TestPki;
  let control: RunningControl;

  beforeAll(async () => {
    pki = makeTestPki();
    control = await startControl({ requestTimeoutSeconds: TIMEOUT_S, tlsCertFile: pki.certFile, tlsKeyFile: pki.keyFile });
  });

  afterAll(async () => {
    await control?.close();
    pki?.remove();
  });

  it('closes a connection that never starts its handshake', async () => {
    await expect(silentAfter(control.url, Buffer.alloc(0))).resolves.toBe(true);
  }, 60_000);

  it('closes a connection that stops half-way through its ClientHello', async () => {
    // A TLS record header announcing a 512-byte handshake message, and the first bytes of a ClientHello.
    const halfHello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]);

    await expect(silentAfter(control.url, halfHello)).resolves.toBe(true);
  }, 60_000);
});
