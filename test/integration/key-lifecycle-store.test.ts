import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDbStore } from '#shared/adapters/dynamodb-store.ts';
import { ConflictError, LimitExceededError, NotFoundError } from '#shared/domain/errors.ts';
import { accountPk, keyNameSk, keySk, userSk } from '#shared/adapters/dynamodb/items.ts';
import type { ApiKeyRecord, AuditEvent } from '#shared/domain/model.ts';
import type { ExpiredKey } from '#shared/ports/key-expiry-store.ts';
import { KEY_EXPIRE_ACTION, keyExpiryEvent } from '#shared/services/key-expiry.ts';
import { type TestTable, createTestTable, fakeDigest, seedAccount, seedUser, testEvent, testKey } from '#test/support/dynamodb.ts';

/** Key lifecycle writes on DynamoDB Local: TTL attributes, and rolls racing each other and deletes. */
let table: TestTable;
const limits = { keysPerUser: 10, rulesPerKey: 10 };

beforeAll(async () => {
  table = await createTestTable();
});

async function rawItem(pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
  return (await table.client.send(new GetCommand({ TableName: table.tableName, Key: { pk, sk }, ConsistentRead: true }))).Item;
}

describe('an expiring key', () => {
  it('carries the table TTL attribute (epoch seconds, rounded up) on the key and on its name reservation', async () => {
    // Prepare
    const { account } = await seedAccount(table.store);
    const user = await seedUser(table.store, account.id);
    const key = { ...testKey(user), expiresAt: '2030-01-01T00:00:00.500Z' };

    // Act
    await table.store.createKey(key, testEvent(account.id), limits);

    // Assess
    const ttl = Math.ceil(Date.parse(key.expiresAt) / 1000);
    expect(await rawItem(accountPk(account.id), keySk(key.id))).toMatchObject({ expiresAt: ttl, keyExpiresAt: key.expiresAt });
    expect(await rawItem(accountPk(account.id), keyNameSk(key.name))).toMatchObject({ expiresAt: ttl });
    expect((await table.store.getKey(account.id, key.id))?.expiresAt).toBe(key.expiresAt);
    expect((await table.store.loadForAuthorization(account.id, key.id)).key?.expiresAt).toBe(Date.parse(key.expiresAt));
  });

  it('has no TTL attribute when it never expires', async () => {
    // Prepare
    const { account } = await seedAccount(table.store);
    const user = await seedUser(table.store, account.id);
    const key = testKey(user);

    // Act
    await table.store.createKey(key, testEvent(account.id), limits);

    // Assess
    expect(await rawItem(accountPk(account.id), keySk(key.id))).not.toHaveProperty('expiresAt');
    expect((await table.store.getKey(account.id, key.id))?.expiresAt).toBeNull();
  });
});

/** A store whose first `parties` transactions wait for each other: every roll has read before any writes. */
function barrierStore(parties: number): DynamoDbStore {
  const raw = new DynamoDBClient({ endpoint: inject('dynamodbEndpoint'), region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  let waiting = 0;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  raw.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'TransactWriteItemsCommand' && waiting < parties) {
        waiting += 1;
        if (waiting === parties) release();
        await gate;
      }
      return next(args);
    },
    { step: 'finalizeRequest' },
  );
  return new DynamoDbStore(DynamoDBDocumentClient.from(raw), table.tableName);
}

