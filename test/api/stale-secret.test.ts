import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { SECRET_TAG_CONTEXT } from '#shared/authorization/decision.ts';
import { UNTAGGED_SECRET, newSecretTag } from '#shared/domain/secret-tags.ts';
import type { Principal } from '#shared/domain/model.ts';
import { rotatePepper } from '#shared/authorization/peppers.ts';
import { type OperationId, ROUTES } from '#shared/http/routes.ts';
import {
  type ApiCall,
  type ApiResponse,
  type ApiTestBed,
  type GatewayCall,
  type GatewayTestBed,
  type KeyPair,
  apiEvent,
  createApiTestBed,
  createGatewayTestBed,
} from '#test/support/api-events.ts';
import { OWNER_WRITES, OWNER_WRITE_REQUESTS, newSubject, tableSnapshot } from '#test/support/owner-writes.ts';

/**
 * A secret rolled away cannot write through an Allow the gateway cached for it. The cache
 * keeps an Allow for its TTL (until the table's stream flushes it), and the Allow names the
 * key, not the secret: so each write, and the reveal of the account key, checks inside its own
 * transaction that both secrets which authorized the request are still live secrets of their
 * items. Revocation here rests on the stream alone, as on AWS, and no stream runs: every
 * cached Allow stays cached for the whole test.
 */

interface Account {
  readonly first: KeyPair;
  readonly second: KeyPair & { readonly user: { readonly id: string } };
}

/** What a refused request must leave as it was: the users and the audit log of the account. */
async function state(bed: GatewayTestBed, accountId: string): Promise<string> {
  const users = await bed.app.store.listUsers(accountId);
  const events = await bed.app.store.listEvents(accountId, { limit: 1000 });
  return JSON.stringify({ users, events: events.items });
}

