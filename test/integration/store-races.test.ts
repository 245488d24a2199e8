import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDbStore } from '#shared/adapters/dynamodb-store.ts';
import type { CidrAllowList, CidrRule } from '#shared/domain/cidr.ts';
import { ConflictError, LimitExceededError, NotFoundError } from '#shared/domain/errors.ts';
import { newId } from '#shared/domain/ids.ts';
import { type TestTable, createTestTable, fakeDigest, seedAccount, seedUser, testEvent, testKey } from '#test/support/dynamodb.ts';

/** Real concurrency against DynamoDB Local: the database's conditions, not luck, decide the winners. */
let table: TestTable;

beforeAll(async () => {
  table = await createTestTable();
});

const byId = (a: CidrRule, b: CidrRule): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** A store on its own client that runs `beforeTransaction` before each transaction it sends, retries included. */
function storeOnOwnClient(beforeTransaction: () => Promise<void>): DynamoDbStore {
  const raw = new DynamoDBClient({ endpoint: inject('dynamodbEndpoint'), region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  raw.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'TransactWriteItemsCommand') await beforeTransaction();
      return next(args);
    },
    { step: 'finalizeRequest' },
  );
  return new DynamoDbStore(DynamoDBDocumentClient.from(raw), table.tableName);
}

/** A store on its own client that counts the transactions it sends, retries included. */
function countingStore(): { store: DynamoDbStore; transactions: () => number } {
  let transactions = 0;
  const store = storeOnOwnClient(() => {
    transactions += 1;
    return Promise.resolve();
  });
  return { store, transactions: () => transactions };
}

/** Every refusal must be one of the domain's answers, never a fault. */
function expectOnlyDomainRefusals(results: readonly PromiseSettledResult<unknown>[]): void {
  for (const result of results) {
    if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(ConflictError);
  }
}