describe('concurrent rolls', () => {
  it('that read the same secret leave exactly one new secret and refuse the other with 409', async () => {
    // Prepare
    const { account } = await seedAccount(table.store);
    const user = await seedUser(table.store, account.id);
    const key = testKey(user);
    await table.store.createKey(key, testEvent(account.id), limits);
    const store = barrierStore(2);
    const secrets = [fakeDigest(), fakeDigest()];

    // Act
    const results = await Promise.allSettled(
      secrets.map((hash) => store.rollKey(account.id, key.id, { hash, pepperVersion: 1 }, 600, new Date(), testEvent(account.id))),
    );

    // Assess
    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [secrets[i]!] : []));
    expect(winners).toHaveLength(1);
    const loser = results.find((r) => r.status === 'rejected');
    expect(loser?.status === 'rejected' && loser.reason).toBeInstanceOf(ConflictError);
    const stored = (await table.store.loadForAuthorization(account.id, key.id)).key;
    expect(Buffer.from(stored?.secretHash ?? [])).toEqual(winners[0]);
    expect(Buffer.from(stored?.previousSecret?.hash ?? [])).toEqual(Buffer.from(key.secretHash));
  });

  it('of one key leave at most two live secrets, the last winner current, and refuse rolls of a replaced secret with 409', async () => {
    // Prepare
    const { account } = await seedAccount(table.store);
    const user = await seedUser(table.store, account.id);
    const key = testKey(user);
    await table.store.createKey(key, testEvent(account.id), limits);
    const secrets = Array.from({ length: 10 }, () => ({ hash: fakeDigest(), pepperVersion: 1 }));
    const at = new Date();

    // Act
    const results = await Promise.allSettled(secrets.map((secret) => table.store.rollKey(account.id, key.id, secret, 600, at, testEvent(account.id))));

    // Assess: rolls that read the same secret have one winner; a roll that read a winner's
    // secret replaces it in turn. Either way the key holds two secrets at most: the last
    // winner's, and the one that winner replaced.
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [secrets[i]!.hash.toString('hex')] : []));
    expect(won.length).toBeGreaterThanOrEqual(1);
    for (const result of results) if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(ConflictError);
    const stored = (await table.store.loadForAuthorization(account.id, key.id)).key;
    const current = Buffer.from(stored?.secretHash ?? []).toString('hex');
    const previous = Buffer.from(stored?.previousSecret?.hash ?? []).toString('hex');
    expect(won).toContain(current);
    expect([Buffer.from(key.secretHash).toString('hex'), ...won.filter((h) => h !== current)]).toContain(previous);
    expect(stored?.previousSecret?.expiresAt).toBe(at.getTime() + 600_000);
  });

  it('with a delete leave no key, whichever lands first', async () => {
    for (let round = 0; round < 5; round += 1) {
      // Prepare
      const { account } = await seedAccount(table.store);
      const user = await seedUser(table.store, account.id);
      const key = testKey(user);
      await table.store.createKey(key, testEvent(account.id), limits);

      // Act
      const [roll, deletion] = await Promise.allSettled([
        table.store.rollKey(account.id, key.id, { hash: fakeDigest(), pepperVersion: 1 }, 600, new Date(), testEvent(account.id)),
        table.store.deleteKey(account.id, key.id, testEvent(account.id)),
      ]);

      // Assess
      expect(deletion.status).toBe('fulfilled');
      if (roll.status === 'rejected') expect(roll.reason).toBeInstanceOf(NotFoundError);
      expect(await rawItem(accountPk(account.id), keySk(key.id))).toBeUndefined();
      expect((await table.store.loadForAuthorization(account.id, key.id)).key).toBeUndefined();
    }
  });

  it('of the account key leave one live key, a winner\'s, and refuse rolls of a replaced key with 409', async () => {
    // Prepare
    const { account } = await seedAccount(table.store);
    const keys = Array.from({ length: 5 }, () => ({ hash: fakeDigest(), pepperVersion: 1, ciphertext: fakeDigest(), masked: 'lka_********abcd' }));

    // Act
    const results = await Promise.allSettled(keys.map((k) => table.store.rollAccountKey(account.id, k, 0, new Date(), testEvent(account.id))));

    // Assess
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [keys[i]!.hash.toString('hex')] : []));
    expect(won.length).toBeGreaterThanOrEqual(1);
    for (const result of results) if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(ConflictError);
    const stored = await table.store.getAccount(account.id);
    expect(won).toContain(Buffer.from(stored?.accountKeyHash ?? []).toString('hex'));
    // No grace: one live account key.
    expect(stored?.previousAccountKey).toBeUndefined();
  });
});

