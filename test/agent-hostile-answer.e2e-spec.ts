import { createServer, request, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { bootControl, ControlProcess, createDataDir, removeDataDir } from './support/restartable-control';
import { startAgent } from './support/agent-process';
import { eventually } from './support/eventually';

/**
 * Stands between agent and control. Enrolment always goes through to control; while `hostile`, report batches never
 * reach it and are answered 200 with `lastSeq` 2^53 − 1, as a hostile control or anyone on a plain-HTTP path could.
 */
class HostilePath {
  hostile = true;
  /** The seqs of every batch answered with the hostile lastSeq. */
  readonly hostileSeqs: number[] = [];
  private server: Server;

  constructor(private readonly upstream: string) {
    this.server = createServer((incoming, outgoing) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk) => chunks.push(chunk));
      incoming.on('end', () => {
        const body = Buffer.concat(chunks);
        if (this.hostile && incoming.url?.endsWith('/reports')) {
          const sent = JSON.parse(body.toString());
          for (const report of Array.isArray(sent) ? sent : [sent]) this.hostileSeqs.push(report.seq);
          const answer = { accepted: 1, duplicates: 0, refused: [], lastSeq: Number.MAX_SAFE_INTEGER, reportIntervalSeconds: 1 };
          return void outgoing.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
        }
        const forwarded = request(`${this.upstream}${incoming.url}`, { method: incoming.method, headers: incoming.headers }, (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        });
        forwarded.on('error', () => outgoing.writeHead(502).end());
        forwarded.end(body);
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('the agent answered lastSeq 2^53 − 1', () => {
  let controlDir: string;
  let agentDir: string;
  let control: ControlProcess;
  let path: HostilePath;

  beforeAll(async () => {
    controlDir = createDataDir();
    agentDir = createDataDir();
    control = await bootControl(controlDir, { reportIntervalSeconds: 1 });
    path = new HostilePath(control.url);
  });

  afterAll(async () => {
    await path?.close();
    await control?.stop();
    removeDataDir(controlDir);
    removeDataDir(agentDir);
  });

  it('keeps measuring and spooling, across a restart, and its reports reach control once control answers sanely', async () => {
    const controlUrl = await path.listen();
    const join = await control.api(control.tokenFile()).post('/v1/tokens', { kind: 'join', uses: 1 });
    const settings = { controlUrl, joinToken: join.body.token, hostname: 'hostile-path-host', intervalSeconds: 1, storageMounts: ['/'] };

    let agent = startAgent(agentDir, settings);
    try {
      await eventually(
        () => `three hostile answers (agent said: ${agent.output().slice(-500)})`,
        () => path.hostileSeqs.length >= 3,
        30_000,
      );
    } finally {
      await expect(agent.stop()).resolves.toBe(0);
    }
    // Restarted while the answers are still hostile: nothing the first run took from them may stick.
    agent = startAgent(agentDir, settings);
    try {
      const before = path.hostileSeqs.length;
      await eventually(
        () => `two more hostile answers (agent said: ${agent.output().slice(-500)})`,
        () => path.hostileSeqs.length >= before + 2,
        30_000,
      );
      const hostileSeqs = [...path.hostileSeqs];
      expect(hostileSeqs).toEqual(Array.from({ length: hostileSeqs.length }, (_, index) => index + 1));

      path.hostile = false;
      const api = control.api(control.tokenFile());
      await eventually(
        () => `three reports stored by control (agent said: ${agent.output().slice(-500)})`,
        async () => ((await api.get('/v1/hosts/hostile-path-host')).body.measurements?.seq ?? 0) >= hostileSeqs.at(-1)! + 3,
        30_000,
      );
      const host = await api.get('/v1/hosts/hostile-path-host');
      expect(host.body.status).toBe('up');
      expect(host.body.measurements.seq).toBeLessThan(hostileSeqs.at(-1)! + 60);
      expect(agent.output()).toMatch(/control says it stored seqs beyond any this agent handed out/);
      expect(agent.output()).not.toMatch(/"level":50/);
    } finally {
      await expect(agent.stop()).resolves.toBe(0);
    }
  }, 120_000);
});
