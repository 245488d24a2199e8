import { randomBytes } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbDigestStore } from '#shared/adapters/dynamodb/digest-upgrades.ts';
import { type TableChange, narrowsAccess } from '#shared/adapters/dynamodb/narrowing.ts';
import { LocalUsagePlans } from '#local/storage/local-usage-plans.ts';
import { LocalSecrets } from '#local/storage/local-secrets.ts';
import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import { authorize } from '#shared/authorization/decision.ts';
import { DigestUpgrader } from '#shared/authorization/digest-upgrades.ts';
import { createPepperProvider, ensurePepper, rotatePepper, type PepperProvider } from '#shared/authorization/peppers.ts';
import type { PepperStore } from '#shared/ports/pepper-store.ts';
import { createAccount, type CreatedAccount } from '#shared/services/accounts.ts';
import { issueUserKey } from '#shared/services/api-keys.ts';
import { rollAccountKey, rollApiKey } from '#shared/services/key-rolls.ts';
import { type TestTable, createTestTable } from '#test/support/dynamodb.ts';
import { tableChanges } from '#test/support/table-stream.ts';
import { quietLogger } from '#test/support/fakes/logger.ts';
import { FakeAuthorizerCache } from '#test/support/fakes/authorizer-cache.ts';

/**
 * Rotation takes effect and old peppers can be retired: each container reads the pepper list
 * again at most every PEPPER_RING_MAX_AGE_SECONDS, and a key used successfully has its digest
 * moved to the newest pepper, so the report of digests per version empties the old ones.
 */

const quiet = quietLogger();

/** Each test gets its own table: rotations must not leak between tests. */
async function freshTable(): Promise<{ table: TestTable; secrets: LocalSecrets }> {
  const table = await createTestTable();
  const secrets = new LocalSecrets(randomBytes(32));
  await ensurePepper(table.store, secrets);
  return { table, secrets };
}

async function newAccount(table: TestTable, secrets: LocalSecrets, peppers: PepperProvider): Promise<CreatedAccount> {
  return createAccount(
    { store: table.store, secrets, peppers, now: () => new Date(), usagePlans: new LocalUsagePlans() },
    { name: 'Rotation account', ownerName: 'Owner', ownerEmail: 'owner@example.com' },
    SYSTEM_ACTOR,
  );
}

async function item(table: TestTable, pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
  return (await table.client.send(new GetCommand({ TableName: table.tableName, Key: { pk, sk }, ConsistentRead: true }))).Item;
}

describe('the pepper ring of a container', () => {
  let table: TestTable;
  let secrets: LocalSecrets;

  beforeAll(async () => {
    ({ table, secrets } = await freshTable());
  });

  it('digests new keys with the newest pepper once the ring is older than its maximum age', async () => {
    // Prepare: a container that loaded version 1.
    let clock = Date.parse('2031-01-01T00:00:00Z');
    const peppers = createPepperProvider(table.store, secrets, { maxAgeSeconds: 300, now: () => clock });
    const before = await peppers();

    // Act
    await rotatePepper(table.store, secrets);
    const justBefore = await ((clock += 299_999), peppers());
    const atMaxAge = await ((clock += 1), peppers());

    // Assess
    expect(before.current.version).toBe(1);
    expect(justBefore.current.version).toBe(1);
    expect(atMaxAge.current.version).toBe(2);
    const { record } = issueUserKey(atMaxAge, { id: 'U1', accountId: 'A1', role: 'owner' }, 'new-key-name', new Date(clock), SYSTEM_ACTOR);
    expect(record.pepperVersion).toBe(2);
  });

  it('keeps the ring it has when a refresh fails, and tries again after another period', async () => {
    // Prepare: a pepper list that fails on demand.
    let failing = false;
    let reads = 0;
    const flaky: PepperStore = {
      listPeppers: () => {
        reads += 1;
        return failing ? Promise.reject(new Error('throttled')) : table.store.listPeppers();
      },
      addPepper: (pepper) => table.store.addPepper(pepper),
    };
    let clock = 0;
    const peppers = createPepperProvider(flaky, secrets, { maxAgeSeconds: 60, now: () => clock });
    const loaded = await peppers();

    // Act
    failing = true;
    clock += 60_000;
    const duringFailure = await peppers();
    const sameperiod = await peppers();
    failing = false;
    clock += 60_000;
    const recovered = await peppers();

    // Assess
    expect(duringFailure).toBe(loaded);
    expect(sameperiod).toBe(loaded);
    expect(reads).toBe(3);
    expect(recovered.current.version).toBe(loaded.current.version);
  });
});

