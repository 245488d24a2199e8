import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTable } from '#shared/adapters/create-table.ts';
import type { CidrAllowList } from '#shared/domain/cidr.ts';
import { ConflictError, LimitExceededError, NotFoundError, ValidationError } from '#shared/domain/errors.ts';
import { newId } from '#shared/domain/ids.ts';
import { DEFAULT_LIMITS, MAX_KEYS_PER_USER } from '#shared/adapters/environment.ts';
import {
  type TestTable,
  createTestTable,
  fakeDigest,
  seedAccount,
  seedUser,
  testEvent,
  testKey,
} from '#test/support/dynamodb.ts';

let table: TestTable;

beforeAll(async () => {
  table = await createTestTable({ auditRetentionDays: 30 });
});

async function rawItem(pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
  const output = await table.client.send(new GetCommand({ TableName: table.tableName, Key: { pk, sk }, ConsistentRead: true }));
  return output.Item;
}

async function eventsOf(accountId: string): Promise<string[]> {
  const page = await table.store.listEvents(accountId, { limit: 100 });
  return page.items.map((event) => event.action);
}

describe('accounts', () => {
  it('creates an account with its owner, key, name reservation and event in one step', async () => {
    // Prepare / Act
    const { account, owner, ownerKey } = await seedAccount(table.store);

    // Assess
    const stored = await table.store.getAccount(account.id);
    expect(stored).toEqual({
      ...account,
      accountKeyHash: new Uint8Array(account.accountKeyHash),
      accountKeyCiphertext: new Uint8Array(account.accountKeyCiphertext),
      accountKeyLeakReportedAt: null,
      previousAccountKey: undefined,
    });
    expect(await table.store.listUsers(account.id)).toEqual([owner]);
    const key = await table.store.getKey(account.id, ownerKey.id);
    expect(key).toEqual({
      id: ownerKey.id,
      accountId: account.id,
      name: ownerKey.name,
      userId: owner.id,
      createdAt: ownerKey.createdAt,
      lastUsedAt: null,
      cidrAllowList: [],
      expiresAt: null,
      createdBy: { userId: null, keyId: null },
      permissions: null,
    });
    expect(await rawItem(`ACCOUNT#${account.id}`, 'KEYNAME#owner-initial-key')).toMatchObject({ keyId: ownerKey.id });
    expect((await rawItem(`ACCOUNT#${account.id}`, 'META'))?.ownerCount).toBe(1);
    expect(await eventsOf(account.id)).toEqual(['account.create']);
  });

  it('refuses to create the same account twice', async () => {
    const seeded = await seedAccount(table.store);
    const again = { ...seeded, ownerKey: testKey(seeded.owner) };

    await expect(table.store.createAccount({ ...again, event: testEvent(seeded.account.id) })).rejects.toBeInstanceOf(ConflictError);
  });

  it('returns undefined for an unknown account', async () => {
    expect(await table.store.getAccount(newId())).toBeUndefined();
  });

  it('switches the API off and on, with an event each time, and returns the public account', async () => {
    const { account } = await seedAccount(table.store);

    const off = await table.store.setApiEnabled(account.id, false, testEvent(account.id, 'account.api-disable'));

    expect(off).toEqual({
      id: account.id,
      name: account.name,
      apiEnabled: false,
      accountKeyMasked: account.accountKeyMasked,
      createdAt: account.createdAt,
      accountKeyLeakReportedAt: null,
    });
    expect(Object.keys(off)).not.toContain('accountKeyHash');
    expect((await table.store.getAccount(account.id))?.apiEnabled).toBe(false);
    const on = await table.store.setApiEnabled(account.id, true, testEvent(account.id, 'account.api-enable'));
    expect(on.apiEnabled).toBe(true);
    expect(await eventsOf(account.id)).toContain('account.api-disable');
  });

  it('answers NotFoundError when switching the API of an unknown account, and writes nothing', async () => {
    const accountId = newId();

    await expect(table.store.setApiEnabled(accountId, false, testEvent(accountId))).rejects.toEqual(new NotFoundError('account'));
    expect(await rawItem(`ACCOUNT#${accountId}`, 'META')).toBeUndefined();
    expect(await eventsOf(accountId)).toEqual([]);
  });
});

