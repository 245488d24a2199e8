import { randomBytes } from 'node:crypto';
import { WebhookVerificationError, Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEventView } from '#functions/commons/views.ts';
import { type LocalApp, createLocalApp } from '#local/process/app.ts';
import { LocalSecrets } from '#local/storage/local-secrets.ts';
import { type RevocationStream, startRevocationStream } from '#local/stream/revocation-stream.ts';
import { WebhookSender } from '#local/stream/webhooks.ts';
import { ensurePepper } from '#shared/authorization/peppers.ts';
import type { AuditEvent } from '#shared/domain/model.ts';
import { type KeyPair, newTestAccount, sendThroughGateway } from '#test/support/api-events.ts';
import { createTestTable } from '#test/support/dynamodb.ts';
import { quietLogger } from '#test/support/fakes/logger.ts';
import { type VerifiedSignal, type WebhookReceiver, newEventsSecret, startWebhookReceiver } from '#test/support/webhook-receiver.ts';

/**
 * `--events-url` end to end but for the process: changes made through the local gateway, the
 * audit events DynamoDB Local's own stream gives, the stream poller handing them to the webhook
 * sender, and a real HTTP receiver verifying every delivery with `standardwebhooks`.
 */

const secret = newEventsSecret();
let app: LocalApp;
let stream: RevocationStream;
let sender: WebhookSender;
let receiver: WebhookReceiver;

beforeAll(async () => {
  const table = await createTestTable();
  const secrets = new LocalSecrets(randomBytes(32));
  app = createLocalApp({ documentClient: table.client, tableName: table.tableName, secrets, logger: quietLogger(), auditRetentionDays: 0 });
  await ensurePepper(app.store, secrets);
  receiver = await startWebhookReceiver(secret);
  sender = new WebhookSender({ url: receiver.url, secret, logger: quietLogger(), retry: { firstDelayMs: 50, maxDelayMs: 400 } });
  stream = await startRevocationStream({
    dynamodb: table.raw,
    tableName: table.tableName,
    cache: app.authorizerCache,
    logger: quietLogger(),
    onChanges: (changes) => {
      sender.acceptChanges(changes);
    },
  });
});

afterAll(async () => {
  await stream.stop();
  await sender.stop();
  await receiver.close();
});

async function send(keys: KeyPair, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await sendThroughGateway(app.gateway, keys, method, path, body);
  expect(response.status, `${method} ${path}: ${JSON.stringify(response.json)}`).toBeLessThan(300);
  return response.json;
}

/** The account's audit log, oldest first, read from the store (GET /v1/logs is off with the API). */
async function logOf(accountId: string): Promise<AuditEvent[]> {
  const page = await app.store.listEvents(accountId, { limit: 1000 });
  return [...page.items].reverse();
}