describe('a secret rolled away, through the local gateway with a 300 s authorizer cache', () => {
  let bed: GatewayTestBed;
  let users = 0;

  beforeAll(async () => {
    bed = await createGatewayTestBed({ authorizerTtlSeconds: 300, immediateFlush: false });
  });

  /** An account of its own (its account key gets rolled) with two owners; the second one's Allow is cached. */
  async function twoOwners(): Promise<Account> {
    const first = await bed.newAccount();
    const second = await bed.addUser(first, 'owner');
    expect((await bed.request('whoami', { keys: second })).status).toBe(200);
    return { first, second };
  }

  function createUser(keys: GatewayCall['keys'], sourceIp?: string): Promise<ApiResponse> {
    users += 1;
    return bed.request('createUser', {
      keys,
      body: { name: `Stale Secret ${users}`, email: `stale${users}@example.com`, role: 'owner' },
      ...(sourceIp === undefined ? {} : { sourceIp }),
    });
  }

  async function rollUserKey(by: KeyPair, of: KeyPair, gracePeriodSeconds: number): Promise<string> {
    const rolled = await bed.request('rollApiKey', { keys: by, params: { keyId: of.principal.keyId }, body: { gracePeriodSeconds } });
    expect(rolled.status).toBe(200);
    return rolled.json.secret as string;
  }

  async function rollAccountKey(by: KeyPair, gracePeriodSeconds: number): Promise<string> {
    const rolled = await bed.request('rollAccountKey', { keys: by, body: { gracePeriodSeconds } });
    expect(rolled.status).toBe(200);
    return rolled.json.accountKey as string;
  }

  /** The request is answered 401 and the account's users and audit log are as they were. */
  async function refusedWithNothingWritten(accountId: string, send: () => Promise<ApiResponse>): Promise<void> {
    const before = await state(bed, accountId);
    const response = await send();
    expect(response.status).toBe(401);
    expect(response.json).toMatchObject({ status: 401, type: 'urn:latchkey:problem:unauthorized' });
    expect(await state(bed, accountId)).toBe(before);
  }

  const stillCached = async (keys: KeyPair): Promise<void> => {
    // The old secret still gets through the gateway: the Allow made for it is cached.
    expect((await bed.request('whoami', { keys })).status).toBe(200);
  };

  it('a user key rolled with no grace: createUser with the old secret is 401, nothing written; the new secret writes', async () => {
    const { first, second } = await twoOwners();
    const secret = await rollUserKey(first, second, 0);
    await stillCached(second);

    await refusedWithNothingWritten(first.principal.accountId, () => createUser(second));

    expect((await createUser({ accountKey: second.accountKey, userKey: secret })).status).toBe(201);
  });

  it('an account key rolled with no grace: createUser with the old account key is 401, nothing written; the new one writes', async () => {
    const { first, second } = await twoOwners();
    const accountKey = await rollAccountKey(first, 0);
    await stillCached(second);

    await refusedWithNothingWritten(first.principal.accountId, () => createUser(second));

    expect((await createUser({ accountKey, userKey: second.userKey })).status).toBe(201);
  });

  const reveal = (keys: GatewayCall['keys']): Promise<ApiResponse> => bed.request('revealAccountKey' satisfies OperationId, { keys });

  it('the reveal of the account key with a user key rolled with no grace is 401, nothing recorded', async () => {
    const { first, second } = await twoOwners();
    await rollUserKey(first, second, 0);
    await stillCached(second);

    await refusedWithNothingWritten(first.principal.accountId, () => reveal(second));
  });

  it('the reveal with an account key rolled with no grace is 401, nothing recorded; the new keys reveal the new account key', async () => {
    const { first, second } = await twoOwners();
    const accountKey = await rollAccountKey(first, 0);
    await stillCached(second);

    await refusedWithNothingWritten(first.principal.accountId, () => reveal(second));

    const revealed = await reveal({ accountKey, userKey: second.userKey });
    expect(revealed.status).toBe(200);
    expect(revealed.json).toEqual({ accountKey });
  });

  it('during a grace period the previous secrets still write and reveal, through a cached Allow and a fresh one', async () => {
    const { first, second } = await twoOwners();
    await rollUserKey(first, second, 600);
    await rollAccountKey(first, 600);
    await stillCached(second);

    expect((await createUser(second)).status).toBe(201);
    expect((await reveal(second)).status).toBe(200);
    // From another address: not the cached Allow, a new decision for the previous secrets.
    expect((await createUser(second, '203.0.113.9')).status).toBe(201);
  });

  it('a roll during a grace ends the older secret at once: its cached Allow no longer writes', async () => {
    const { first, second } = await twoOwners();
    await rollUserKey(first, second, 600);
    // The secret from before both rolls: it was the previous one, now it is neither.
    await rollUserKey(first, second, 600);
    await stillCached(second);

    await refusedWithNothingWritten(first.principal.accountId, () => createUser(second));
  });

  it('after a pepper rotation and the digest upgrade, an Allow cached before the upgrade still writes', async () => {
    const { first, second } = await twoOwners();
    const accountId = first.principal.accountId;
    const before = await bed.app.store.getAccount(accountId);
    await rotatePepper(bed.app.store, bed.app.apiDeps.secrets);
    // The rotation as the admin CLI announces it: the ring is read again and the cache emptied.
    await bed.app.refresh();

    // This decision is made for the digests under the old pepper and cached; it also starts
    // their upgrade to the new one.
    expect((await bed.request('whoami', { keys: second })).status).toBe(200);
    await bed.app.authorizerDeps.digestUpgrades?.settled();
    const after = await bed.app.store.getAccount(accountId);
    expect(after?.accountKeyPepperVersion).toBe((before?.accountKeyPepperVersion ?? 0) + 1);
    expect(Buffer.from(after?.accountKeyHash ?? []).equals(Buffer.from(before?.accountKeyHash ?? []))).toBe(false);

    expect((await createUser(second)).status).toBe(201);
    expect((await reveal(second)).status).toBe(200);
  });
});