describe('authorization read', () => {
  it('returns the account and the key with its rules, and nothing else', async () => {
    const { account, owner, ownerKey } = await seedAccount(table.store);
    await table.store.editAllowList(account.id, ownerKey.id, (list) => ({ list: list.add({ id: newId(), cidr: '10.0.0.0/8', createdAt: 'now' }), result: null }), testEvent(account.id), DEFAULT_LIMITS);

    const records = await table.store.loadForAuthorization(account.id, ownerKey.id);

    expect(records.account).toEqual({
      apiEnabled: true,
      accountKeyHash: new Uint8Array(account.accountKeyHash),
      accountKeyPepperVersion: 1,
      accountKeyTag: expect.stringMatching(/^[0-9A-Za-z]{16}$/) as unknown,
    });
    expect(records.key).toEqual({
      userId: owner.id,
      role: 'owner',
      secretHash: new Uint8Array(ownerKey.secretHash),
      pepperVersion: 1,
      secretTag: expect.stringMatching(/^[0-9A-Za-z]{16}$/) as unknown,
      cidrs: ['10.0.0.0/8'],
    });
  });

  it('reads everything the authorizer decides on in exactly one BatchGetItem', async () => {
    const { account, ownerKey } = await seedAccount(table.store);
    const commands: string[] = [];
    table.raw.middlewareStack.add(
      (next, context) => async (args) => {
        commands.push(context.commandName ?? 'unknown');
        return next(args);
      },
      { step: 'initialize', name: 'recordCommands' },
    );

    try {
      const records = await table.store.loadForAuthorization(account.id, ownerKey.id);
      expect(records.account).toBeDefined();
      expect(records.key).toBeDefined();
    } finally {
      table.raw.middlewareStack.remove('recordCommands');
    }

    expect(commands).toEqual(['BatchGetItemCommand']);
  });

  it('returns undefined for what is missing: an unknown key, a key of another account, an unknown account', async () => {
    const first = await seedAccount(table.store);
    const second = await seedAccount(table.store);

    const unknownKey = await table.store.loadForAuthorization(first.account.id, newId());
    const otherAccountsKey = await table.store.loadForAuthorization(first.account.id, second.ownerKey.id);
    const unknownAccount = await table.store.loadForAuthorization(newId(), first.ownerKey.id);

    expect(unknownKey.account).toBeDefined();
    expect(unknownKey.key).toBeUndefined();
    expect(otherAccountsKey.key).toBeUndefined();
    expect(unknownAccount).toEqual({ account: undefined, key: undefined });
  });

  it('sees a deleted key, a role change and a disabled API at once', async () => {
    const { account, owner } = await seedAccount(table.store);
    const viewer = await seedUser(table.store, account.id, 'viewer');
    const key = testKey(viewer);
    await table.store.createKey(key, testEvent(account.id), DEFAULT_LIMITS);
    const ownerKey2 = testKey(owner);
    await table.store.createKey(ownerKey2, testEvent(account.id), DEFAULT_LIMITS);

    await table.store.changeRole(account.id, viewer.id, 'member', testEvent(account.id));
    await table.store.deleteKey(account.id, ownerKey2.id, testEvent(account.id));
    await table.store.setApiEnabled(account.id, false, testEvent(account.id));

    expect((await table.store.loadForAuthorization(account.id, key.id)).key).toBeUndefined();
    expect((await table.store.loadForAuthorization(account.id, ownerKey2.id)).key).toBeUndefined();
    expect((await table.store.loadForAuthorization(account.id, key.id)).account?.apiEnabled).toBe(false);
  });
});