/** Waits until the receiver took as many of the account's events as its log holds; verified, in arrival order. */
async function signalsOf(accountId: string, count: number): Promise<VerifiedSignal[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const signals = receiver.verified().filter((signal) => signal.data.accountId === accountId);
    if (signals.length >= count || Date.now() > deadline) return signals;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A walkthrough of changes: user, key, CIDR rule, roll, deletion, the API switched off. Returns every key string it saw. */
async function walkthrough(owner: KeyPair): Promise<string[]> {
  const user = await send(owner, 'POST', '/v1/users', { name: 'Vera Viewer', email: 'vera@example.com', role: 'viewer' });
  const key = await send(owner, 'POST', '/v1/api-keys', { name: 'deploy-key-ci', userId: user.id });
  const keyId = key.id as string;
  await send(owner, 'POST', `/v1/api-keys/${keyId}/cidr-allow-list`, { cidr: '192.0.2.0/24' });
  const rolled = await send(owner, 'POST', `/v1/api-keys/${keyId}/roll`, { gracePeriodSeconds: 60 });
  await send(owner, 'DELETE', `/v1/api-keys/${keyId}`);
  await send(owner, 'PATCH', '/v1/account', { apiEnabled: false });
  const keys = [owner.accountKey, owner.userKey, key.secret, rolled.secret];
  // The scan below looks for these: each must be a key, or it would look for nothing.
  for (const value of keys) expect(value).toMatch(/^(lka|lks)_/);
  return keys as string[];
}

describe('local webhooks from the table stream', () => {
  it('deliver every change of a walkthrough as {type, data}, in order, verified, holding no key, secret or digest', async () => {
    const owner = await newTestAccount(app.apiDeps);
    const keys = await walkthrough(owner);
    const log = await logOf(owner.principal.accountId);

    const signals = await signalsOf(owner.principal.accountId, log.length);

    expect(log.map((event) => event.action)).toEqual(
      expect.arrayContaining(['user.create', 'api-key.create', 'cidr-rule.create', 'api-key.roll', 'api-key.delete', 'account.api-disable']),
    );
    // Each, once, in the log's order, as the API shows it plus its account.
    expect(signals).toEqual(log.map((event) => ({ type: event.action, data: { ...auditEventView(event), accountId: event.accountId } })));
    for (const delivery of receiver.deliveries.filter((d) => signals.some((s) => s.data.id === d.headers['webhook-id']))) {
      expect(delivery.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect((JSON.parse(delivery.body) as VerifiedSignal).data.id).toBe(delivery.headers['webhook-id']);
      expectNoSecrets(delivery.body, keys);
    }
  }, 60_000);

  it('retry while the receiver is down, and deliver every event once it is up, in order, under the same webhook-id', async () => {
    const owner = await newTestAccount(app.apiDeps);
    await signalsOf(owner.principal.accountId, (await logOf(owner.principal.accountId)).length);
    const before = receiver.deliveries.length;
    receiver.answer(503);
    try {
      await walkthrough(owner);
      // Down for a while: several refused attempts, nothing taken.
      const deadline = Date.now() + 20_000;
      while (receiver.deliveries.slice(before).length < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      receiver.answer(204);
    }
    const refused = receiver.deliveries.slice(before).filter((d) => d.status === 503);
    expect(refused.length).toBeGreaterThanOrEqual(4);
    // The account's head of line is retried: the same event, again and again, signed afresh each time.
    expect(new Set(refused.map((d) => d.headers['webhook-id'])).size).toBe(1);

    const log = await logOf(owner.principal.accountId);
    const signals = await signalsOf(owner.principal.accountId, log.length);
    expect(signals.map((s) => s.data.id)).toEqual(log.map((event) => event.id));
    expect(refused[0]?.headers['webhook-id']).toBe(signals.find((s) => s.type === 'user.create')?.data.id);
  }, 60_000);

  it('a tampered delivery fails verification: the verifier is real', async () => {
    const owner = await newTestAccount(app.apiDeps);
    await signalsOf(owner.principal.accountId, 1);
    const taken = receiver.deliveries.find((d) => d.status < 300 && d.body.includes(owner.principal.accountId));
    if (taken === undefined) throw new Error('no delivery for the account');
    const webhook = new Webhook(secret);
    expect(() => webhook.verify(taken.body, taken.headers)).not.toThrow();

    const otherType = taken.body.replace(/"type":"[^"]*"/, '"type":"api-key.delete"');
    expect(otherType).not.toBe(taken.body);
    expect(() => webhook.verify(otherType, taken.headers)).toThrow(WebhookVerificationError);
    expect(() => webhook.verify(taken.body, { ...taken.headers, 'webhook-id': 'another-id' })).toThrow(WebhookVerificationError);
    expect(() => webhook.verify(taken.body, { ...taken.headers, 'webhook-timestamp': String(Number(taken.headers['webhook-timestamp']) + 1) })).toThrow(
      WebhookVerificationError,
    );
    expect(() => new Webhook(newEventsSecret()).verify(taken.body, taken.headers)).toThrow(WebhookVerificationError);
  }, 60_000);
});

const KEY_SHAPED = [/lka_[0-9A-Za-z]{65}/, /lks_[0-9A-Za-z]{81}/];

/** No key-shaped string, none of the walkthrough's keys, and no field named like a secret, at any depth. */
function expectNoSecrets(body: string, keys: readonly string[]): void {
  for (const pattern of KEY_SHAPED) expect(body).not.toMatch(pattern);
  for (const key of keys) expect(body).not.toContain(key);
  const names: string[] = [];
  const collect = (value: unknown): void => {
    if (value === null || typeof value !== 'object') return;
    for (const [name, field] of Object.entries(value)) {
      names.push(name);
      collect(field);
    }
  };
  collect(JSON.parse(body));
  expect(names.filter((name) => /secret|hash|digest/i.test(name))).toEqual([]);
}
