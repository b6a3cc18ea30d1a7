import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EnrolRequest, HostFacts, Report } from '@dcm/protocol';
import { REPORT_SCHEMA_VERSION } from '@dcm/protocol';
import { Agent, MAX_BACKOFF_MS } from '../../apps/agent/src/agent';
import { agentConfig } from '../../apps/agent/src/agent-config';
import type { AgentLogger } from '../../apps/agent/src/agent-logger';
import type { ReportSource } from '../../apps/agent/src/collector';
import { eventually, pause } from '../support/eventually';

const AGENT_TOKEN = 'dcm_agent_0123456789abcdefghijklmnopqrstuvwxyz';
const JOIN_TOKEN = 'dcm_join_0123456789abcdefghijklmnop';

type Answer = { status: number; body?: unknown; delayMs?: number };

/** A stand-in for control's agent endpoints on a real node:http server: records what arrives, answers as told. */
class FakeControl {
  readonly enrolments: EnrolRequest[] = [];
  /** Every report batch that reached the server, whatever the answer. */
  readonly batches: { seqs: number[]; authorization: string | undefined }[] = [];
  /** Seqs stored, as control would: each once, duplicates ignored. */
  readonly stored: number[] = [];
  readonly agentId = randomUUID();
  /** Decides the answer to an enrolment; undefined: enrol as control would. */
  answerEnrol: () => Answer | undefined = () => undefined;
  /** Decides the answer to a report batch; undefined: store it and answer 200. */
  answerReports: (seqs: number[]) => Answer | undefined = () => undefined;
  /** Seqs control refuses on their own (as if collected outside its time window): answered in `refused`, not stored. */
  refuse = new Set<number>();
  private server: Server | null = null;

  async listen(port = 0): Promise<number> {
    this.server = createServer(
      (incoming, outgoing) =>
        void this.handle(incoming).then(({ status, body }) =>
          outgoing.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? {})),
        ),
    );
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server!.close(resolve));
    this.server = null;
  }

  private async handle(incoming: IncomingMessage): Promise<Answer> {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (incoming.url === '/v1/agents/enrol') {
      this.enrolments.push(body);
      const answer = this.answerEnrol();
      if (answer) return answer;
      return { status: 201, body: { agentId: this.agentId, agentToken: AGENT_TOKEN, hostName: body.hostname, reportIntervalSeconds: 15 } };
    }
    if (incoming.url !== `/v1/agents/${this.agentId}/reports`) return { status: 404, body: { code: 'NotFound' } };
    const seqs = (Array.isArray(body) ? body : [body]).map((report: Report) => report.seq);
    this.batches.push({ seqs, authorization: incoming.headers.authorization });
    if (incoming.headers.authorization !== `Bearer ${AGENT_TOKEN}`) return { status: 401, body: { code: 'Unauthenticated' } };
    const answer = this.answerReports(seqs);
    if (answer) {
      if (answer.delayMs) await pause(answer.delayMs);
      if (answer.status !== 200 || answer.body !== undefined) return answer;
    }
    const lastSeq = this.stored.at(-1) ?? 0;
    const fresh = seqs.filter((seq) => seq > lastSeq);
    const refused = fresh.filter((seq) => this.refuse.has(seq)).map((seq) => ({ seq, reason: 'collected-too-far-ahead' }));
    this.stored.push(...fresh.filter((seq) => !this.refuse.has(seq)));
    return {
      status: 200,
      body: {
        accepted: fresh.length - refused.length,
        duplicates: seqs.length - fresh.length,
        refused,
        lastSeq: this.stored.at(-1) ?? 0,
        reportIntervalSeconds: 15,
      },
    };
  }
}

const facts: HostFacts = {
  hostname: 'blv-c01',
  os: 'Debian GNU/Linux 12',
  kernel: '6.1.0',
  cpuModel: 'EPYC',
  logicalCores: 2,
  memoryTotalBytes: 2 ** 34,
  storage: [],
};

/** Reports made up on the spot: these specs are about delivery, the collector's own spec about measuring. */
const source: ReportSource = {
  warmUp: async () => undefined,
  facts: async () => facts,
  collect: async (seq, now = new Date()) => ({
    schemaVersion: REPORT_SCHEMA_VERSION,
    seq,
    collectedAt: now.toISOString(),
    cpu: { usageRatio: 0.1, load1: 0.1, load5: 0.1, load15: 0.1, logicalCores: 2 },
    memory: { totalBytes: 2 ** 34, availableBytes: 2 ** 33 },
    filesystems: [{ mountpoint: '/', fstype: 'ext4', sizeBytes: 2 ** 40, usedBytes: 2 ** 38, availBytes: 2 ** 39 }],
    network: [{ device: 'eth0', rxBytesTotal: seq, txBytesTotal: seq }],
    inventory: { vcpu: 2, memoryBytes: 2 ** 34, storageBytes: 2 ** 40 },
    tenants: {},
  }),
};