describe('users', () => {
  it('creates users, lists them and reads one', async () => {
    const { account, owner } = await seedAccount(table.store);

    const viewer = await seedUser(table.store, account.id, 'viewer');
    const manager = await seedUser(table.store, account.id, 'manager');

    const listed = await table.store.listUsers(account.id);
    expect(listed).toHaveLength(3);
    expect(listed).toEqual(expect.arrayContaining([owner, viewer, manager]));
    expect(await table.store.getUser(account.id, viewer.id)).toEqual(viewer);
    expect(await table.store.getUser(account.id, newId())).toBeUndefined();
  });

  it('counts a new owner, so that the first owner may then be demoted', async () => {
    const { account, owner } = await seedAccount(table.store);
    await seedUser(table.store, account.id, 'owner');

    const demoted = await table.store.changeRole(account.id, owner.id, 'viewer', testEvent(account.id, 'user.update'));

    expect(demoted).toEqual({ user: { ...owner, role: 'viewer' }, deletedKeyIds: [] });
    expect((await rawItem(`ACCOUNT#${account.id}`, 'META'))?.ownerCount).toBe(1);
  });

  it('refuses a user for an unknown account', async () => {
    const accountId = newId();

    await expect(seedUser(table.store, accountId, 'viewer')).rejects.toEqual(new NotFoundError('account'));
    await expect(seedUser(table.store, accountId, 'owner')).rejects.toEqual(new NotFoundError('account'));
    expect(await rawItem(`ACCOUNT#${accountId}`, 'META')).toBeUndefined();
  });

  it('changes the role on the user and on every key of theirs', async () => {
    const { account } = await seedAccount(table.store);
    const viewer = await seedUser(table.store, account.id, 'viewer');
    const keys = [testKey(viewer), testKey(viewer)];
    for (const key of keys) await table.store.createKey(key, testEvent(account.id), DEFAULT_LIMITS);

    const changed = await table.store.changeRole(account.id, viewer.id, 'logs-viewer', testEvent(account.id, 'user.update'));

    expect(changed.user.role).toBe('logs-viewer');
    expect(changed.deletedKeyIds).toEqual([]);
    expect((await table.store.getUser(account.id, viewer.id))?.role).toBe('logs-viewer');
    for (const key of keys) {
      expect((await table.store.loadForAuthorization(account.id, key.id)).key?.role).toBe('logs-viewer');
    }
    expect(await eventsOf(account.id)).toContain('user.update');
  });

  it('deletes every key of a user moved to a role that may not hold keys, so a later promotion revives none', async () => {
    // Prepare
    const { account } = await seedAccount(table.store);
    const viewer = await seedUser(table.store, account.id, 'viewer');
    const keys = [testKey(viewer), testKey(viewer)];
    for (const key of keys) await table.store.createKey(key, testEvent(account.id), DEFAULT_LIMITS);

    // Act
    const demoted = await table.store.changeRole(account.id, viewer.id, 'member', testEvent(account.id, 'user.update'));
    await table.store.changeRole(account.id, viewer.id, 'viewer', testEvent(account.id, 'user.update'));

    // Assess
    expect([...demoted.deletedKeyIds].sort()).toEqual(keys.map((k) => k.id).sort());
    for (const key of keys) {
      expect((await table.store.loadForAuthorization(account.id, key.id)).key).toBeUndefined();
      expect(await rawItem(`ACCOUNT#${account.id}`, `KEYNAME#${key.name}`)).toBeUndefined();
    }
    const again = testKey(viewer);
    await table.store.createKey({ ...again, name: keys[0]!.name }, testEvent(account.id), DEFAULT_LIMITS);
    expect((await table.store.loadForAuthorization(account.id, again.id)).key?.role).toBe('viewer');
  });

  it('refuses to demote the last owner', async () => {
    const { account, owner, ownerKey } = await seedAccount(table.store);

    await expect(table.store.changeRole(account.id, owner.id, 'viewer', testEvent(account.id))).rejects.toEqual(
      new ConflictError('the account must keep at least one owner'),
    );
    expect((await table.store.getUser(account.id, owner.id))?.role).toBe('owner');
    expect((await table.store.loadForAuthorization(account.id, ownerKey.id)).key?.role).toBe('owner');
  });

  it('answers NotFoundError for an unknown user', async () => {
    const { account } = await seedAccount(table.store);

    await expect(table.store.changeRole(account.id, newId(), 'viewer', testEvent(account.id))).rejects.toEqual(new NotFoundError('user'));
    await expect(table.store.deleteUser(account.id, newId(), testEvent(account.id))).rejects.toEqual(new NotFoundError('user'));
  });

  it('deletes a user with all their keys and frees the key names', async () => {
    const { account } = await seedAccount(table.store);
    const viewer = await seedUser(table.store, account.id, 'viewer');
    const keys = [testKey(viewer), testKey(viewer), testKey(viewer)];
    for (const key of keys) await table.store.createKey(key, testEvent(account.id), DEFAULT_LIMITS);

    const { deletedKeyIds } = await table.store.deleteUser(account.id, viewer.id, testEvent(account.id, 'user.delete'));

    expect([...deletedKeyIds].sort()).toEqual(keys.map((k) => k.id).sort());
    expect(await table.store.getUser(account.id, viewer.id)).toBeUndefined();
    for (const key of keys) {
      expect(await table.store.getKey(account.id, key.id)).toBeUndefined();
      expect(await rawItem(`ACCOUNT#${account.id}`, `KEYNAME#${key.name}`)).toBeUndefined();
    }
    const other = await seedUser(table.store, account.id, 'viewer');
    await table.store.createKey(testKey(other, keys[0]!.name), testEvent(account.id), DEFAULT_LIMITS);
    expect(await eventsOf(account.id)).toContain('user.delete');
  });

  it('never lets a user hold more keys than one transaction can delete, whatever limit it is given', async () => {
    const { account } = await seedAccount(table.store);
    const viewer = await seedUser(table.store, account.id, 'viewer');
    const limits = { keysPerUser: 90, rulesPerKey: 20 };
    const created: string[] = [];
    let refusal: unknown;
    for (let i = 0; i < MAX_KEYS_PER_USER + 1 && refusal === undefined; i += 1) {
      const key = testKey(viewer);
      await table.store.createKey(key, testEvent(account.id), limits).then(
        () => created.push(key.id),
        (error: unknown) => (refusal = error),
      );
    }

    const { deletedKeyIds } = await table.store.deleteUser(account.id, viewer.id, testEvent(account.id, 'user.delete'));

    expect(refusal).toBeInstanceOf(LimitExceededError);
    expect(created).toHaveLength(MAX_KEYS_PER_USER);
    expect(new Set(deletedKeyIds)).toEqual(new Set(created));
    expect(await table.store.getUser(account.id, viewer.id)).toBeUndefined();
  }, 60_000);

  it('refuses to delete the last owner, and keeps their keys', async () => {
    const { account, owner, ownerKey } = await seedAccount(table.store);

    await expect(table.store.deleteUser(account.id, owner.id, testEvent(account.id))).rejects.toEqual(
      new ConflictError('the account must keep at least one owner'),
    );
    expect(await table.store.getUser(account.id, owner.id)).toEqual(owner);
    expect(await table.store.getKey(account.id, ownerKey.id)).toBeDefined();
  });

  it('deletes an owner when another owner remains', async () => {
    const { account, owner } = await seedAccount(table.store);
    await seedUser(table.store, account.id, 'owner');

    await table.store.deleteUser(account.id, owner.id, testEvent(account.id));

    expect((await rawItem(`ACCOUNT#${account.id}`, 'META'))?.ownerCount).toBe(1);
  });
});

