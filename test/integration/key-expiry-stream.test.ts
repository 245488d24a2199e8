import { randomBytes } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type * as z from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalApp, createLocalApp } from '#local/process/app.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from '#local/storage/dynamodb-local.ts';
import { type RevocationStream, startRevocationStream } from '#local/stream/revocation-stream.ts';
import { accountPk, userSk } from '#shared/adapters/dynamodb/items.ts';
import { LocalSecrets } from '#local/storage/local-secrets.ts';
import type { AuditEventView } from '#shared/http/schemas.ts';
import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import { ensurePepper } from '#shared/authorization/peppers.ts';
import type { ExpiredKey, KeyExpiryOutcome, KeyExpiryStore } from '#shared/ports/key-expiry-store.ts';
import { createAccount } from '#shared/services/accounts.ts';
import { type KeyPair, sendThroughGateway } from '#test/support/api-events.ts';
import { quietLogger } from '#test/support/fakes/logger.ts';
import { type TestTable, createTestTable } from '#test/support/dynamodb.ts';

/**
 * A key's real expiry on DynamoDB Local, end to end: the key is created through the API with an
 * expiry a few seconds ahead, DynamoDB Local's TTL removes its item, and the local runtime's
 * stream reader hands the removal to the key expiry service, as the table signals function does on
 * AWS. The removal shows in the account's audit log and frees the holder's count; a replay of
 * the same stream record writes nothing more.
 */

/**
 * How long DynamoDB Local may take to remove the expired key and the reader to record it: its
 * TTL sweep runs in the background, a few seconds after the expiry on an idle machine, and
 * slower when the machine is busy.
 */
const DEADLINE_MS = 45_000;

/** An engine of its own: DynamoDB Local's TTL sweep goes over every table an engine holds, and the suite's engine holds hundreds. */
let engine: DynamoDbLocal;
let table: TestTable;
let app: LocalApp;
const readers: RevocationStream[] = [];

/** The store as the reader uses it, keeping each outcome by key id. */
function recordingStore(outcomes: Map<string, KeyExpiryOutcome[]>): KeyExpiryStore {
  return {
    recordKeyExpiry: async (key: ExpiredKey, event) => {
      const outcome = await app.store.recordKeyExpiry(key, event);
      outcomes.set(key.keyId, [...(outcomes.get(key.keyId) ?? []), outcome]);
      return outcome;
    },
  };
}

async function startReader(outcomes: Map<string, KeyExpiryOutcome[]>): Promise<void> {
  readers.push(
    await startRevocationStream({
      dynamodb: table.raw,
      tableName: table.tableName,
      cache: app.authorizerCache,
      logger: quietLogger(),
      keyExpiry: { store: recordingStore(outcomes), logger: quietLogger() },
    }),
  );
}

beforeAll(async () => {
  engine = await startDynamoDbLocal();
  table = await createTestTable({}, engine.endpoint);
  const secrets = new LocalSecrets(randomBytes(32));
  app = createLocalApp({ documentClient: table.client, tableName: table.tableName, secrets, logger: quietLogger(), auditRetentionDays: 0 });
  await ensurePepper(app.store, secrets);
});

afterAll(async () => {
  for (const reader of readers) await reader.stop();
  table.raw.destroy();
  await engine.stop();
});

function send(keys: KeyPair, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  return sendThroughGateway(app.gateway, keys, method, path, body);
}

/** An audit event as GET /v1/logs answers it. */
type LogEvent = z.infer<typeof AuditEventView>;

async function expiryEvents(owner: KeyPair, keyId: string): Promise<LogEvent[]> {
  const logs = await send(owner, 'GET', '/v1/logs?limit=100');
  expect(logs.status).toBe(200);
  return (logs.json.items as LogEvent[]).filter((event) => event.action === 'api-key.expire' && event.target === `api-key/${keyId}`);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + DEADLINE_MS;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (performance.now() > deadline) throw new Error(`${what} did not happen within ${DEADLINE_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('a key removed by DynamoDB TTL, through the table stream', () => {
  it('is audited as api-key.expire, leaves its holder, and a replay of the record writes nothing more', async () => {
    // Prepare
    const created = await createAccount(app.apiDeps, { name: 'Expiring', ownerName: 'Olive Owner', ownerEmail: 'olive@example.com' }, SYSTEM_ACTOR);
    const owner: KeyPair = {
      accountKey: created.accountKey,
      userKey: created.userKey,
      principal: { accountId: created.account.id, userId: created.owner.id, role: 'owner', keyId: created.keyId },
    };
    const outcomes = new Map<string, KeyExpiryOutcome[]>();
    await startReader(outcomes);
    const viewer = await send(owner, 'POST', '/v1/users', { name: 'Vera Viewer', email: 'vera@example.com', role: 'viewer' });
    const userId = viewer.json.id as string;
    const kept = await send(owner, 'POST', '/v1/api-keys', { name: 'vera-long-lived', userId });
    // The API takes any expiry in the future: eight seconds ahead is a real one, and leaves a
    // loaded machine time to create the key before it.
    const expiresAt = new Date(Date.now() + 8_000).toISOString();
    const expiring = await send(owner, 'POST', '/v1/api-keys', { name: 'vera-short-lived', userId, expiresAt });
    expect([kept.status, expiring.status]).toEqual([201, 201]);
    const keyId = expiring.json.id as string;

    // Act: DynamoDB Local removes the key some time after it expired; the reader records it.
    const [event] = await until('the expiry event', async () => {
      const events = await expiryEvents(owner, keyId);
      return events.length > 0 ? events : undefined;
    });

    // Assess
    expect(event).toEqual({
      id: event?.id,
      time: event?.time,
      action: 'api-key.expire',
      actor: { userId: null, keyId: null },
      target: `api-key/${keyId}`,
      sourceIp: null,
    });
    expect(Date.parse(event?.time ?? '')).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    expect((await send(owner, 'GET', `/v1/api-keys/${keyId}`)).status).toBe(404);
    const holder = (await table.client.send(new GetCommand({ TableName: table.tableName, Key: { pk: accountPk(owner.principal.accountId), sk: userSk(userId) }, ConsistentRead: true }))).Item;
    expect([...((holder?.keyIds as Set<string> | undefined) ?? [])]).toEqual([kept.json.id]);
    // The holder is written before the event: an owner who reads the event finds the holder free.
    expect(holder?.keyCount).toBe(1);
    // The reader notes the outcome once both writes are done.
    expect(await until('the outcome', () => Promise.resolve(outcomes.get(keyId)))).toEqual([{ eventRecorded: true, keyForgotten: true }]);

    // Act: a second reader starts from the oldest record, so it is handed the same removal again.
    const replayed = new Map<string, KeyExpiryOutcome[]>();
    await startReader(replayed);
    const again = await until('the replay', () => Promise.resolve(replayed.get(keyId)));

    // Assess
    expect(again).toEqual([{ eventRecorded: false, keyForgotten: false }]);
    expect(await expiryEvents(owner, keyId)).toEqual([event]);
    const after = (await table.client.send(new GetCommand({ TableName: table.tableName, Key: { pk: accountPk(owner.principal.accountId), sk: userSk(userId) }, ConsistentRead: true }))).Item;
    expect(after?.keyCount).toBe(1);
  }, 120_000);
});