/** What DynamoDB's TTL does to an expired key: its item and its name reservation go, and nothing else is told. */
async function removeAsTtlWould(key: ApiKeyRecord): Promise<void> {
  for (const sk of [keySk(key.id), keyNameSk(key.name)]) {
    await table.client.send(new DeleteCommand({ TableName: table.tableName, Key: { pk: accountPk(key.accountId), sk } }));
  }
}

async function userBookkeeping(accountId: string, userId: string): Promise<{ keyIds: string[]; keyCount: unknown }> {
  const item = await rawItem(accountPk(accountId), userSk(userId));
  return { keyIds: [...((item?.keyIds as Set<string> | undefined) ?? [])].sort(), keyCount: item?.keyCount };
}

describe('a key that DynamoDB TTL removed behind the user\'s back', () => {
  async function userWithKeys(role: 'owner' | 'viewer', count: number): Promise<{ accountId: string; userId: string; keys: ApiKeyRecord[] }> {
    const { account } = await seedAccount(table.store);
    const user = await seedUser(table.store, account.id, role);
    const keys = Array.from({ length: count }, () => testKey(user));
    for (const key of keys) await table.store.createKey(key, testEvent(account.id), limits);
    return { accountId: account.id, userId: user.id, keys };
  }

  it('does not stop the user from being deleted: the live keys go with the user', async () => {
    // Prepare
    const { accountId, userId, keys } = await userWithKeys('viewer', 3);
    const [gone, ...live] = keys as [ApiKeyRecord, ...ApiKeyRecord[]];
    await removeAsTtlWould(gone);

    // Act
    const { deletedKeyIds } = await table.store.deleteUser(accountId, userId, testEvent(accountId, 'user.delete'));

    // Assess
    expect([...deletedKeyIds].sort()).toEqual(live.map((k) => k.id).sort());
    expect(await table.store.getUser(accountId, userId)).toBeUndefined();
    for (const key of live) {
      expect(await rawItem(accountPk(accountId), keySk(key.id))).toBeUndefined();
      expect(await rawItem(accountPk(accountId), keyNameSk(key.name))).toBeUndefined();
    }
  });

  it('does not stop a promotion: the live keys get the new role and the user forgets the removed one', async () => {
    // Prepare
    const { accountId, userId, keys } = await userWithKeys('viewer', 3);
    const [gone, ...live] = keys as [ApiKeyRecord, ...ApiKeyRecord[]];
    await removeAsTtlWould(gone);

    // Act
    const changed = await table.store.changeRole(accountId, userId, 'owner', testEvent(accountId, 'user.role-change'));

    // Assess
    expect(changed.user).toMatchObject({ id: userId, role: 'owner' });
    expect(changed.deletedKeyIds).toEqual([]);
    for (const key of live) expect((await table.store.loadForAuthorization(accountId, key.id)).key?.role).toBe('owner');
    // Never recreated as a stub by the role update.
    expect(await rawItem(accountPk(accountId), keySk(gone.id))).toBeUndefined();
    expect(await userBookkeeping(accountId, userId)).toEqual({ keyIds: live.map((k) => k.id).sort(), keyCount: live.length });
  });

  it('does not stop a demotion to logs-viewer, nor to a role that may not hold keys', async () => {
    // Prepare
    const { accountId, userId, keys } = await userWithKeys('owner', 2);
    const [gone, kept] = keys as [ApiKeyRecord, ApiKeyRecord];
    await removeAsTtlWould(gone);

    // Act
    const toLogsViewer = await table.store.changeRole(accountId, userId, 'logs-viewer', testEvent(accountId, 'user.role-change'));
    const afterLogsViewer = await userBookkeeping(accountId, userId);
    await removeAsTtlWould(kept);
    const extra = testKey({ ...toLogsViewer.user });
    await table.store.createKey(extra, testEvent(accountId), limits);
    const toMember = await table.store.changeRole(accountId, userId, 'member', testEvent(accountId, 'user.role-change'));

    // Assess
    expect(toLogsViewer.user.role).toBe('logs-viewer');
    expect((await table.store.loadForAuthorization(accountId, kept.id)).key).toBeUndefined();
    expect(afterLogsViewer).toEqual({ keyIds: [kept.id], keyCount: 1 });
    expect(toMember.deletedKeyIds).toEqual([extra.id]);
    expect(await rawItem(accountPk(accountId), keySk(extra.id))).toBeUndefined();
    expect(await userBookkeeping(accountId, userId)).toEqual({ keyIds: [], keyCount: 0 });
  });

  it('no longer counts towards the per-user limit: only live keys do', async () => {
    // Prepare
    const { accountId, userId, keys } = await userWithKeys('viewer', limits.keysPerUser);
    const user = (await table.store.getUser(accountId, userId))!;
    const over = testKey(user);
    await expect(table.store.createKey(over, testEvent(accountId), limits)).rejects.toBeInstanceOf(LimitExceededError);
    const [gone] = keys as [ApiKeyRecord];
    await removeAsTtlWould(gone);

    // Act
    await table.store.createKey(over, testEvent(accountId), limits);

    // Assess
    const expected = [...keys.slice(1).map((k) => k.id), over.id].sort();
    expect(await userBookkeeping(accountId, userId)).toEqual({ keyIds: expected, keyCount: limits.keysPerUser });
    const another = testKey(user);
    await expect(table.store.createKey(another, testEvent(accountId), limits)).rejects.toEqual(
      new LimitExceededError(`a user may have at most ${limits.keysPerUser} API keys`, limits.keysPerUser),
    );
  });
});