describe('keys', () => {
  it('creates a key with its reservation, user count and event', async () => {
    const { account } = await seedAccount(table.store);
    const viewer = await seedUser(table.store, account.id, 'viewer');
    const key = testKey(viewer, 'ci-deploy-key');

    await table.store.createKey(key, testEvent(account.id, 'api-key.create'), DEFAULT_LIMITS);

    expect(await table.store.getKey(account.id, key.id)).toMatchObject({ id: key.id, name: 'ci-deploy-key', userId: viewer.id });
    const user = await rawItem(`ACCOUNT#${account.id}`, `USER#${viewer.id}`);
    expect(user?.keyCount).toBe(1);
    expect(user?.keyIds).toEqual(new Set([key.id]));
    expect(await eventsOf(account.id)).toContain('api-key.create');
  });

  it('refuses a duplicate name in the account, naming it', async () => {
    const { account, owner } = await seedAccount(table.store);
    const viewer = await seedUser(table.store, account.id, 'viewer');
    const duplicate = testKey(viewer, 'owner-initial-key');

    await expect(table.store.createKey(duplicate, testEvent(account.id), DEFAULT_LIMITS)).rejects.toEqual(
      new ConflictError("an API key named 'owner-initial-key' already exists in this account"),
    );
    expect(await table.store.getKey(account.id, duplicate.id)).toBeUndefined();
    expect((await rawItem(`ACCOUNT#${account.id}`, `USER#${viewer.id}`))?.keyCount).toBe(0);
    expect(owner.role).toBe('owner');
  });

  it('allows the same name in another account', async () => {
    await seedAccount(table.store);
    const second = await seedAccount(table.store);

    expect((await table.store.getKey(second.account.id, second.ownerKey.id))?.name).toBe('owner-initial-key');
  });

  it('refuses a key beyond the per-user limit with the limit in the error', async () => {
    const { account } = await seedAccount(table.store);
    const viewer = await seedUser(table.store, account.id, 'viewer');
    const limits = { keysPerUser: 2, rulesPerKey: 20 };
    await table.store.createKey(testKey(viewer), testEvent(account.id), limits);
    await table.store.createKey(testKey(viewer), testEvent(account.id), limits);

    const refused = table.store.createKey(testKey(viewer), testEvent(account.id), limits);

    await expect(refused).rejects.toBeInstanceOf(LimitExceededError);
    await expect(refused).rejects.toMatchObject({ limit: 2, message: expect.stringContaining('2') as unknown });
    expect((await table.store.listKeys(account.id, { limit: 10, userId: viewer.id })).items).toHaveLength(2);
  });

  it('refuses a key for an unknown user, and for a user whose role changed', async () => {
    const { account } = await seedAccount(table.store);
    const viewer = await seedUser(table.store, account.id, 'viewer');
    const stale = testKey(viewer);
    await table.store.changeRole(account.id, viewer.id, 'member', testEvent(account.id));

    await expect(table.store.createKey(testKey({ ...viewer, id: newId() }), testEvent(account.id), DEFAULT_LIMITS)).rejects.toEqual(
      new NotFoundError('user'),
    );
    await expect(table.store.createKey(stale, testEvent(account.id), DEFAULT_LIMITS)).rejects.toEqual(
      new ConflictError("the user's role changed, retry"),
    );
    expect(await table.store.getKey(account.id, stale.id)).toBeUndefined();
    expect(await rawItem(`ACCOUNT#${account.id}`, `KEYNAME#${stale.name}`)).toBeUndefined();
  });

  it('never returns the digest, pepper version or role in a key view', async () => {
    const { account, ownerKey } = await seedAccount(table.store);

    const one = await table.store.getKey(account.id, ownerKey.id);
    const listed = await table.store.listKeys(account.id, { limit: 10 });
    const byUser = await table.store.listKeys(account.id, { limit: 10, userId: ownerKey.userId });

    for (const view of [one, ...listed.items, ...byUser.items]) {
      expect(Object.keys(view ?? {}).sort()).toEqual(['accountId', 'cidrAllowList', 'createdAt', 'createdBy', 'expiresAt', 'id', 'lastUsedAt', 'name', 'permissions', 'userId']);
    }
  });

  it('stores only the digest of a key, never anything resembling the secret', async () => {
    const { account, ownerKey } = await seedAccount(table.store);

    const item = await rawItem(`ACCOUNT#${account.id}`, `KEY#${ownerKey.id}`);

    const binaries = Object.entries(item ?? {}).filter(([, value]) => value instanceof Uint8Array);
    expect(binaries.map(([name]) => name)).toEqual(['secretHash']);
    expect(Object.keys(item ?? {}).sort()).toEqual(
      ['createdAt', 'gsi1pk', 'gsi1sk', 'id', 'accountId', 'name', 'pepperVersion', 'pk', 'rev', 'role', 'rules', 'secretHash', 'secretTag', 'sk', 'userId'].sort(),
    );
    expect(JSON.stringify(Object.values(item ?? {}).filter((v) => typeof v === 'string'))).not.toMatch(/lks_|lka_/);
  });

  it('lists keys page by page, and a user\'s keys through the index', async () => {
    const { account, owner } = await seedAccount(table.store);
    const viewer = await seedUser(table.store, account.id, 'viewer');
    const viewerKeys = [testKey(viewer), testKey(viewer), testKey(viewer)];
    for (const key of viewerKeys) await table.store.createKey(key, testEvent(account.id), DEFAULT_LIMITS);

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await table.store.listKeys(account.id, { limit: 2, cursor });
      seen.push(...page.items.map((k) => k.id));
      cursor = page.nextCursor ?? undefined;
      pages += 1;
    } while (cursor !== undefined && pages < 10);
    const mine = await table.store.listKeys(account.id, { limit: 10, userId: viewer.id });

    expect(seen).toHaveLength(4);
    expect(new Set(seen).size).toBe(4);
    expect(mine.items.map((k) => k.id).sort()).toEqual(viewerKeys.map((k) => k.id).sort());
    expect(mine.items.every((k) => k.userId === viewer.id)).toBe(true);
    expect(mine.nextCursor).toBeNull();
    expect((await table.store.listKeys(account.id, { limit: 10, userId: owner.id })).items).toHaveLength(1);
  });

  it('pages a user\'s keys with a cursor that only continues that user\'s listing', async () => {
    const { account } = await seedAccount(table.store);
    const viewer = await seedUser(table.store, account.id, 'viewer');
    const other = await seedUser(table.store, account.id, 'viewer');
    for (let i = 0; i < 3; i += 1) await table.store.createKey(testKey(viewer), testEvent(account.id), DEFAULT_LIMITS);

    const first = await table.store.listKeys(account.id, { limit: 2, userId: viewer.id });
    const second = await table.store.listKeys(account.id, { limit: 2, userId: viewer.id, cursor: first.nextCursor ?? undefined });

    expect(first.items).toHaveLength(2);
    expect(second.items).toHaveLength(1);
    await expect(table.store.listKeys(account.id, { limit: 2, userId: other.id, cursor: first.nextCursor ?? undefined })).rejects.toBeInstanceOf(ValidationError);
    await expect(table.store.listKeys(account.id, { limit: 2, cursor: first.nextCursor ?? undefined })).rejects.toBeInstanceOf(ValidationError);
  });

  it('refuses tampered cursors with a ValidationError on the cursor', async () => {
    const first = await seedAccount(table.store);
    const second = await seedAccount(table.store);
    const viewer = await seedUser(table.store, first.account.id, 'viewer');
    await table.store.createKey(testKey(viewer), testEvent(first.account.id), DEFAULT_LIMITS);
    const page = await table.store.listKeys(first.account.id, { limit: 1 });
    const genuine = page.nextCursor!;
    const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
    const decoded = JSON.parse(Buffer.from(genuine, 'base64url').toString()) as Record<string, string>;
    const tampered = [
      'not a cursor',
      '!!!!',
      encode('KEY#x'),
      encode(null),
      encode([decoded]),
      encode({ ...decoded, extra: 'x' }),
      encode({ pk: decoded.pk }),
      encode({ ...decoded, sk: 'USER#x' }),
      encode({ ...decoded, sk: 'KEY#' }),
      encode({ ...decoded, sk: 5 }),
      encode({ ...decoded, pk: `ACCOUNT#${second.account.id}` }),
      Buffer.from('{"pk":').toString('base64url'),
      'A'.repeat(5000),
    ];

    for (const cursor of tampered) {
      await expect(table.store.listKeys(first.account.id, { limit: 1, cursor })).rejects.toMatchObject({
        name: 'ValidationError',
        field: 'cursor',
        rule: 'format',
      });
    }
    // The genuine cursor still works, and is refused by another account's listing.
    await expect(table.store.listKeys(first.account.id, { limit: 1, cursor: genuine })).resolves.toBeDefined();
    await expect(table.store.listKeys(second.account.id, { limit: 1, cursor: genuine })).rejects.toBeInstanceOf(ValidationError);
  });

  it('deletes a key, frees its name and lowers the user\'s count', async () => {
    const { account } = await seedAccount(table.store);
    const viewer = await seedUser(table.store, account.id, 'viewer');
    const key = testKey(viewer);
    await table.store.createKey(key, testEvent(account.id), DEFAULT_LIMITS);

    await table.store.deleteKey(account.id, key.id, testEvent(account.id, 'api-key.delete'));

    expect(await table.store.getKey(account.id, key.id)).toBeUndefined();
    expect(await rawItem(`ACCOUNT#${account.id}`, `KEYNAME#${key.name}`)).toBeUndefined();
    const user = await rawItem(`ACCOUNT#${account.id}`, `USER#${viewer.id}`);
    expect(user?.keyCount).toBe(0);
    expect(user?.keyIds).toBeUndefined();
    await table.store.createKey(testKey(viewer, key.name), testEvent(account.id), DEFAULT_LIMITS);
    expect(await eventsOf(account.id)).toContain('api-key.delete');
  });

  it('answers NotFoundError deleting an unknown key or another account\'s key', async () => {
    const first = await seedAccount(table.store);
    const second = await seedAccount(table.store);

    await expect(table.store.deleteKey(first.account.id, newId(), testEvent(first.account.id))).rejects.toEqual(new NotFoundError('api key'));
    await expect(table.store.deleteKey(first.account.id, second.ownerKey.id, testEvent(first.account.id))).rejects.toEqual(
      new NotFoundError('api key'),
    );
    expect(await table.store.getKey(second.account.id, second.ownerKey.id)).toBeDefined();
  });

  it('records a key\'s last use, and never recreates a deleted key', async () => {
    const { account, owner } = await seedAccount(table.store);
    const key = testKey(owner);
    await table.store.createKey(key, testEvent(account.id), DEFAULT_LIMITS);
    const at = '2030-01-02T03:04:05.000Z';

    await table.store.recordKeyUse(account.id, key.id, at);
    expect((await table.store.getKey(account.id, key.id))?.lastUsedAt).toBe(at);
    await table.store.deleteKey(account.id, key.id, testEvent(account.id));
    await table.store.recordKeyUse(account.id, key.id, at);

    expect(await rawItem(`ACCOUNT#${account.id}`, `KEY#${key.id}`)).toBeUndefined();
  });
});

