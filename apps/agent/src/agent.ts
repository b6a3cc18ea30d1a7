import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnrolResponse, IngestResponse } from '@dcm/protocol';
// The constants alone: the schemas and their validators are control's, and would cost the agent ~20 MB.
import { MAX_REPORTS_PER_BATCH } from '@dcm/protocol/constants';
import type { Logger } from 'pino';
import type { AgentConfig } from './agent-config';
import { Collector } from './collector';
import { postJson } from './http-post';
import { Spool } from './spool';

const REQUEST_TIMEOUT_MS = 10_000;
const MAX_BACKOFF_MS = 5 * 60_000;

interface Credentials {
  controlUrl: string;
  agentId: string;
  agentToken: string;
  hostName: string;
}

/** Control answered, but refused: retrying the same request will not help. */
class Refused extends Error {
  constructor(
    readonly status: number,
    detail: string,
  ) {
    super(`control refused (${status}): ${detail}`);
  }
}

/**
 * The host agent: every interval it measures the host, appends the report to the spool and drains the spool to
 * control oldest-first in batches. While control is unreachable or failing (network errors, 5xx) reports stay in the
 * spool and sending backs off exponentially with full jitter; collection never stops.
 */
export class Agent {
  private readonly spool: Spool;
  private readonly collector: Collector;
  private credentials: Credentials | null = null;
  private seq: number;
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<void> = Promise.resolve();
  private failures = 0;
  private nextSendAt = 0;
  private stopped = false;

  constructor(
    private readonly config: AgentConfig,
    private readonly logger: Logger,
  ) {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    this.spool = new Spool(join(config.dataDir, 'spool'), config.spool.maxBytes, (count) =>
      this.logger.warn({ dropped: count, droppedTotal: this.spool.dropped }, 'spool full: dropped the oldest reports'),
    );
    this.collector = new Collector(config);
    this.credentials = this.readJson<Credentials>('credentials.json');
    // A restart must never reuse a seq: take the larger of what was persisted and what is still spooled.
    this.seq = Math.max(this.readJson<{ seq: number }>('state.json')?.seq ?? 0, this.spool.lastSeq);
  }

  get spooled(): number {
    return this.spool.size;
  }

  async start(): Promise<void> {
    await this.collector.warmUp();
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.config.intervalSeconds * 1000);
  }

  /** Stops collecting, lets an in-flight send finish (bounded) and leaves the rest in the spool for next time. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.race([this.sending, new Promise((resolve) => setTimeout(resolve, REQUEST_TIMEOUT_MS).unref())]);
  }

  /** One interval's work: measure, spool, and send what is waiting. */
  async tick(): Promise<void> {
    try {
      this.seq += 1;
      this.writeJson('state.json', { seq: this.seq }, 0o600);
      this.spool.append(await this.collector.collect(this.seq));
    } catch (error) {
      this.logger.error({ err: error }, 'collecting the report failed');
    }
    if (Date.now() >= this.nextSendAt) {
      this.sending = this.sending.then(() => this.drain());
      await this.sending;
    }
  }

  private async drain(): Promise<void> {
    try {
      const credentials = this.credentials ?? (await this.enrol());
      while (!this.stopped && this.spool.size > 0) {
        const batch = this.spool.peek(MAX_REPORTS_PER_BATCH);
        try {
          const answer = await this.request<IngestResponse>(`/v1/agents/${credentials.agentId}/reports`, batch, credentials.agentToken);
          this.spool.ack(Math.max(answer.lastSeq, batch.at(-1)!.seq));
        } catch (error) {
          if (!(error instanceof Refused) || error.status === 401 || error.status === 413 || error.status === 429) throw error;
          // A batch control will never take (a 4xx it cannot accept): drop it, or it would block every later report.
          this.logger.error({ err: error, firstSeq: batch[0].seq, lastSeq: batch.at(-1)!.seq }, 'control refused a batch of reports; dropped it');
          this.spool.ack(batch.at(-1)!.seq);
        }
      }
      if (this.failures > 0) this.logger.info({ after: this.failures }, 'control is reachable again; spool drained');
      this.failures = 0;
      this.nextSendAt = 0;
    } catch (error) {
      this.failures += 1;
      // Full jitter: a facility's agents coming back together must not all retry at the same instant.
      const ceiling = Math.min(MAX_BACKOFF_MS, this.config.intervalSeconds * 1000 * 2 ** (this.failures - 1));
      this.nextSendAt = Date.now() + Math.random() * ceiling;
      const level = error instanceof Refused && error.status === 401 ? 'error' : 'warn';
      this.logger[level]({ err: error, spooled: this.spool.size, failures: this.failures }, 'could not deliver reports; keeping them in the spool');
    }
  }

  private async enrol(): Promise<Credentials> {
    if (!this.config.joinToken) throw new Error(`not enrolled and no joinToken configured (looked for ${join(this.config.dataDir, 'credentials.json')})`);
    const answer = await this.request<EnrolResponse>('/v1/agents/enrol', {
      joinToken: this.config.joinToken,
      hostname: this.config.hostname,
      facts: await this.collector.facts(),
    });
    const credentials: Credentials = { controlUrl: this.config.controlUrl, agentId: answer.agentId, agentToken: answer.agentToken, hostName: answer.hostName };
    this.writeJson('credentials.json', credentials, 0o600);
    this.credentials = credentials;
    this.logger.info({ agentId: answer.agentId, host: answer.hostName }, 'enrolled with control');
    return credentials;
  }

  private async request<T>(path: string, body: unknown, token?: string): Promise<T> {
    const answer = await postJson(new URL(path, this.config.controlUrl), body, token ? { authorization: `Bearer ${token}` } : {}, REQUEST_TIMEOUT_MS);
    if (answer.status >= 500) throw new Error(`control answered ${answer.status}`);
    if (answer.status < 200 || answer.status >= 300) throw new Refused(answer.status, safeDetail(answer.body));
    return JSON.parse(answer.body) as T;
  }

  private readJson<T>(file: string): T | null {
    const path = join(this.config.dataDir, file);
    return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : null;
  }

  private writeJson(file: string, value: unknown, mode: number): void {
    writeFileSync(join(this.config.dataDir, file), JSON.stringify(value), { mode });
  }
}

function safeDetail(text: string): string {
  try {
    return String((JSON.parse(text) as { detail?: unknown }).detail ?? text).slice(0, 500);
  } catch {
    return text.slice(0, 500);
  }
}