describe('concurrent writes', () => {
  it('creates exactly one of 20 keys racing for the same name', async () => {
    // Prepare
    const { account } = await seedAccount(table.store);
    const users = await Promise.all([seedUser(table.store, account.id), seedUser(table.store, account.id)]);
    const limits = { keysPerUser: 20, rulesPerKey: 20 };
    const keys = Array.from({ length: 20 }, (_, i) => testKey(users[i % 2]!, 'contested-key-name'));

    // Act
    const results = await Promise.allSettled(keys.map((key) => table.store.createKey(key, testEvent(account.id), limits)));

    // Assess
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expectOnlyDomainRefusals(results);
    const listed = await table.store.listKeys(account.id, { limit: 100 });
    expect(listed.items.filter((k) => k.name === 'contested-key-name')).toHaveLength(1);
  });

  it('never lets one user exceed the key limit, however many creations race', async () => {
    const { account } = await seedAccount(table.store);
    const viewer = await seedUser(table.store, account.id);
    const limits = { keysPerUser: 5, rulesPerKey: 20 };
    const keys = Array.from({ length: 15 }, () => testKey(viewer));

    const results = await Promise.allSettled(keys.map((key) => table.store.createKey(key, testEvent(account.id), limits)));

    const created = results.filter((r) => r.status === 'fulfilled').length;
    expect(created).toBeGreaterThan(0);
    expect(created).toBeLessThanOrEqual(5);
    expectOnlyDomainRefusals(results);
    const listed = await table.store.listKeys(account.id, { limit: 100 });
    expect(listed.items.filter((k) => k.userId === viewer.id)).toHaveLength(created);
  });

  it('loses no rule and breaks no limit when 50 CIDR additions race', async () => {
    const { account, ownerKey } = await seedAccount(table.store);
    const limits = { keysPerUser: 10, rulesPerKey: 20 };
    const rules: CidrRule[] = Array.from({ length: 50 }, (_, i) => ({ id: newId(), cidr: `10.${i}.0.0/16`, createdAt: new Date().toISOString() }));
    const add = (rule: CidrRule) => (list: CidrAllowList) => ({ list: list.add(rule), result: rule });

    const results = await Promise.allSettled(
      rules.map((rule) => table.store.editAllowList(account.id, ownerKey.id, add(rule), testEvent(account.id), limits)),
    );

    expectOnlyDomainRefusals(results);
    const stored = (await table.store.getKey(account.id, ownerKey.id))?.cidrAllowList ?? [];
    expect(stored.length).toBeLessThanOrEqual(20);
    const added = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(added.length).toBeGreaterThan(0);
    expect(stored).toEqual(expect.arrayContaining(added));
    expect(stored).toHaveLength(added.length);
    expect(new Set(stored.map((r) => r.cidr)).size).toBe(stored.length);
    // DynamoDB Local runs transactions one at a time, so 50 contenders take a while on a busy machine.
  }, 90_000);

  it('lands every one of 50 racing CIDR rule adds that fits, and refuses the rest for the limit alone', async () => {
    // Prepare
    const { account, ownerKey } = await seedAccount(table.store);
    const limits = { keysPerUser: 10, rulesPerKey: 20 };
    const rules: CidrRule[] = Array.from({ length: 50 }, (_, i) => ({ id: newId(), cidr: `10.${i}.0.0/16`, createdAt: new Date().toISOString() }));

    const counted = countingStore();

    // Act
    const results = await Promise.allSettled(
      rules.map((rule) => counted.store.addCidrRule(account.id, ownerKey.id, rule, testEvent(account.id, 'cidr-rule.create'), limits)),
    );

    // Assess: each add is one conditional append that meets the list as it is, so none is
    // refused while the list has room, and none re-reads and retries against the winners (a
    // re-applied edit sent hundreds of transactions here; DynamoDB Local runs them one by one).
    expect(counted.transactions()).toBeLessThan(2 * rules.length);
    const added = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const refusals = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(added).toHaveLength(20);
    expect(refusals).toEqual(Array<LimitExceededError>(30).fill(new LimitExceededError('a key may have at most 20 CIDR rules', 20)));
    const stored = (await table.store.getKey(account.id, ownerKey.id))?.cidrAllowList ?? [];
    expect([...stored].sort(byId)).toEqual([...added].sort(byId));
    const events = await table.store.listEvents(account.id, { limit: 100 });
    expect(events.items.filter((e) => e.action === 'cidr-rule.create')).toHaveLength(20);
  }, 90_000);

  it('loses no rule when adds race edits and removals of the same list', async () => {
    // Prepare
    const { account, ownerKey } = await seedAccount(table.store);
    const limits = { keysPerUser: 10, rulesPerKey: 50 };
    const rule = (cidr: string): CidrRule => ({ id: newId(), cidr, createdAt: new Date().toISOString() });
    const doomed = await table.store.addCidrRule(account.id, ownerKey.id, rule('192.168.0.0/16'), testEvent(account.id), limits);
    const moved = await table.store.addCidrRule(account.id, ownerKey.id, rule('172.16.0.0/12'), testEvent(account.id), limits);
    const adds = Array.from({ length: 20 }, (_, i) => rule(`10.${i}.0.0/16`));

    // Act
    const results = await Promise.allSettled([
      ...adds.map((r) => table.store.addCidrRule(account.id, ownerKey.id, r, testEvent(account.id), limits)),
      table.store.editAllowList(account.id, ownerKey.id, (list) => ({ list: list.remove(doomed.id), result: null }), testEvent(account.id), limits),
      table.store.editAllowList(
        account.id,
        ownerKey.id,
        (list) => ({ list: list.replace(moved.id, '172.17.0.0/16').list, result: null }),
        testEvent(account.id),
        limits,
      ),
    ]);

    // Assess
    expectOnlyDomainRefusals(results);
    const landed = adds.filter((_, i) => results[i]?.status === 'fulfilled').map((r) => r.cidr);
    const edits = results.slice(adds.length).map((r) => r.status);
    const expected = [
      ...(edits[1] === 'fulfilled' ? ['172.17.0.0/16'] : ['172.16.0.0/12']),
      ...(edits[0] === 'fulfilled' ? [] : ['192.168.0.0/16']),
      ...landed,
    ].sort();
    const stored = (await table.store.getKey(account.id, ownerKey.id))?.cidrAllowList ?? [];
    expect(stored.map((r) => r.cidr).sort()).toEqual(expected);
    // The set of CIDRs still matches the list: a second add of each is refused as a duplicate.
    const again = await Promise.allSettled(expected.map((cidr) => table.store.addCidrRule(account.id, ownerKey.id, rule(cidr), testEvent(account.id), limits)));
    expect(again.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'added'))).toEqual(
      expected.map((cidr) => `the allow list already has the rule ${cidr}`),
    );
  }, 90_000);

  it.each([
    ['two demotions', 'demote', 'demote'],
    ['two deletions', 'delete', 'delete'],
    ['a demotion and a deletion', 'demote', 'delete'],
  ] as const)('keeps exactly one owner when %s of the last two owners race', async (_, first, second) => {
    const { account, owner } = await seedAccount(table.store);
    const other = await seedUser(table.store, account.id, 'owner');
    const remove = (userId: string, how: 'demote' | 'delete'): Promise<unknown> =>
      how === 'demote'
        ? table.store.changeRole(account.id, userId, 'viewer', testEvent(account.id))
        : table.store.deleteUser(account.id, userId, testEvent(account.id));

    const results = await Promise.allSettled([remove(owner.id, first), remove(other.id, second)]);

    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refusal = results.find((r) => r.status === 'rejected');
    expect(refusal?.reason).toEqual(new ConflictError('the account must keep at least one owner'));
    const owners = (await table.store.listUsers(account.id)).filter((u) => u.role === 'owner');
    expect(owners).toHaveLength(1);
  });

  it('keeps the role copy on a key consistent when a key creation races a role change', async () => {
    const { account } = await seedAccount(table.store);
    const viewer = await seedUser(table.store, account.id, 'viewer');
    const key = testKey(viewer);

    const results = await Promise.allSettled([
      table.store.createKey(key, testEvent(account.id), { keysPerUser: 10, rulesPerKey: 20 }),
      table.store.changeRole(account.id, viewer.id, 'member', testEvent(account.id)),
    ]);

    expect(results[1].status).toBe('fulfilled');
    const stored = await table.store.loadForAuthorization(account.id, key.id);
    // Whichever won, no key of a user whose role may not hold keys survives the demotion.
    expect(stored.key).toBeUndefined();
  });

  it('deletes a key racing its own deletion once, and the other deletion finds nothing', async () => {
    const { account } = await seedAccount(table.store);
    const viewer = await seedUser(table.store, account.id);
    const key = testKey(viewer);
    await table.store.createKey(key, testEvent(account.id), { keysPerUser: 10, rulesPerKey: 20 });

    const results = await Promise.allSettled([
      table.store.deleteKey(account.id, key.id, testEvent(account.id)),
      table.store.deleteKey(account.id, key.id, testEvent(account.id)),
    ]);

    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')?.reason).toEqual(new NotFoundError('api key'));
    const user = await table.store.listKeys(account.id, { limit: 10, userId: viewer.id });
    expect(user.items).toHaveLength(0);
  });

  it("deletes a leaked key only while it holds the reported secret, though a roll lands between the delete's read and its transaction", async () => {
    // Prepare: the roll runs on another client just before the delete's transaction is sent.
    const { account } = await seedAccount(table.store);
    const viewer = await seedUser(table.store, account.id);
    const key = testKey(viewer);
    await table.store.createKey(key, testEvent(account.id), { keysPerUser: 10, rulesPerKey: 20 });
    const rolledTo = { hash: fakeDigest(), pepperVersion: 1 };
    let rolls = 0;
    const store = storeOnOwnClient(async () => {
      if (rolls > 0) return;
      rolls += 1;
      await table.store.rollKey(account.id, key.id, rolledTo, 0, new Date(), testEvent(account.id, 'api-key.roll'));
    });

    // Act
    const deleted = await store.deleteKeyIfSecret(account.id, key.id, key.secretHash, testEvent(account.id, 'api-key.leak-reported'));

    // Assess
    expect(rolls).toBe(1);
    expect(deleted).toBe(false);
    const stored = await table.store.loadForAuthorization(account.id, key.id);
    expect(Buffer.from(stored.key?.secretHash ?? [])).toEqual(Buffer.from(rolledTo.hash));
    const actions = (await table.store.listEvents(account.id, { limit: 20 })).items.map((e) => e.action);
    expect(actions).not.toContain('api-key.leak-reported');
  });

  it('deletes a leaked key that still holds the reported secret, with its event', async () => {
    const { account } = await seedAccount(table.store);
    const viewer = await seedUser(table.store, account.id);
    const key = testKey(viewer);
    await table.store.createKey(key, testEvent(account.id), { keysPerUser: 10, rulesPerKey: 20 });

    const deleted = await table.store.deleteKeyIfSecret(account.id, key.id, key.secretHash, testEvent(account.id, 'api-key.leak-reported'));

    expect(deleted).toBe(true);
    expect(await table.store.getKey(account.id, key.id)).toBeUndefined();
    const actions = (await table.store.listEvents(account.id, { limit: 20 })).items.map((e) => e.action);
    expect(actions).toContain('api-key.leak-reported');
  });
});