describe('allow lists', () => {
  it('applies edits and returns their result', async () => {
    const { account, ownerKey } = await seedAccount(table.store);
    const rule = { id: newId(), cidr: '192.168.0.0/16', createdAt: new Date().toISOString() };

    const added = await table.store.editAllowList(account.id, ownerKey.id, (list) => ({ list: list.add(rule), result: rule }), testEvent(account.id, 'cidr-rule.create'), DEFAULT_LIMITS);
    const replaced = await table.store.editAllowList(
      account.id,
      ownerKey.id,
      (list) => {
        const edit = list.replace(rule.id, '10.0.0.0/8');
        return { list: edit.list, result: edit.rule };
      },
      testEvent(account.id),
      DEFAULT_LIMITS,
    );

    expect(added).toEqual(rule);
    expect(replaced).toEqual({ ...rule, cidr: '10.0.0.0/8' });
    expect((await table.store.getKey(account.id, ownerKey.id))?.cidrAllowList).toEqual([{ ...rule, cidr: '10.0.0.0/8' }]);
    await table.store.editAllowList(account.id, ownerKey.id, (list) => ({ list: list.remove(rule.id), result: undefined }), testEvent(account.id), DEFAULT_LIMITS);
    expect((await table.store.getKey(account.id, ownerKey.id))?.cidrAllowList).toEqual([]);
    expect(await eventsOf(account.id)).toContain('cidr-rule.create');
  });

  it('lets the edit\'s domain errors through and writes nothing', async () => {
    const { account, ownerKey } = await seedAccount(table.store);
    const limits = { keysPerUser: 10, rulesPerKey: 1 };
    await table.store.editAllowList(account.id, ownerKey.id, (list) => ({ list: list.add({ id: newId(), cidr: '10.0.0.0/8', createdAt: 'x' }), result: null }), testEvent(account.id), limits);
    const eventsBefore = await eventsOf(account.id);

    await expect(
      table.store.editAllowList(account.id, ownerKey.id, (list) => ({ list: list.add({ id: newId(), cidr: '11.0.0.0/8', createdAt: 'x' }), result: null }), testEvent(account.id), limits),
    ).rejects.toBeInstanceOf(LimitExceededError);
    await expect(
      table.store.editAllowList(account.id, ownerKey.id, (list) => ({ list: list.remove(newId()), result: null }), testEvent(account.id), limits),
    ).rejects.toEqual(new NotFoundError('CIDR rule'));
    expect((await table.store.getKey(account.id, ownerKey.id))?.cidrAllowList).toHaveLength(1);
    expect(await eventsOf(account.id)).toEqual(eventsBefore);
  });

  it('answers NotFoundError for an unknown key', async () => {
    const { account } = await seedAccount(table.store);

    await expect(
      table.store.editAllowList(account.id, newId(), (list) => ({ list, result: null }), testEvent(account.id), DEFAULT_LIMITS),
    ).rejects.toEqual(new NotFoundError('api key'));
  });
});

