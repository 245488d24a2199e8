import { createServer } from 'node:http';
import { describe, expect, it, vi } from 'vitest';
import { EVENTS_SECRET_VARIABLE, EventsSecretError, WebhookSender, parseEventsSecret } from '#local/stream/webhooks.ts';
import { SYSTEM_ACTOR, auditEvent } from '#shared/domain/audit.ts';
import { formatUserKey } from '#shared/domain/key-format.ts';
import type { AuditEvent } from '#shared/domain/model.ts';
import { quietLogger } from '#test/support/fakes/logger.ts';
import { newEventsSecret, startWebhookReceiver } from '#test/support/webhook-receiver.ts';

const ACCOUNT_A = 'a'.repeat(16);
const ACCOUNT_B = 'b'.repeat(16);

function event(accountId: string, action: string): AuditEvent {
  return auditEvent(accountId, SYSTEM_ACTOR, action, `account/${accountId}`, new Date());
}

/** A logger whose warnings and errors are kept, to show what a failure logs. */
function recordingLogger(): { logger: ReturnType<typeof quietLogger>; lines: () => string } {
  const logger = quietLogger();
  const calls: unknown[] = [];
  vi.spyOn(logger, 'warn').mockImplementation((...args: unknown[]) => {
    calls.push(args);
  });
  vi.spyOn(logger, 'error').mockImplementation((...args: unknown[]) => {
    calls.push(args);
  });
  return { logger, lines: () => JSON.stringify(calls) };
}

describe('parseEventsSecret', () => {
  it('takes a whsec_ secret of 24 to 64 bytes', () => {
    const secret = newEventsSecret();
    expect(parseEventsSecret(secret)).toBe(secret);
    expect(parseEventsSecret(`whsec_${Buffer.alloc(24, 7).toString('base64')}`)).toMatch(/^whsec_/);
  });

  it.each([
    ['missing', undefined, /is not set/],
    ['empty', '', /is not set/],
    ['without its prefix', Buffer.alloc(32, 1).toString('base64'), /does not start with whsec_/],
    ['not base64', 'whsec_not*base64!', /is not base64/],
    ['too short', `whsec_${Buffer.alloc(8, 1).toString('base64')}`, /holds 8 bytes/],
    ['too long', `whsec_${Buffer.alloc(65, 1).toString('base64')}`, /holds 65 bytes/],
  ])('refuses one %s, naming the variable and never the value', (_case, raw, problem) => {
    let thrown: unknown;
    try {
      parseEventsSecret(raw);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(EventsSecretError);
    const message = (thrown as Error).message;
    expect(message).toMatch(problem);
    expect(message).toContain(EVENTS_SECRET_VARIABLE);
    if (raw !== undefined && raw !== '') expect(message).not.toContain(raw);
  });
});

describe('WebhookSender', () => {
  it('queues without waiting: a receiver that never answers holds no caller', async () => {
    let received = 0;
    const hanging = createServer(() => {
      received += 1; // Never answers.
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const address = hanging.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const sender = new WebhookSender({ url: `http://127.0.0.1:${address.port}/`, secret: newEventsSecret(), logger: quietLogger() });
    try {
      // The call is back before the receiver has even seen the first request (which it then
      // holds forever): accept() only queues.
      sender.accept([event(ACCOUNT_A, 'user.create'), event(ACCOUNT_A, 'api-key.create')]);
      expect(received).toBe(0);
      await vi.waitFor(() => {
        expect(received).toBe(1);
      });
    } finally {
      await sender.stop();
      hanging.closeAllConnections();
      hanging.close();
    }
  });

  it('keeps order per account and lets one account pass while another waits', async () => {
    const secret = newEventsSecret();
    const receiver = await startWebhookReceiver(secret);
    const sender = new WebhookSender({ url: receiver.url, secret, logger: quietLogger(), retry: { firstDelayMs: 20, maxDelayMs: 40 } });
    try {
      const a = [event(ACCOUNT_A, 'user.create'), event(ACCOUNT_A, 'api-key.create'), event(ACCOUNT_A, 'api-key.delete')];
      const b = [event(ACCOUNT_B, 'user.create'), event(ACCOUNT_B, 'user.delete')];
      sender.accept([a[0], b[0], a[1], b[1], a[2]].filter((e) => e !== undefined));
      // The same events again (a batch the stream gives twice) are not sent twice.
      sender.accept(a);
      await sender.idle();
      const signals = receiver.verified();
      expect(signals.filter((s) => s.data.accountId === ACCOUNT_A).map((s) => s.data.id)).toEqual(a.map((e) => e.id));
      expect(signals.filter((s) => s.data.accountId === ACCOUNT_B).map((s) => s.data.id)).toEqual(b.map((e) => e.id));
      expect(sender.delivered).toBe(5);
    } finally {
      await sender.stop();
      await receiver.close();
    }
  });

  it('gives an event up once its retry window closes, and logs ids and why, never the secret, the URL or a body', async () => {
    const secret = newEventsSecret();
    const receiver = await startWebhookReceiver(secret);
    receiver.answer(503);
    const { logger, lines } = recordingLogger();
    const url = `${receiver.url}?token=receiver-token-123`;
    const sender = new WebhookSender({ url, secret, logger, retry: { firstDelayMs: 10, maxDelayMs: 20, giveUpAfterMs: 150 } });
    try {
      const first = event(ACCOUNT_A, 'api-key.create');
      const second = event(ACCOUNT_A, 'api-key.delete');
      sender.accept([first, second]);
      await sender.idle();
      expect(sender.delivered).toBe(0);
      const ids = new Set(receiver.deliveries.map((d) => d.headers['webhook-id']));
      expect(ids).toEqual(new Set([first.id, second.id]));
      const log = lines();
      expect(log).toContain('webhook delivery given up');
      expect(log).toContain(first.id);
      expect(log).toContain('HTTP 503');
      expect(log).not.toContain(secret.slice('whsec_'.length));
      expect(log).not.toContain('receiver-token-123');
      expect(log).not.toContain('"type"');
    } finally {
      await sender.stop();
      await receiver.close();
    }
  });

  it('sends no event that would carry a key', async () => {
    const secret = newEventsSecret();
    const receiver = await startWebhookReceiver(secret);
    const { logger, lines } = recordingLogger();
    const sender = new WebhookSender({ url: receiver.url, secret, logger });
    try {
      const key = formatUserKey(ACCOUNT_A, 'k'.repeat(16));
      sender.accept([auditEvent(ACCOUNT_A, SYSTEM_ACTOR, 'api-key.create', `api-key/${key}`, new Date())]);
      await sender.idle();
      expect(receiver.deliveries).toEqual([]);
      expect(lines()).toContain('audit event not sent as a webhook');
      expect(lines()).not.toContain(key);
    } finally {
      await sender.stop();
      await receiver.close();
    }
  });
});
