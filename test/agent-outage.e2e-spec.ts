import { createServer, request, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { bootControl, ControlProcess, createDataDir, removeDataDir } from './support/restartable-control';
import { startAgent } from './support/agent-process';
import { eventually, pause } from './support/eventually';

/**
 * A plain forwarding proxy between agent and control that records every report batch control acknowledged, so the
 * test can see exactly which seqs control took, and when. While control is down it answers 502, as a load balancer
 * in front of a stopped control would.
 */
class RecordingProxy {
  upstream: string | null = null;
  readonly accepted: number[] = [];
  private lastSeq = 0;
  private server: Server;

  constructor() {
    this.server = createServer((incoming, outgoing) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk) => chunks.push(chunk));
      incoming.on('end', () => {
        const body = Buffer.concat(chunks);
        if (!this.upstream) return void outgoing.writeHead(502).end();
        const forwarded = request(`${this.upstream}${incoming.url}`, { method: incoming.method, headers: incoming.headers }, (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (part) => parts.push(part));
          answer.on('end', () => {
            if (answer.statusCode === 200 && incoming.url?.endsWith('/reports')) this.record(body, JSON.parse(Buffer.concat(parts).toString()));
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers).end(Buffer.concat(parts));
          });
        });
        forwarded.on('error', () => outgoing.writeHead(502).end());
        forwarded.end(body);
      });
    });
  }

  private record(body: Buffer, answer: { lastSeq: number }) {
    const sent = JSON.parse(body.toString());
    for (const report of Array.isArray(sent) ? sent : [sent]) if (report.seq > this.lastSeq && report.seq <= answer.lastSeq) this.accepted.push(report.seq);
    this.lastSeq = Math.max(this.lastSeq, answer.lastSeq);
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('the agent through a control outage', () => {
  let controlDir: string;
  let agentDir: string;
  let control: ControlProcess | null = null;
  let proxy: RecordingProxy;

  beforeAll(() => {
    controlDir = createDataDir();
    agentDir = createDataDir();
  });

  afterAll(async () => {
    await control?.stop();
    await proxy?.close();
    removeDataDir(controlDir);
    removeDataDir(agentDir);
  });

  it('spools every report while control is down and delivers each exactly once, in order, when it is back', async () => {
    control = await bootControl(controlDir, { reportIntervalSeconds: 1 });
    proxy = new RecordingProxy();
    proxy.upstream = control.url;
    const proxyUrl = await proxy.listen();
    const join = await control.api(control.tokenFile()).post('/v1/tokens', { kind: 'join', uses: 1 });
    const agent = startAgent(agentDir, { controlUrl: proxyUrl, joinToken: join.body.token, hostname: 'outage-host', intervalSeconds: 1, storageMounts: ['/'] });
    try {
      await eventually(`the first reports (agent said: ${agent.output().slice(-500)})`, () => proxy.accepted.length >= 2, 30_000);

      // Control goes away for several intervals.
      await control.stop();
      proxy.upstream = null;
      control = null;
      const acceptedBeforeOutage = proxy.accepted.length;
      await pause(6_000);
      expect(proxy.accepted.length).toBe(acceptedBeforeOutage);

      // Control comes back on the same database; the agent's backoff (≤ 2^n s with jitter) lets it retry soon.
      control = await bootControl(controlDir, { reportIntervalSeconds: 1 });
      proxy.upstream = control.url;
      await eventually('the spooled reports', () => proxy.accepted.length >= acceptedBeforeOutage + 8, 60_000);
    } finally {
      await expect(agent.stop()).resolves.toBe(0);
    }

    const seqs = proxy.accepted;
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, index) => index + 1));
    const host = await control!.api(control!.tokenFile()).get('/v1/hosts/outage-host');
    expect(host.body.measurements.seq).toBeGreaterThanOrEqual(seqs.at(-1)!);
    expect(host.body.status).toBe('up');
  }, 120_000);
});
