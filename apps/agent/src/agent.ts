import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
// The constants alone: the schemas and their validators are control's, and would cost the agent ~20 MB.
import { MAX_REPORTS_PER_BATCH } from '@dcm/protocol/constants';
import type { AgentConfig } from './agent-config';
import type { AgentLogger } from './agent-logger';
import type { ReportSource } from './collector';
import { AgentCredentials, ControlClient, ControlFailure } from './control-client';
import { readJsonFile, writeAtomically } from './data-files';
import { isCountedSeq, Spool } from './spool';

export const REQUEST_TIMEOUT_MS = 10_000;
export const MAX_BACKOFF_MS = 5 * 60_000;
/** Refused reports logged one by one in a drain; the rest in one line, so that a control refusing all cannot flood the log. */
const POISON_LOG_LINES = 10;

export interface AgentDependencies {
  collector: ReportSource;
  client?: ControlClient;
  /** Milliseconds since the epoch; specs move it instead of sleeping. */
  now?: () => number;
  /** In [0, 1): the jitter of the backoff. */
  random?: () => number;
}

/**
 * The host agent: every interval it measures the host, appends the report to the spool and drains the spool to
 * control oldest-first in batches, forgetting a batch once control answered 2xx. While control is unreachable or
 * failing, reports stay in the spool and sending backs off exponentially with full jitter; collection never stops.
 */
export class Agent {
  private readonly spool: Spool;
  private readonly collector: ReportSource;
  private readonly client: ControlClient;
  private readonly now: () => number;
  private readonly random: () => number;
  private credentials: AgentCredentials | null;
  private seq: number;
  private timer: NodeJS.Timeout | null = null;
  private collecting: Promise<void> | null = null;
  private draining: Promise<void> | null = null;
  private stopping = false;
  private failures = 0;
  /** Control answered a lastSeq beyond this agent's: warned once, until an answer is sane again. */
  private lastSeqAhead = false;
  /** Reports control refused one by one (a 4xx for that report alone), dropped so that they block nothing. */
  poisoned = 0;
  /** No send before this time (ms since the epoch): the backoff after a failure. */
  nextSendAt = 0;

  constructor(
    private readonly config: AgentConfig,
    private readonly logger: AgentLogger,
    dependencies: AgentDependencies,
  ) {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    this.collector = dependencies.collector;
    this.client = dependencies.client ?? new ControlClient(config.controlUrl, REQUEST_TIMEOUT_MS, config.tls?.ca);
    this.now = dependencies.now ?? Date.now;
    this.random = dependencies.random ?? Math.random;
    this.spool = new Spool(join(config.dataDir, 'spool'), config.spool.maxBytes, {
      onDrop: (count) => this.logger.warn({ dropped: count, droppedTotal: this.spool.dropped }, 'spool full: dropped the oldest unsent reports'),
    });
    this.credentials = this.readCredentials();
    // A restart must never reuse a seq: the larger of what was handed out and what the spool has seen (even if sent).
    const handedOut = readJsonFile<{ seq?: unknown }>(this.file('state.json'))?.seq;
    const counted = isCountedSeq(handedOut);
    this.seq = Math.max(counted ? handedOut : 0, this.spool.lastSeq);
    if (handedOut !== undefined && !counted) {
      this.logger.warn(
        { stateSeq: handedOut, seq: this.seq },
        'state.json holds a seq this agent cannot have counted (taken from an answer by an older agent): numbering goes on from the spool',
      );
    }
  }

  /** Reports waiting in the spool. */
  get spooled(): number {
    return this.spool.size;
  }

  get droppedBySpool(): number {
    return this.spool.dropped;
  }

  /** The seq of the latest report. */
  get lastSeq(): number {
    return this.seq;
  }

  async start(): Promise<void> {
    await this.collector.warmUp();
    if (this.stopping) return;
    await this.tick();
    if (this.stopping) return;
    this.timer = setInterval(() => void this.tick(), this.config.intervalSeconds * 1000);
  }