describe('adding a CIDR rule', () => {
  const rule = (cidr: string) => ({ id: newId(), cidr, createdAt: new Date().toISOString() });
  const keyItemOf = (accountId: string, keyId: string) => rawItem(`ACCOUNT#${accountId}`, `KEY#${keyId}`);

  it('appends the rule with its event, keeps the set of CIDRs beside the list, and leaves it out of the view', async () => {
    // Prepare
    const { account, ownerKey } = await seedAccount(table.store);
    const first = rule('10.0.0.0/8');
    const second = rule('2001:db8::/32');

    // Act
    const added = [
      await table.store.addCidrRule(account.id, ownerKey.id, first, testEvent(account.id, 'cidr-rule.create'), DEFAULT_LIMITS),
      await table.store.addCidrRule(account.id, ownerKey.id, second, testEvent(account.id, 'cidr-rule.create'), DEFAULT_LIMITS),
    ];

    // Assess
    expect(added).toEqual([first, second]);
    const stored = await keyItemOf(account.id, ownerKey.id);
    expect(stored?.rules).toEqual([first, second]);
    expect(stored?.cidrs).toEqual(new Set(['10.0.0.0/8', '2001:db8::/32']));
    expect(stored?.rev).toBe(3);
    const view = await table.store.getKey(account.id, ownerKey.id);
    expect(Object.keys(view ?? {}).sort()).toEqual(['accountId', 'cidrAllowList', 'createdAt', 'createdBy', 'expiresAt', 'id', 'lastUsedAt', 'name', 'permissions', 'userId']);
    expect(view?.cidrAllowList).toEqual([first, second]);
    expect((await table.store.loadForAuthorization(account.id, ownerKey.id)).key?.cidrs).toEqual(['10.0.0.0/8', '2001:db8::/32']);
    expect((await eventsOf(account.id)).filter((action) => action === 'cidr-rule.create')).toHaveLength(2);
  });

  it('creates keys with an empty list of rules and no set of CIDRs', async () => {
    const { account, owner, ownerKey } = await seedAccount(table.store);
    const key = testKey(owner);
    await table.store.createKey(key, testEvent(account.id), DEFAULT_LIMITS);

    for (const keyId of [ownerKey.id, key.id]) {
      const stored = await keyItemOf(account.id, keyId);
      expect(stored?.rules).toEqual([]);
      expect(stored).not.toHaveProperty('cidrs');
    }
  });

  it('refuses a CIDR already on the list with the allow list\'s own answer, and writes nothing', async () => {
    const { account, ownerKey } = await seedAccount(table.store);
    await table.store.addCidrRule(account.id, ownerKey.id, rule('10.0.0.0/8'), testEvent(account.id), DEFAULT_LIMITS);
    const before = await keyItemOf(account.id, ownerKey.id);
    const eventsBefore = await eventsOf(account.id);

    await expect(table.store.addCidrRule(account.id, ownerKey.id, rule('10.0.0.0/8'), testEvent(account.id), DEFAULT_LIMITS)).rejects.toEqual(
      new ConflictError('the allow list already has the rule 10.0.0.0/8'),
    );

    expect(await keyItemOf(account.id, ownerKey.id)).toEqual(before);
    expect(await eventsOf(account.id)).toEqual(eventsBefore);
  });

  it('refuses a rule beyond the limit with the limit in the error, and writes nothing', async () => {
    const { account, ownerKey } = await seedAccount(table.store);
    const limits = { keysPerUser: 10, rulesPerKey: 2 };
    for (const cidr of ['10.0.0.0/8', '11.0.0.0/8']) await table.store.addCidrRule(account.id, ownerKey.id, rule(cidr), testEvent(account.id), limits);
    const eventsBefore = await eventsOf(account.id);

    const refusal = table.store.addCidrRule(account.id, ownerKey.id, rule('12.0.0.0/8'), testEvent(account.id), limits);

    await expect(refusal).rejects.toEqual(new LimitExceededError('a key may have at most 2 CIDR rules', 2));
    await expect(refusal).rejects.toHaveProperty('limit', 2);
    expect((await table.store.getKey(account.id, ownerKey.id))?.cidrAllowList.map((r) => r.cidr)).toEqual(['10.0.0.0/8', '11.0.0.0/8']);
    expect(await eventsOf(account.id)).toEqual(eventsBefore);
  });

  it('answers NotFoundError for an unknown key and never creates it', async () => {
    const { account } = await seedAccount(table.store);
    const keyId = newId();

    await expect(table.store.addCidrRule(account.id, keyId, rule('10.0.0.0/8'), testEvent(account.id), DEFAULT_LIMITS)).rejects.toEqual(
      new NotFoundError('api key'),
    );
    expect(await keyItemOf(account.id, keyId)).toBeUndefined();
  });

  it('sees the CIDRs that edits replaced or removed as free again, and the ones they brought in as taken', async () => {
    // Prepare
    const { account, ownerKey } = await seedAccount(table.store);
    const first = await table.store.addCidrRule(account.id, ownerKey.id, rule('10.0.0.0/8'), testEvent(account.id), DEFAULT_LIMITS);
    const second = await table.store.addCidrRule(account.id, ownerKey.id, rule('11.0.0.0/8'), testEvent(account.id), DEFAULT_LIMITS);
    const edit = (change: (list: CidrAllowList) => CidrAllowList) =>
      table.store.editAllowList(account.id, ownerKey.id, (list) => ({ list: change(list), result: null }), testEvent(account.id), DEFAULT_LIMITS);

    // Act: the first rule now covers another network, the second is gone.
    await edit((list) => list.replace(first.id, '192.168.0.0/16').list);
    await edit((list) => list.remove(second.id));

    // Assess
    expect((await keyItemOf(account.id, ownerKey.id))?.cidrs).toEqual(new Set(['192.168.0.0/16']));
    await expect(table.store.addCidrRule(account.id, ownerKey.id, rule('192.168.0.0/16'), testEvent(account.id), DEFAULT_LIMITS)).rejects.toEqual(
      new ConflictError('the allow list already has the rule 192.168.0.0/16'),
    );
    await table.store.addCidrRule(account.id, ownerKey.id, rule('10.0.0.0/8'), testEvent(account.id), DEFAULT_LIMITS);
    await table.store.addCidrRule(account.id, ownerKey.id, rule('11.0.0.0/8'), testEvent(account.id), DEFAULT_LIMITS);
    expect((await table.store.getKey(account.id, ownerKey.id))?.cidrAllowList.map((r) => r.cidr)).toEqual(['192.168.0.0/16', '10.0.0.0/8', '11.0.0.0/8']);
  });

  it('removes the set of CIDRs with the last rule, and adds to the emptied list', async () => {
    const { account, ownerKey } = await seedAccount(table.store);
    const only = await table.store.addCidrRule(account.id, ownerKey.id, rule('10.0.0.0/8'), testEvent(account.id), DEFAULT_LIMITS);

    await table.store.editAllowList(account.id, ownerKey.id, (list) => ({ list: list.remove(only.id), result: null }), testEvent(account.id), DEFAULT_LIMITS);
    expect(await keyItemOf(account.id, ownerKey.id)).not.toHaveProperty('cidrs');
    await table.store.addCidrRule(account.id, ownerKey.id, rule('10.0.0.0/8'), testEvent(account.id), DEFAULT_LIMITS);

    expect((await keyItemOf(account.id, ownerKey.id))?.cidrs).toEqual(new Set(['10.0.0.0/8']));
  });

  it('refuses a duplicate on a key stored with rules but without the set of CIDRs, and restores the set on the next add', async () => {
    // Prepare: a key whose rules were written without the set beside them.
    const { account, ownerKey } = await seedAccount(table.store);
    const existing = rule('10.0.0.0/8');
    await table.client.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: { pk: `ACCOUNT#${account.id}`, sk: `KEY#${ownerKey.id}` },
        UpdateExpression: 'SET #rules = :rules',
        ExpressionAttributeNames: { '#rules': 'rules' },
        ExpressionAttributeValues: { ':rules': [existing] },
      }),
    );

    // Act
    const duplicate = table.store.addCidrRule(account.id, ownerKey.id, rule('10.0.0.0/8'), testEvent(account.id), DEFAULT_LIMITS);
    await expect(duplicate).rejects.toEqual(new ConflictError('the allow list already has the rule 10.0.0.0/8'));
    const added = await table.store.addCidrRule(account.id, ownerKey.id, rule('11.0.0.0/8'), testEvent(account.id), DEFAULT_LIMITS);

    // Assess
    expect((await table.store.getKey(account.id, ownerKey.id))?.cidrAllowList).toEqual([existing, added]);
    expect((await keyItemOf(account.id, ownerKey.id))?.cidrs).toEqual(new Set(['10.0.0.0/8', '11.0.0.0/8']));
  });
});