describe('a grace that ended while an Allow made for the then current secret is cached', () => {
  let bed: GatewayTestBed;
  let offsetMs = 0;

  beforeAll(async () => {
    bed = await createGatewayTestBed({ authorizerTtlSeconds: 300, immediateFlush: false, now: () => new Date(Date.now() + offsetMs) });
  });

  for (const which of ['user key', 'account key'] as const) {
    it(`${which}: rolled with a 60 s grace, the old secret's cached Allow writes nothing 120 s later`, async () => {
      const first = await bed.newAccount();
      const second = await bed.addUser(first, 'owner');
      // Made while the old secret was the current one: this Allow carries no deadline.
      expect((await bed.request('whoami', { keys: second })).status).toBe(200);
      const roll =
        which === 'user key'
          ? await bed.request('rollApiKey', { keys: first, params: { keyId: second.principal.keyId }, body: { gracePeriodSeconds: 60 } })
          : await bed.request('rollAccountKey', { keys: first, body: { gracePeriodSeconds: 60 } });
      expect(roll.status).toBe(200);
      offsetMs += 120_000;
      const accountId = first.principal.accountId;
      const before = await state(bed, accountId);

      const response = await bed.request('createUser', { keys: second, body: { name: 'Late Writer', email: 'late@example.com', role: 'owner' } });

      expect(response.status).toBe(401);
      expect(await state(bed, accountId)).toBe(before);
    });
  }
});