describe('retiring an old pepper', () => {
  it("moves a key's digests to the newest pepper when the key is next used, and the usage report shows the old version empty", async () => {
    // Prepare: keys made under version 1, then a rotation, then a container that knows version 2.
    const { table, secrets } = await freshTable();
    const created = await newAccount(table, secrets, createPepperProvider(table.store, secrets));
    await rotatePepper(table.store, secrets);
    const digests = new DynamoDbDigestStore(table.client, table.tableName);
    const upgrader = new DigestUpgrader(digests, quiet);
    const deps = { credentials: table.store, peppers: createPepperProvider(table.store, secrets), digestUpgrades: upgrader };
    const request = { accountKey: [created.accountKey], userKey: [created.userKey], sourceIp: '203.0.113.9' };
    const usageBefore = await digests.pepperUsage();

    // Act
    const refused = await authorize(deps, { ...request, userKey: [issueUserKey((await deps.peppers()), created.owner, 'other-key-name', new Date(), SYSTEM_ACTOR).secret] });
    await upgrader.settled();
    const afterRefusal = await digests.pepperUsage();
    const first = await authorize(deps, request);
    await upgrader.settled();
    const second = await authorize(deps, request);

    // Assess
    expect(usageBefore).toEqual([{ version: 1, userKeys: 1, accountKeys: 1 }]);
    expect(refused.outcome).toBe('deny-unauthorized');
    expect(afterRefusal).toEqual(usageBefore);
    expect(first.outcome).toBe('allow');
    expect(second.outcome).toBe('allow');
    expect(await digests.pepperUsage()).toEqual([{ version: 2, userKeys: 1, accountKeys: 1 }]);
    expect((await item(table, `ACCOUNT#${created.account.id}`, `KEY#${created.keyId}`))?.pepperVersion).toBe(2);
    expect((await item(table, `ACCOUNT#${created.account.id}`, 'META'))?.accountKeyPepperVersion).toBe(2);
  });

  it("costs no flush: the table's stream shows each upgrade as no narrowing change, and a roll after it as one", async () => {
    // Prepare: keys made under version 1, then a rotation, then a container that knows version 2.
    const { table, secrets } = await freshTable();
    const created = await newAccount(table, secrets, createPepperProvider(table.store, secrets));
    await rotatePepper(table.store, secrets);
    const upgrader = new DigestUpgrader(new DynamoDbDigestStore(table.client, table.tableName), quiet);
    const peppers = createPepperProvider(table.store, secrets);
    const deps = { store: table.store, secrets, peppers, now: () => new Date(), authorizerCache: new FakeAuthorizerCache(), logger: quiet };
    const pk = `ACCOUNT#${created.account.id}`;
    const ofItems = (changes: TableChange[]): TableChange[] =>
      changes.filter((c) => c.eventName === 'MODIFY' && c.keys?.pk?.S === pk && ['META', `KEY#${created.keyId}`].includes(c.keys.sk?.S ?? ''));

    // Act
    const before = (await tableChanges(table)).length;
    const allowed = await authorize({ credentials: table.store, peppers, digestUpgrades: upgrader }, {
      accountKey: [created.accountKey],
      userKey: [created.userKey],
      sourceIp: '203.0.113.9',
    });
    await upgrader.settled();
    const upgrades = ofItems((await tableChanges(table)).slice(before));
    const afterUpgrades = (await tableChanges(table)).length;
    await rollApiKey(deps, created.account.id, created.keyId, 0, SYSTEM_ACTOR);
    await rollAccountKey(deps, created.account.id, 0, SYSTEM_ACTOR);
    const rolls = ofItems((await tableChanges(table)).slice(afterUpgrades));

    // Assess
    expect(allowed.outcome).toBe('allow');
    expect(upgrades.map((c) => [c.keys?.sk?.S, narrowsAccess(c)]).sort()).toEqual([['KEY#' + created.keyId, false], ['META', false]].sort());
    expect(rolls.map((c) => [c.keys?.sk?.S, narrowsAccess(c)]).sort()).toEqual([['KEY#' + created.keyId, true], ['META', true]].sort());
  });

  it('counts the secrets rolls replaced while their grace lasts: their old pepper is still in use', async () => {
    // Prepare: keys made under version 1, then a rotation.
    const { table, secrets } = await freshTable();
    const created = await newAccount(table, secrets, createPepperProvider(table.store, secrets));
    await rotatePepper(table.store, secrets);
    const digests = new DynamoDbDigestStore(table.client, table.tableName);
    const deps = {
      store: table.store,
      secrets,
      peppers: createPepperProvider(table.store, secrets),
      now: () => new Date(),
      authorizerCache: new FakeAuthorizerCache(),
      logger: quiet,
    };

    // Act: both keys rolled under version 2, the replaced ones kept for an hour.
    await rollApiKey(deps, created.account.id, created.keyId, 3600, SYSTEM_ACTOR);
    await rollAccountKey(deps, created.account.id, 3600, SYSTEM_ACTOR);

    // Assess
    expect(await digests.pepperUsage()).toEqual([
      { version: 1, userKeys: 1, accountKeys: 1 },
      { version: 2, userKeys: 1, accountKeys: 1 },
    ]);
  });

  it('never races a delete or a roll: an upgrade of a digest that changed, or of a key that is gone, writes nothing', async () => {
    // Prepare
    const { table, secrets } = await freshTable();
    const created = await newAccount(table, secrets, createPepperProvider(table.store, secrets));
    const digests = new DynamoDbDigestStore(table.client, table.tableName);
    const key = { pk: `ACCOUNT#${created.account.id}`, sk: `KEY#${created.keyId}` };
    const stored = await item(table, key.pk, key.sk);
    const replacement = { hash: randomBytes(32), pepperVersion: 2 };

    // Act: from a digest other than the stored one (a roll came first), then after a delete.
    const stale = await digests.upgradeKeyDigest(created.account.id, created.keyId, { hash: randomBytes(32), pepperVersion: 1 }, replacement);
    const unchanged = await item(table, key.pk, key.sk);
    await table.store.deleteKey(created.account.id, created.keyId, {
      id: 'EVENT1',
      accountId: created.account.id,
      time: new Date().toISOString(),
      action: 'api-key.delete',
      actor: { userId: null, keyId: null },
      target: `api-key/${created.keyId}`,
      sourceIp: null,
    });
    const gone = await digests.upgradeKeyDigest(created.account.id, created.keyId, { hash: stored?.secretHash as Uint8Array, pepperVersion: 1 }, replacement);

    // Assess
    expect(stale).toBe(false);
    expect(unchanged).toEqual(stored);
    expect(gone).toBe(false);
    expect(await item(table, key.pk, key.sk)).toBeUndefined();
  });
});