describe('recording a key that DynamoDB TTL removed', () => {
  async function expiredKeyOf(role: 'viewer' | 'owner' = 'viewer'): Promise<{ accountId: string; userId: string; key: ApiKeyRecord; expired: ExpiredKey }> {
    const { account } = await seedAccount(table.store);
    const user = await seedUser(table.store, account.id, role);
    const key = { ...testKey(user), expiresAt: '2030-01-01T00:00:00.000Z' };
    await table.store.createKey(key, testEvent(account.id), limits);
    await table.store.createKey(testKey(user), testEvent(account.id), limits);
    await removeAsTtlWould(key);
    const expired: ExpiredKey = { accountId: account.id, keyId: key.id, userId: user.id, expiresAt: key.expiresAt, removedAt: '2030-01-02T00:00:00.000Z' };
    return { accountId: account.id, userId: user.id, key, expired };
  }

  async function expiryEvents(accountId: string): Promise<AuditEvent[]> {
    const page = await table.store.listEvents(accountId, { limit: 100 });
    return page.items.filter((event) => event.action === KEY_EXPIRE_ACTION);
  }

  it('writes its audit event and takes the key off its holder, once however often the removal is delivered', async () => {
    // Prepare
    const { accountId, userId, key, expired } = await expiredKeyOf();

    // Act
    const first = await table.store.recordKeyExpiry(expired, keyExpiryEvent(expired));
    const replay = await table.store.recordKeyExpiry(expired, keyExpiryEvent(expired));

    // Assess
    expect(first).toEqual({ eventRecorded: true, keyForgotten: true });
    expect(replay).toEqual({ eventRecorded: false, keyForgotten: false });
    expect(await expiryEvents(accountId)).toEqual([keyExpiryEvent(expired)]);
    const bookkeeping = await userBookkeeping(accountId, userId);
    expect(bookkeeping.keyIds).not.toContain(key.id);
    expect(bookkeeping).toMatchObject({ keyCount: 1 });
  });

  it('still writes the event when the holder is gone, and never recreates the holder', async () => {
    // Prepare
    const { accountId, userId, expired } = await expiredKeyOf();
    await table.store.deleteUser(accountId, userId, testEvent(accountId, 'user.delete'));

    // Act
    const outcome = await table.store.recordKeyExpiry(expired, keyExpiryEvent(expired));

    // Assess
    expect(outcome).toEqual({ eventRecorded: true, keyForgotten: false });
    expect(await rawItem(accountPk(accountId), userSk(userId))).toBeUndefined();
    expect(await expiryEvents(accountId)).toHaveLength(1);
  });

  it('leaves the count alone when a write of the holder already forgot the key', async () => {
    // Prepare
    const { accountId, userId, expired } = await expiredKeyOf();
    await table.store.changeRole(accountId, userId, 'logs-viewer', testEvent(accountId, 'user.role-change'));

    // Act
    const outcome = await table.store.recordKeyExpiry(expired, keyExpiryEvent(expired));

    // Assess
    expect(outcome).toEqual({ eventRecorded: true, keyForgotten: false });
    expect(await userBookkeeping(accountId, userId)).toMatchObject({ keyCount: 1 });
  });
});

