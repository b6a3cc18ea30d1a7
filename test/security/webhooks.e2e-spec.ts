import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import Database from 'better-sqlite3';
import { EnforcementService } from '../../apps/control/src/enforcement/enforcement.service';
import { retryDelayMs, WebhookDeliveryService } from '../../apps/control/src/enforcement/webhook-delivery.service';
import { RunningControl, startControl } from '../support/control';
import { createHost, createTenant, expectStatus, setQuotas } from '../support/facility';
import { startWebhookReceiver, WebhookReceiver } from '../support/webhook-receiver';
import { setControlClock } from '../support/clock';

const PASSWORD = 'hunter2-webhook-secret';

/** Queues one enforcement event (a tenant going to `warning`) for the webhook. */
async function queueEvent(control: RunningControl, slug: string): Promise<void> {
  await createTenant(control.api, slug);
  await setQuotas(control.api, slug, { vcpu: 4 });
  await expectStatus(control.api.post('/v1/allocations', { tenant: slug, resources: { vcpu: 4 } }), 201);
  await control.app.get(EnforcementService).evaluate();
}

function outboxRows(control: RunningControl): unknown[] {
  const database = new Database(join(control.dataDir, 'dcm.sqlite'), { readonly: true });
  try {
    return database.prepare('SELECT * FROM webhook_outbox').all();
  } finally {
    database.close();
  }
}

describe('webhook receivers', () => {
  let receiver: WebhookReceiver;
  let control: RunningControl | undefined;
  let logged: string[];

  beforeEach(async () => {
    receiver = await startWebhookReceiver();
    logged = [];
    for (const level of ['log', 'warn', 'error', 'debug', 'verbose', 'fatal'] as const) {
      jest.spyOn(Logger.prototype, level).mockImplementation((...parts: unknown[]) => void logged.push(JSON.stringify(parts)));
    }
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await control?.close();
    control = undefined;
    await receiver.close();
  });

  it('get user:pass@ from the URL as Authorization: Basic, and the password is in no log line and no outbox row', async () => {
    const url = new URL(receiver.url);
    url.username = 'dcm events';
    url.password = PASSWORD;
    control = await startControl({ webhookUrl: url.href });
    await createHost(control.api, 'blv-w01', { vcpu: { total: 16 } });
    receiver.failNext = 1;
    await queueEvent(control, 'torfaen');

    const delivery = control.app.get(WebhookDeliveryService);
    await delivery.deliverDue(); // answered 503: logged and kept for a retry
    const failedAttempt = JSON.stringify(outboxRows(control));
    setControlClock(control.app, Date.now() + retryDelayMs(1));
    await delivery.deliverDue();

    expect(receiver.calls.map((call) => call.headers.authorization)).toEqual([
      `Basic ${Buffer.from(`dcm events:${PASSWORD}`).toString('base64')}`,
      `Basic ${Buffer.from(`dcm events:${PASSWORD}`).toString('base64')}`,
    ]);
    expect(receiver.accepted()).toEqual([expect.objectContaining({ tenant: 'torfaen', to: 'warning' })]);
    expect(logged.some((line) => line.includes('not delivered'))).toBe(true);
    expect(logged.filter((line) => line.includes(PASSWORD))).toEqual([]);
    expect(failedAttempt).toContain('HTTP 503');
    expect([failedAttempt, JSON.stringify(outboxRows(control))].filter((rows) => rows.includes(PASSWORD))).toEqual([]);
  });

  it("read only the first 64 KiB of a receiver's answer, however long it is", async () => {
    receiver.answerBytes = 256 * 1024 * 1024;
    control = await startControl({ webhookUrl: receiver.url });
    await createHost(control.api, 'blv-w02', { vcpu: { total: 16 } });
    await queueEvent(control, 'monmouthshire');

    await expect(control.app.get(WebhookDeliveryService).deliverDue()).resolves.toBe(1);

    // What the socket buffers on both sides holds, no more: far from the 256 MiB the receiver had to say.
    expect(receiver.answerBytesWritten).toBeLessThan(16 * 1024 * 1024);
  });
});