describe('the secret tags of an Allow, through the handlers', () => {
  let bed: ApiTestBed;

  beforeAll(async () => {
    bed = await createApiTestBed();
  });

  /** The tags the authorizer would pass for the caller's current secrets, read from the table. */
  async function currentTags(principal: Principal): Promise<{ accountKey: string; userKey: string }> {
    const get = async (sk: string, name: string): Promise<string> => {
      const { Item } = await bed.table.client.send(
        new GetCommand({ TableName: bed.table.tableName, Key: { pk: `ACCOUNT#${principal.accountId}`, sk }, ConsistentRead: true }),
      );
      const tag: unknown = Item?.[name];
      if (typeof tag !== 'string') throw new Error(`no ${name} on ${sk}`);
      return tag;
    };
    return { accountKey: await get('META', 'accountKeyTag'), userKey: await get(`KEY#${principal.keyId}`, 'secretTag') };
  }

  function callWith(operationId: OperationId, principal: Principal, context: Record<string, string>, call: ApiCall = {}): Promise<ApiResponse> {
    const event = apiEvent(operationId, principal, call);
    return bed.invoke(operationId, { ...event, requestContext: { ...event.requestContext, authorizer: { ...event.requestContext.authorizer, ...context } } });
  }

  const tagContext = (tags: { accountKey: string; userKey: string }): Record<string, string> => ({
    [SECRET_TAG_CONTEXT.accountKey]: tags.accountKey,
    [SECRET_TAG_CONTEXT.userKey]: tags.userKey,
  });

  let users = 0;
  const newUser = (): ApiCall => {
    users += 1;
    return { body: { name: `Tagged ${users}`, email: `tagged${users}@example.com`, role: 'viewer' } };
  };

  // Each write joins the checks to its own items differently (a put, an update or a delete of
  // the key or account item, or a check of its own): every one is run both ways.
  for (const route of [...OWNER_WRITES, ...ROUTES.filter((r) => r.operationId === 'revealAccountKey')]) {
    it(`${route.operationId}: runs with the tags of the caller's secrets, and is 401 with nothing written with another tag`, async () => {
      const request = OWNER_WRITE_REQUESTS[route.operationId] ?? (() => ({}));
      const caller = await bed.addCaller('owner');
      const tags = await currentTags(caller.principal);
      const wrong = { ...tags, userKey: newSecretTag() };

      const subject = await newSubject(bed);
      const before = await tableSnapshot(bed.table);
      expect((await callWith(route.operationId, caller.principal, tagContext(wrong), request(subject))).status).toBe(401);
      expect(await tableSnapshot(bed.table)).toBe(before);

      expect((await callWith(route.operationId, caller.principal, tagContext(tags), request(subject))).status).toBe(route.status);
    });
  }

  it('a write checks the tags and leaves them out of the audit event it stores', async () => {
    const caller = await bed.addCaller('owner');
    const response = await callWith('createUser', caller.principal, tagContext(await currentTags(caller.principal)), newUser());
    expect(response.status).toBe(201);

    const { Items } = await bed.table.client.send(
      new QueryCommand({
        TableName: bed.table.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :events)',
        ExpressionAttributeValues: { ':pk': `ACCOUNT#${caller.principal.accountId}`, ':events': 'EVENT#' },
        ConsistentRead: true,
      }),
    );
    const event = (Items ?? []).find((item) => item.target === `user/${(response.json as { id: string }).id}`);
    expect(event).toMatchObject({ action: 'user.create', actorKeyId: caller.principal.keyId });
    expect(Object.keys(event ?? {}).filter((name) => /tag/i.test(name))).toEqual([]);
  });

  it('tags that name no secret of the key are 401, nothing written', async () => {
    const caller = await bed.addCaller('owner');
    const tags = await currentTags(caller.principal);
    const before = JSON.stringify(await bed.deps.store.listUsers(caller.principal.accountId));
    for (const wrong of [
      { ...tags, userKey: newSecretTag() },
      { ...tags, accountKey: newSecretTag() },
      { ...tags, userKey: UNTAGGED_SECRET },
    ]) {
      expect((await callWith('createUser', caller.principal, tagContext(wrong), newUser())).status).toBe(401);
    }
    expect(JSON.stringify(await bed.deps.store.listUsers(caller.principal.accountId))).toBe(before);
  });

  it('a context with malformed or half the tags is 401 before anything runs', async () => {
    const caller = await bed.addCaller('owner');
    const tags = await currentTags(caller.principal);
    const contexts: Record<string, string>[] = [
      { [SECRET_TAG_CONTEXT.accountKey]: tags.accountKey },
      { [SECRET_TAG_CONTEXT.userKey]: tags.userKey },
      { ...tagContext(tags), [SECRET_TAG_CONTEXT.userKey]: 'lks_not-a-tag' },
    ];
    for (const context of contexts) {
      expect((await callWith('whoami', caller.principal, context)).status).toBe(401);
    }
  });

  it('secrets stored before tags: the untagged slot writes, until a roll replaces it', async () => {
    const other = await bed.otherAccount();
    const owner: Principal = { accountId: other.account.id, userId: other.owner.id, role: 'owner', keyId: other.keyId };
    // As an item written before secrets were tagged.
    const untag = (sk: string, name: string): Promise<unknown> =>
      bed.table.client.send(
        new UpdateCommand({ TableName: bed.table.tableName, Key: { pk: `ACCOUNT#${owner.accountId}`, sk }, UpdateExpression: `REMOVE ${name}` }),
      );
    await untag('META', 'accountKeyTag');
    await untag(`KEY#${owner.keyId}`, 'secretTag');
    const untagged = tagContext({ accountKey: UNTAGGED_SECRET, userKey: UNTAGGED_SECRET });
    expect((await callWith('createUser', owner, untagged, newUser())).status).toBe(201);

    // Rolled with a grace by the owner itself (with its untagged secrets): the untagged secret is now the previous one.
    const rolled = await callWith('rollApiKey', owner, untagged, { params: { keyId: owner.keyId }, body: { gracePeriodSeconds: 600 } });
    expect(rolled.status).toBe(200);
    expect((await callWith('createUser', owner, untagged, newUser())).status).toBe(201);

    // A second roll ends it: the key's slots now hold tagged secrets only.
    expect((await callWith('rollApiKey', owner, untagged, { params: { keyId: owner.keyId }, body: { gracePeriodSeconds: 0 } })).status).toBe(200);
    const before = JSON.stringify(await bed.deps.store.listUsers(owner.accountId));
    expect((await callWith('createUser', owner, untagged, newUser())).status).toBe(401);
    expect(JSON.stringify(await bed.deps.store.listUsers(owner.accountId))).toBe(before);
  });
});