describe("a key whose name reservation DynamoDB TTL removed first, the name since taken by another key", () => {
  // TTL removes the key and its reservation independently, possibly days apart.
  async function nameTakenOver(): Promise<{ accountId: string; userId: string; expired: ApiKeyRecord; kept: ApiKeyRecord; successor: ApiKeyRecord }> {
    const { account } = await seedAccount(table.store);
    const user = await seedUser(table.store, account.id);
    const other = await seedUser(table.store, account.id);
    const expired = { ...testKey(user), expiresAt: '2030-01-01T00:00:00.000Z' };
    const kept = testKey(user);
    for (const key of [expired, kept]) await table.store.createKey(key, testEvent(account.id), limits);
    await table.client.send(new DeleteCommand({ TableName: table.tableName, Key: { pk: accountPk(account.id), sk: keyNameSk(expired.name) } }));
    const successor = { ...testKey(other), name: expired.name };
    await table.store.createKey(successor, testEvent(account.id), limits);
    return { accountId: account.id, userId: user.id, expired, kept, successor };
  }

  async function reservationHolder(accountId: string, name: string): Promise<unknown> {
    return (await rawItem(accountPk(accountId), keyNameSk(name)))?.keyId;
  }

  it('can still be deleted, and leaves the name to the key that holds it now', async () => {
    // Prepare
    const { accountId, userId, expired, kept, successor } = await nameTakenOver();

    // Act
    await table.store.deleteKey(accountId, expired.id, testEvent(accountId, 'api-key.delete'));

    // Assess
    expect(await rawItem(accountPk(accountId), keySk(expired.id))).toBeUndefined();
    expect(await reservationHolder(accountId, expired.name)).toBe(successor.id);
    expect(await userBookkeeping(accountId, userId)).toEqual({ keyIds: [kept.id], keyCount: 1 });
  });

  it('does not stop its holder from being deleted, nor from being moved to a role that may not hold keys', async () => {
    // Prepare
    const deleted = await nameTakenOver();
    const demoted = await nameTakenOver();

    // Act
    const deletion = await table.store.deleteUser(deleted.accountId, deleted.userId, testEvent(deleted.accountId, 'user.delete'));
    const demotion = await table.store.changeRole(demoted.accountId, demoted.userId, 'member', testEvent(demoted.accountId, 'user.role-change'));

    // Assess
    for (const [{ accountId, expired, kept, successor }, { deletedKeyIds }] of [[deleted, deletion], [demoted, demotion]] as const) {
      expect([...deletedKeyIds].sort()).toEqual([expired.id, kept.id].sort());
      expect(await rawItem(accountPk(accountId), keySk(expired.id))).toBeUndefined();
      expect(await rawItem(accountPk(accountId), keyNameSk(kept.name))).toBeUndefined();
      expect(await reservationHolder(accountId, expired.name)).toBe(successor.id);
    }
  });
});