  /** Stops collecting, lets the send in flight finish (bounded) and leaves the rest in the spool, on disk, for next time. */
  async stop(graceMs = REQUEST_TIMEOUT_MS + 1_000): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all([this.collecting, this.draining]), new Promise((resolve) => (grace = setTimeout(resolve, graceMs).unref()))]);
    clearTimeout(grace);
    this.spool.close();
  }

  /** One interval's work: measure and spool, then send what is waiting unless backing off (or already sending). */
  async tick(): Promise<void> {
    if (this.stopping) return;
    if (this.collecting) {
      this.logger.warn({ intervalSeconds: this.config.intervalSeconds }, 'the previous measurement is still running: skipped this interval');
    } else {
      this.collecting = this.collectOne().finally(() => (this.collecting = null));
      await this.collecting;
    }
    if (!this.draining && !this.stopping && this.now() >= this.nextSendAt) {
      this.draining = this.drain().finally(() => (this.draining = null));
    }
    await this.draining;
  }

  private async collectOne(): Promise<void> {
    try {
      const seq = Math.max(this.seq, this.spool.lastSeq) + 1;
      // Persisted before use: whatever happens next, this seq is never handed out again.
      writeAtomically(this.file('state.json'), JSON.stringify({ seq }));
      this.seq = seq;
      this.spool.append(await this.collector.collect(seq, new Date(this.now())));
    } catch (error) {
      this.logger.error({ err: error }, 'measuring this host failed; no report for this interval');
    }
  }

  private async drain(): Promise<void> {
    try {
      await this.sendSpooled();
    } catch (error) {
      // Not control's doing (the disk, the measurement for enrolment): still, keep the reports and try again later.
      this.backOff({ kind: 'unavailable', status: null, detail: (error as Error).message });
    }
  }

  private async sendSpooled(): Promise<void> {
    const credentials = this.credentials ?? (await this.enrol());
    if (!credentials) return;
    let limit = MAX_REPORTS_PER_BATCH;
    const poisonedBefore = this.poisoned;
    while (!this.stopping) {
      const batch = this.spool.peekBatch(limit);
      const seqs = batch.seqs;
      if (seqs.length === 0) break;
      const result = await this.client.sendReports(credentials, batch);
      if (result.ok) {
        // Reports control refused on their own (collected outside its time window, a seq jump) are acknowledged too.
        this.spool.ack(seqs.at(-1)!);
        const refused = Array.isArray(result.value.refused) ? result.value.refused : [];
        if (refused.length > 0) {
          this.logger.warn(
            { refused: refused.slice(0, 10), refusedCount: refused.length },
            "control refused these reports and will not take them again: dropped. Check this host's clock (NTP)",
          );
        }
        this.checkLastSeq(result.value.lastSeq);
        limit = Math.min(MAX_REPORTS_PER_BATCH, limit * 2);
        continue;
      }
      if (result.kind === 'refused') {
        if (seqs.length > 1) {
          // Too large (413), or one bad report among good ones (400): halve until the culprit stands alone.
          limit = Math.ceil(seqs.length / 2);
          continue;
        }
        this.poisoned += 1;
        if (this.poisoned - poisonedBefore <= POISON_LOG_LINES) {
          this.logger.error(
            { seq: seqs[0], status: result.status, detail: result.detail, poisonedTotal: this.poisoned },
            'control refused this report; dropped it so that it does not hold up the rest',
          );
        }
        this.spool.ack(seqs[0]);
        continue;
      }
      return this.backOff(result);
    }
    if (this.poisoned - poisonedBefore > POISON_LOG_LINES) {
      this.logger.error({ dropped: this.poisoned - poisonedBefore, poisonedTotal: this.poisoned }, 'control refused more reports, dropped as well');
    }
    if (this.stopping) return;
    if (this.failures > 0) this.logger.info({ afterFailures: this.failures }, 'control is reachable again; spool drained');
    this.failures = 0;
    this.nextSendAt = 0;
  }

  /**
   * The agent owns its seq: control can only acknowledge what it was sent. A `lastSeq` beyond the highest seq handed
   * out (a hostile answer, or control holding reports of an older copy of this data directory) is never taken up, or
   * one answer could number every later report past what the protocol takes and stop the agent for good.
   */
  private checkLastSeq(lastSeq: number): void {
    if (lastSeq <= this.seq) {
      this.lastSeqAhead = false;
      return;
    }
    if (this.lastSeqAhead) return;
    this.lastSeqAhead = true;
    this.logger.warn(
      { controlLastSeq: lastSeq, lastSeq: this.seq },
      "control says it stored seqs beyond any this agent handed out: ignored, the agent numbers its own reports. If this host's data directory was restored from an older copy, control takes its reports as duplicates until the agent's seq passes control's",
    );
  }

  private async enrol(): Promise<AgentCredentials | null> {
    if (!this.config.joinToken) {
      this.backOff({ kind: 'unauthorised', status: null, detail: `not enrolled (no ${this.file('credentials.json')}) and no joinToken in the configuration` });
      return null;
    }
    const result = await this.client.enrol({ joinToken: this.config.joinToken, hostname: this.config.hostname, facts: await this.collector.facts() });
    if (!result.ok) {
      this.backOff(result);
      return null;
    }
    const credentials: AgentCredentials = {
      controlUrl: this.config.controlUrl,
      agentId: result.value.agentId,
      agentToken: result.value.agentToken,
      hostName: result.value.hostName,
    };
    writeAtomically(this.file('credentials.json'), JSON.stringify(credentials), 0o600);
    this.credentials = credentials;
    this.logger.info({ agentId: credentials.agentId, hostName: credentials.hostName }, 'enrolled with control');
    return credentials;
  }

  private backOff(failure: ControlFailure): void {
    this.failures += 1;
    // Full jitter: a facility's agents coming back together must not all retry at the same instant.
    const ceiling = Math.min(MAX_BACKOFF_MS, this.config.intervalSeconds * 1000 * 2 ** Math.min(this.failures - 1, 30));
    const delayMs = Math.round(this.random() * ceiling);
    this.nextSendAt = this.now() + delayMs;
    const details = { status: failure.status, detail: failure.detail, spooled: this.spool.size, failures: this.failures, retryInMs: delayMs };
    if (failure.kind === 'unauthorised') {
      this.logger.error(
        details,
        'control does not accept this agent: reports stay in the spool. To enrol again, delete credentials.json and set a fresh joinToken',
      );
    } else if (failure.kind === 'untrusted') {
      this.logger.error(
        { ...details, caFile: this.config.tls?.caFile ?? "Node's built-in CAs" },
        "control's TLS certificate is not trusted: nothing was sent, reports stay in the spool. tls.caFile must name the CA that signed it, and the certificate must name the host in controlUrl",
      );
    } else {
      this.logger.warn(details, 'could not deliver reports; keeping them in the spool');
    }
  }

  private readCredentials(): AgentCredentials | null {
    const credentials = readJsonFile<Partial<AgentCredentials>>(this.file('credentials.json'));
    if (!credentials) return null;
    if (typeof credentials.agentId !== 'string' || typeof credentials.agentToken !== 'string') {
      throw new Error(`${this.file('credentials.json')} holds no agentId and agentToken; delete it to enrol again`);
    }
    if (credentials.controlUrl !== this.config.controlUrl) {
      this.logger.warn(
        { enrolledWith: credentials.controlUrl, controlUrl: this.config.controlUrl },
        'reporting to another control URL than the one enrolled with',
      );
    }
    return credentials as AgentCredentials;
  }

  private file(name: string): string {
    return join(this.config.dataDir, name);
  }
}
