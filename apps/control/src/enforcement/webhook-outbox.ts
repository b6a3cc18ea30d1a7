import { Inject, Injectable } from '@nestjs/common';
import { rawQuery, WebhookDeliveryStatus } from '@dcm/persistence';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';
import { EnforcementEvent, EnforcementEventSink } from './enforcement-events';

export interface PendingDelivery {
  id: number;
  eventId: string;
  payload: string;
  attempts: number;
  nextAttemptAt: number;
}

/**
 * The webhook's outbox: events are queued in the transaction that made the change, so that none is lost to a crash
 * or a restart between the change and its delivery, and none is sent for a change that was rolled back.
 */
@Injectable()
export class WebhookOutbox implements EnforcementEventSink {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    @Inject(CONTROL_CONFIG) private readonly config: ControlConfig,
  ) {}

  async record(events: readonly EnforcementEvent[], tx: EntityManager): Promise<void> {
    if (!this.config.webhookUrl) return;
    const now = this.clock.now().getTime();
    for (const event of events) {
      await rawQuery(tx, "INSERT INTO webhook_outbox (event_id, payload, status, attempts, created_at, next_attempt_at) VALUES (?, ?, 'pending', 0, ?, ?)", [
        event.id,
        JSON.stringify(event),
        now,
        now,
      ]);
    }
  }

  /** The oldest event not yet delivered nor given up: deliveries go strictly in order. */
  async head(): Promise<PendingDelivery | null> {
    const [row] = await rawQuery<Record<string, unknown>>(
      this.dataSource.manager,
      "SELECT id, event_id, payload, attempts, next_attempt_at FROM webhook_outbox WHERE status = 'pending' ORDER BY id LIMIT 1",
    );
    if (!row) return null;
    return {
      id: Number(row.id),
      eventId: row.event_id as string,
      payload: row.payload as string,
      attempts: Number(row.attempts),
      nextAttemptAt: Number(row.next_attempt_at),
    };
  }

  async finish(id: number, status: Exclude<WebhookDeliveryStatus, 'pending'>, attempts: number, at: Date, error: string | null): Promise<void> {
    await rawQuery(this.dataSource.manager, 'UPDATE webhook_outbox SET status = ?, attempts = ?, finished_at = ?, last_error = ? WHERE id = ?', [
      status,
      attempts,
      at.getTime(),
      error?.slice(0, 500) ?? null,
      id,
    ]);
  }

  async postpone(id: number, attempts: number, next: Date, error: string): Promise<void> {
    await rawQuery(this.dataSource.manager, 'UPDATE webhook_outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?', [
      attempts,
      next.getTime(),
      error.slice(0, 500),
      id,
    ]);
  }

  /** Forgets deliveries that ended before `before` (delivered or given up); pending ones are kept. */
  async prune(before: Date): Promise<void> {
    await rawQuery(this.dataSource.manager, "DELETE FROM webhook_outbox WHERE status <> 'pending' AND finished_at < ?", [before.getTime()]);
  }
}