describe('audit events', () => {
  it('lists events newest first, page by page, with an expiry', async () => {
    const { account } = await seedAccount(table.store);
    const base = Date.parse('2031-05-01T00:00:00.000Z');
    for (let i = 1; i <= 5; i += 1) await table.store.recordEvent(testEvent(account.id, `test.${i}`, new Date(base + i * 1000)));

    const first = await table.store.listEvents(account.id, { limit: 3 });
    const second = await table.store.listEvents(account.id, { limit: 3, cursor: first.nextCursor ?? undefined });

    expect(first.items.map((e) => e.action)).toEqual(['test.5', 'test.4', 'test.3']);
    expect(second.items.map((e) => e.action)).toEqual(['test.2', 'test.1', 'account.create']);
    const stored = await table.client.send(
      new QueryCommand({
        TableName: table.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': `ACCOUNT#${account.id}`, ':prefix': 'EVENT#2031' },
      }),
    );
    const latest = stored.Items?.find((item) => item.action === 'test.5');
    expect(latest?.expiresAt).toBe(Math.floor((base + 5000) / 1000) + 30 * 86_400);
  });

  it('maps every field of an event back', async () => {
    const { account, owner, ownerKey } = await seedAccount(table.store);
    // A key's event is recorded only while the key is an owner's (principal-check.ts).
    const event = { ...testEvent(account.id, 'account-key.reveal'), actor: { userId: owner.id, keyId: ownerKey.id }, sourceIp: '203.0.113.7' };

    await table.store.recordEvent(event);

    expect((await table.store.listEvents(account.id, { limit: 1 })).items).toEqual([event]);
  });

  it('keeps events forever without a retention', async () => {
    const forever = await createTestTable();
    const { account } = await seedAccount(forever.store);

    const stored = await forever.client.send(
      new QueryCommand({
        TableName: forever.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': `ACCOUNT#${account.id}`, ':prefix': 'EVENT#' },
      }),
    );
    expect(stored.Items).toHaveLength(1);
    expect(stored.Items?.[0]?.expiresAt).toBeUndefined();
  });

  it('refuses an events cursor in a keys listing and the reverse', async () => {
    const { account } = await seedAccount(table.store);
    await table.store.recordEvent(testEvent(account.id));
    const viewer = await seedUser(table.store, account.id);
    await table.store.createKey(testKey(viewer), testEvent(account.id), DEFAULT_LIMITS);
    const events = await table.store.listEvents(account.id, { limit: 1 });
    const keys = await table.store.listKeys(account.id, { limit: 1 });

    await expect(table.store.listKeys(account.id, { limit: 1, cursor: events.nextCursor! })).rejects.toBeInstanceOf(ValidationError);
    await expect(table.store.listEvents(account.id, { limit: 1, cursor: keys.nextCursor! })).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('table creation', () => {
  it('creates the table with its index and expiry, and is safe to run again', async () => {
    await createTable(table.raw, table.tableName);

    const { Table: described } = await table.raw.send(new DescribeTableCommand({ TableName: table.tableName }));
    expect(described?.TableStatus).toBe('ACTIVE');
    expect(described?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(described?.GlobalSecondaryIndexes?.map((index) => [index.IndexName, index.KeySchema, index.Projection?.ProjectionType])).toEqual([
      ['byUser', [{ AttributeName: 'gsi1pk', KeyType: 'HASH' }, { AttributeName: 'gsi1sk', KeyType: 'RANGE' }], 'ALL'],
    ]);
    const ttl = await table.raw.send(new DescribeTimeToLiveCommand({ TableName: table.tableName }));
    expect(ttl.TimeToLiveDescription).toMatchObject({ AttributeName: 'expiresAt', TimeToLiveStatus: 'ENABLED' });
  });
});

describe('peppers', () => {
  it('adds a version once and lists them', async () => {
    const own = await createTestTable();
    const ciphertext = fakeDigest();

    expect(await own.store.listPeppers()).toEqual([]);
    expect(await own.store.addPepper({ version: 1, ciphertext })).toBe(true);
    expect(await own.store.addPepper({ version: 1, ciphertext: fakeDigest() })).toBe(false);
    expect(await own.store.addPepper({ version: 2, ciphertext: fakeDigest() })).toBe(true);

    const peppers = await own.store.listPeppers();
    expect(peppers.map((p) => p.version).sort()).toEqual([1, 2]);
    expect(peppers.find((p) => p.version === 1)?.ciphertext).toEqual(new Uint8Array(ciphertext));
  });
});