function recordingLogger(): AgentLogger & { lines: { level: string; message: string; details: object }[] } {
  const lines: { level: string; message: string; details: object }[] = [];
  const record = (level: string) => (details: object, message: string) => void lines.push({ level, message, details });
  return { lines, info: record('info'), warn: record('warn'), error: record('error') };
}

/** A port nothing listens on (connection refused), which a FakeControl can take later. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe(Agent.name, () => {
  let dataDir: string;
  let control: FakeControl;
  let port: number;
  let clock: number;
  let jitter: number;
  let logger: ReturnType<typeof recordingLogger>;
  const agents: Agent[] = [];

  function anAgent(settings: Record<string, unknown> = {}): Agent {
    const config = agentConfig({
      controlUrl: `http://127.0.0.1:${port}`,
      joinToken: JOIN_TOKEN,
      dataDir,
      hostname: 'blv-c01',
      intervalSeconds: 1,
      ...settings,
    });
    const agent = new Agent(config, logger, { collector: source, now: () => clock, random: () => jitter });
    agents.push(agent);
    return agent;
  }

  /** One interval passes: the clock moves on and the agent does what its timer would have it do. */
  async function interval(sut: Agent, seconds = 1): Promise<void> {
    clock += seconds * 1000;
    await sut.tick();
  }

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'dcm-agent-'));
    control = new FakeControl();
    port = await control.listen();
    clock = Date.parse('2026-11-22T10:00:00Z');
    jitter = 0;
    logger = recordingLogger();
  });

  afterEach(async () => {
    for (const agent of agents.splice(0)) await agent.stop(0);
    await control.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('enrols once, keeps its credentials in a 0600 file and reports with its own token', async () => {
    const sut = anAgent();
    await sut.tick();
    await interval(sut);

    expect(control.enrolments).toEqual([{ joinToken: JOIN_TOKEN, hostname: 'blv-c01', facts }]);
    const credentials = join(dataDir, 'credentials.json');
    expect(statSync(credentials).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(credentials, 'utf8'))).toEqual({
      controlUrl: `http://127.0.0.1:${port}`,
      agentId: control.agentId,
      agentToken: AGENT_TOKEN,
      hostName: 'blv-c01',
    });
    expect(control.batches).toEqual([
      { seqs: [1], authorization: `Bearer ${AGENT_TOKEN}` },
      { seqs: [2], authorization: `Bearer ${AGENT_TOKEN}` },
    ]);

    await sut.stop();
    const restarted = anAgent();
    await interval(restarted);
    expect(control.enrolments).toHaveLength(1);
    expect(control.stored).toEqual([1, 2, 3]);
  });

  it('spools while control is down, then delivers every report exactly once, in seq order, in batches of at most 500', async () => {
    port = await freePort();
    const sut = anAgent();
    jitter = 0.999;
    for (let tick = 0; tick < 1_100; tick++) await interval(sut);
    expect(sut.spooled).toBe(1_100);
    expect(logger.lines.some((line) => line.level === 'warn' && /ECONNREFUSED/.test(JSON.stringify(line.details)))).toBe(true);

    await control.close();
    control = new FakeControl();
    await control.listen(port);
    await interval(sut, MAX_BACKOFF_MS / 1000);

    expect(control.enrolments).toHaveLength(1);
    expect(control.batches.map((batch) => batch.seqs.length)).toEqual([500, 500, 101]);
    expect(control.batches.flatMap((batch) => batch.seqs)).toEqual(Array.from({ length: 1_101 }, (_, index) => index + 1));
    expect(control.stored).toEqual(Array.from({ length: 1_101 }, (_, index) => index + 1));
    expect(sut.spooled).toBe(0);
    expect(sut.nextSendAt).toBe(0);
    expect(logger.lines.some((line) => line.level === 'info' && /reachable again/.test(line.message))).toBe(true);
  });

  it('backs off exponentially with full jitter on 5xx, up to 5 minutes, while still measuring every interval', async () => {
    control.answerReports = () => ({ status: 503, body: { code: 'Unavailable' } });
    jitter = 0.5;
    const sut = anAgent();
    const delays: number[] = [];
    let attempts = 0;
    await sut.tick();
    for (let failure = 1; failure <= 11; failure++) {
      expect(control.batches).toHaveLength(++attempts);
      delays.push(sut.nextSendAt - clock);
      // Nothing is sent before the backoff is over, though a report is still made every interval.
      clock = sut.nextSendAt - 1;
      await sut.tick();
      expect(control.batches).toHaveLength(attempts);
      await interval(sut, 0.001);
    }
    expect(delays).toEqual([500, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 150_000, 150_000]);
    expect(sut.spooled).toBe(23);

    control.answerReports = () => undefined;
    await interval(sut, 150);
    expect(control.stored).toEqual(Array.from({ length: 24 }, (_, index) => index + 1));
    expect(sut.nextSendAt).toBe(0);
  });

  it('on 401 keeps every report in the spool and says so loudly', async () => {
    control.answerReports = () => ({ status: 401, body: { code: 'Unauthenticated', detail: 'token revoked' } });
    const sut = anAgent();
    await sut.tick();
    await interval(sut);
    await interval(sut);

    expect(sut.spooled).toBe(3);
    expect(control.stored).toEqual([]);
    const loud = logger.lines.filter((line) => line.level === 'error');
    expect(loud.length).toBeGreaterThan(0);
    expect(loud[0]).toMatchObject({
      message: expect.stringContaining('does not accept this agent'),
      details: { status: 401, detail: 'Unauthenticated: token revoked' },
    });
  });

  it('drops only the report control refuses (a 400 for it alone), and delivers the rest in order', async () => {
    const sut = anAgent();
    await sut.tick(); // enrolled, seq 1 delivered
    control.answerReports = (seqs) =>
      seqs.includes(5) ? { status: 400, body: { code: 'ValidationFailed', detail: '/cpu/usageRatio: must be <= 1' } } : undefined;
    jitter = 0.999;
    await control.close();
    for (let tick = 0; tick < 8; tick++) await interval(sut); // spooled 2–9 while down
    await control.listen(port);
    await interval(sut, MAX_BACKOFF_MS / 1000);

    expect(control.stored).toEqual([1, 2, 3, 4, 6, 7, 8, 9, 10]);
    expect(sut.poisoned).toBe(1);
    expect(sut.spooled).toBe(0);
    expect(logger.lines.find((line) => line.level === 'error')).toMatchObject({
      message: expect.stringContaining('refused this report'),
      details: { seq: 5, status: 400 },
    });
  });

  it('drops the reports control refused on their own (200 with refused), says so, and never sends them again', async () => {
    const sut = anAgent();
    await sut.tick(); // enrolled, seq 1 delivered
    control.refuse = new Set([3, 4]);
    jitter = 0.999;
    await control.close();
    for (let tick = 0; tick < 4; tick++) await interval(sut); // spooled 2–5 while down
    await control.listen(port);
    await interval(sut, MAX_BACKOFF_MS / 1000);
    await interval(sut);

    expect(control.stored).toEqual([1, 2, 5, 6, 7]);
    expect(control.batches.flatMap((batch) => batch.seqs)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(sut.spooled).toBe(0);
    expect(logger.lines.find((line) => line.level === 'warn' && /refused these reports/.test(line.message))).toMatchObject({
      details: { refusedCount: 2, refused: [{ seq: 3 }, { seq: 4 }] },
    });
  });

  it('splits batches control finds too large (413) and loses nothing', async () => {
    const sut = anAgent();
    await control.close();
    jitter = 0.999;
    for (let tick = 0; tick < 9; tick++) await interval(sut);
    await control.listen(port);
    control.answerReports = (seqs) => (seqs.length > 2 ? { status: 413, body: { code: 'PayloadTooLarge' } } : undefined);
    await interval(sut, MAX_BACKOFF_MS / 1000);

    expect(control.stored).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(Math.max(...control.batches.filter((batch) => batch.seqs.length <= 2).map((batch) => batch.seqs.length))).toBe(2);
    expect(sut.poisoned).toBe(0);
  });

  it('never reuses a seq after a restart, whatever was sent or is still spooled', async () => {
    const first = anAgent();
    await first.tick();
    await interval(first);
    await first.stop();
    unlinkSync(join(dataDir, 'state.json')); // even without its state file, the spool remembers the last seq sent

    const second = anAgent();
    await interval(second);
    expect(second.lastSeq).toBe(3);
    await control.close();
    await interval(second); // 4, spooled
    await second.stop();

    const third = anAgent();
    await control.listen(port);
    await interval(third, MAX_BACKOFF_MS / 1000);
    expect(control.stored).toEqual([1, 2, 3, 4, 5]);
  });

  it('never takes up a lastSeq beyond its own: a hostile answer neither stops it measuring nor renumbers its reports', async () => {
    const sut = anAgent();
    const hostile = { status: 200, body: { accepted: 1, duplicates: 0, lastSeq: Number.MAX_SAFE_INTEGER, reportIntervalSeconds: 15 } };
    control.answerReports = () => hostile;
    await sut.tick();
    for (let tick = 0; tick < 3; tick++) await interval(sut);

    expect(sut.lastSeq).toBe(4);
    expect(control.batches.map((batch) => batch.seqs)).toEqual([[1], [2], [3], [4]]);
    expect(logger.lines.filter((line) => line.message.startsWith('control says it stored seqs beyond'))).toEqual([
      { level: 'warn', message: expect.any(String), details: { controlLastSeq: Number.MAX_SAFE_INTEGER, lastSeq: 1 } },
    ]);

    control.answerReports = () => undefined;
    await sut.stop();
    const restarted = anAgent();
    await interval(restarted);
    await interval(restarted);
    expect(control.stored).toEqual([5, 6]);
    expect(restarted.lastSeq).toBe(6);
  });

  it('numbers on from what it counted when an older agent left a seq from an answer in its data directory', async () => {
    const poisoned = Number.MAX_SAFE_INTEGER + 1; // what an older agent numbered after taking up lastSeq 2^53 − 1
    const lines = [await source.collect(1), await source.collect(2), await source.collect(poisoned)].map((report) => `${JSON.stringify(report)}\n`);
    mkdirSync(join(dataDir, 'spool'));
    writeFileSync(join(dataDir, 'spool', '0000000000000001.jsonl'), lines.join(''));
    writeFileSync(join(dataDir, 'spool', 'acked'), String(poisoned));
    writeFileSync(join(dataDir, 'state.json'), JSON.stringify({ seq: poisoned }));

    const sut = anAgent();
    await sut.tick();
    await interval(sut);

    expect(control.stored).toEqual([1, 2, 3, 4]);
    expect(sut.lastSeq).toBe(4);
    expect(JSON.parse(readFileSync(join(dataDir, 'state.json'), 'utf8'))).toEqual({ seq: 4 });
    expect(logger.lines.filter((line) => line.level !== 'info').map((line) => line.message)).toEqual([
      expect.stringContaining('state.json holds a seq this agent cannot have counted'),
    ]);
  });

  it("keeps no credentials from an enrolment answer unlike control's, and keeps measuring until a sane one comes", async () => {
    const sut = anAgent();
    const base = { agentId: control.agentId, agentToken: AGENT_TOKEN, hostName: 'blv-c01', reportIntervalSeconds: 15 };
    const hostile = [
      { ...base, agentToken: `${AGENT_TOKEN}\r\nx-injected: 1` },
      { ...base, agentId: '../../tokens' },
      { ...base, hostName: 'x'.repeat(100_000) },
    ];
    for (const body of hostile) {
      control.answerEnrol = () => ({ status: 201, body });
      await interval(sut, MAX_BACKOFF_MS / 1000);
    }
    expect(control.enrolments).toHaveLength(3);
    expect(existsSync(join(dataDir, 'credentials.json'))).toBe(false);
    expect(sut.spooled).toBe(3);

    control.answerEnrol = () => undefined;
    await interval(sut, MAX_BACKOFF_MS / 1000);
    expect(control.stored).toEqual([1, 2, 3, 4]);
    expect(JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8'))).toMatchObject({ agentToken: AGENT_TOKEN });
  });

  it('on stop lets the send in flight finish, then sends nothing more', async () => {
    const sut = anAgent();
    await sut.tick();
    control.answerReports = () => ({ status: 200, delayMs: 300 });
    clock += 1000;
    const inFlight = sut.tick();
    await eventually('the second batch to be in flight', () => control.batches.length >= 2, { intervalMs: 10 });

    await sut.stop();
    await inFlight;

    expect(control.stored).toEqual([1, 2]);
    expect(sut.spooled).toBe(0);
    await interval(sut);
    expect(control.batches).toHaveLength(2);
  });

  it('without credentials or a join token keeps measuring into the spool and says why it cannot send', async () => {
    const sut = anAgent({ joinToken: undefined });
    await sut.tick();
    await interval(sut, 10);

    expect(control.enrolments).toEqual([]);
    expect(sut.spooled).toBe(2);
    expect(logger.lines.find((line) => line.level === 'error')?.details).toMatchObject({ detail: expect.stringContaining('no joinToken') });
  });
});
