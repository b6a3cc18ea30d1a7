import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';
import { PendingDelivery, WebhookOutbox } from './webhook-outbox';

/** Attempts per event before it is given up (logged as an error and left in the outbox as `failed`). */
export const WEBHOOK_MAX_ATTEMPTS = 12;
const FIRST_RETRY_MS = 5_000;
const MAX_RETRY_MS = 10 * 60_000;
const REQUEST_TIMEOUT_MS = 10_000;
/** Of a receiver's answer only this much is read (its status is what counts): a huge answer costs no memory. */
export const WEBHOOK_ANSWER_READ_BYTES = 64 * 1024;
const KEEP_FINISHED_MS = 7 * 86_400_000;
/** Events delivered per run at most, so that a long backlog does not hold the job for ever. */
const BATCH = 500;

/** Wait after the n-th failed attempt: 5 s, 10 s, 20 s … capped at 10 min; the 12 attempts span about 50 minutes. */
export function retryDelayMs(failedAttempts: number): number {
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (failedAttempts - 1));
}

/**
 * POSTs queued enforcement events to DCM_WEBHOOK_URL, oldest first, at least once each (receivers de-duplicate by the
 * event id, sent as X-Dcm-Delivery). A failing receiver holds back later events until it answers or the head event is
 * given up, so that receivers see the changes of a quota in the order they happened. Runs as a scheduler job, apart
 * from enforcement, which only queues: a slow receiver never delays a pass.
 */
@Injectable()
export class WebhookDeliveryService {
  private readonly logger = new Logger(WebhookDeliveryService.name);
  private running: Promise<number> | null = null;

  constructor(
    private readonly outbox: WebhookOutbox,
    private readonly clock: Clock,
    @Inject(CONTROL_CONFIG) private readonly config: ControlConfig,
  ) {}

  /** Delivers every event that is due; resolves to how many were delivered. Concurrent callers share one run. */
  deliverDue(): Promise<number> {
    this.running ??= this.drain().finally(() => (this.running = null));
    return this.running;
  }

  private async drain(): Promise<number> {
    const url = this.config.webhookUrl;
    if (!url) return 0;
    let delivered = 0;
    for (let index = 0; index < BATCH; index++) {
      const head = await this.outbox.head();
      if (!head || head.nextAttemptAt > this.clock.now().getTime()) break;
      const error = await this.post(url, head);
      const attempts = head.attempts + 1;
      const now = this.clock.now();
      if (error === null) {
        await this.outbox.finish(head.id, 'delivered', attempts, now, null);
        delivered++;
      } else if (attempts >= WEBHOOK_MAX_ATTEMPTS) {
        this.logger.error({ msg: `webhook event ${head.eventId} given up after ${attempts} attempts: ${error}`, eventId: head.eventId, attempts });
        await this.outbox.finish(head.id, 'failed', attempts, now, error);
      } else {
        this.logger.warn({ msg: `webhook event ${head.eventId} not delivered (attempt ${attempts}): ${error}`, eventId: head.eventId, attempts });
        await this.outbox.postpone(head.id, attempts, new Date(now.getTime() + retryDelayMs(attempts)), error);
        break;
      }
    }
    await this.outbox.prune(new Date(this.clock.now().getTime() - KEEP_FINISHED_MS));
    return delivered;
  }

  /** One attempt; null when the receiver took it (2xx), otherwise why not. */
  private async post(url: string, delivery: PendingDelivery): Promise<string | null> {
    try {
      const event = JSON.parse(delivery.payload) as { event: string };
      const authorization = this.config.webhookAuthorization;
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'dcm-control',
          'x-dcm-event': event.event,
          'x-dcm-delivery': delivery.eventId,
          ...(authorization ? { authorization } : {}),
        },
        body: delivery.payload,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        redirect: 'manual',
      });
      await readAtMost(response, WEBHOOK_ANSWER_READ_BYTES).catch(() => undefined);
      return response.ok ? null : `HTTP ${response.status}`;
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message;
      return cause ? `${(error as Error).message}: ${cause}` : (error as Error).message;
    }
  }
}

/** Reads an answer's body up to `limit` bytes, then cancels the rest (which closes the connection). */
async function readAtMost(response: Response, limit: number): Promise<void> {
  if (!response.body) return;
  const reader = response.body.getReader();
  let read = 0;
  while (read < limit) {
    const { done, value } = await reader.read();
    if (done) return;
    read += value.byteLength;
  }
  await reader.cancel();
}
