import { beforeAll, describe, expect, it } from 'vitest';
import { newId } from '#shared/domain/ids.ts';
import { USER_KEY_PATTERN, parseUserKey } from '#shared/domain/key-format.ts';
import { type ApiTestBed, type Caller, createApiTestBed } from '#test/support/api-events.ts';

let bed: ApiTestBed;

beforeAll(async () => {
  // A low limit so the limit itself can be reached in a test.
  bed = await createApiTestBed({ limits: { keysPerUser: 3, rulesPerKey: 5 } });
});

function keyName(): string {
  return `key-${newId()}`;
}

describe('POST /v1/api-keys', () => {
  it('creates a key, returns its secret once with Cache-Control: no-store, and stores only a digest', async () => {
    // Prepare
    const name = keyName();

    // Act
    const response = await bed.call('createApiKey', bed.owner, { body: { name, userId: bed.owner.userId } });

    // Assess
    expect(response.status).toBe(201);
    expect(response.headers['cache-control']).toBe('no-store');
    const { id, secret } = response.json as { id: string; secret: string };
    expect(secret).toMatch(USER_KEY_PATTERN);
    const parsed = parseUserKey(secret);
    expect(parsed.ok && parsed.key).toMatchObject({ accountId: bed.owner.accountId, keyId: id });
    expect(response.body).toMatchObject({ name, userId: bed.owner.userId, lastUsedAt: null, cidrAllowList: [] });
    const fetched = await bed.call('getApiKey', bed.owner, { params: { keyId: id } });
    expect(fetched.raw).not.toContain(secret);
    expect(fetched.json).not.toHaveProperty('secret');
    const events = await bed.deps.store.listEvents(bed.owner.accountId, { limit: 1 });
    expect(events.items[0]).toMatchObject({ action: 'api-key.create', target: `api-key/${id}` });
    expect(JSON.stringify(events.items[0])).not.toContain(secret);
  });

  it.each([
    ['short', 'minimum'],
    ['x'.repeat(51), 'maximum'],
    ['has spaces in it', 'pattern'],
  ])('refuses the name %j with 400 naming the rule', async (name, rule) => {
    // Act
    const response = await bed.call('createApiKey', bed.owner, { body: { name, userId: bed.owner.userId } });

    // Assess
    expect(response.status).toBe(400);
    expect(response.json.errors).toEqual([expect.objectContaining({ field: 'name', rule })]);
  });

  it('refuses a name already used in the account with 409', async () => {
    // Prepare
    const name = keyName();
    await bed.call('createApiKey', bed.owner, { body: { name, userId: bed.owner.userId } });

    // Act
    const response = await bed.call('createApiKey', bed.owner, { body: { name, userId: bed.owner.userId } });

    // Assess
    expect(response.status).toBe(409);
  });

  it('answers 422 for a user whose role may not hold keys', async () => {
    // Prepare
    const member = await bed.call('createUser', bed.owner, { body: { name: 'Member', email: 'm@example.com', role: 'member' } });

    // Act
    const response = await bed.call('createApiKey', bed.owner, { body: { name: keyName(), userId: member.json.id } });

    // Assess
    expect(response.status).toBe(422);
    expect(response.json.type).toBe('urn:latchkey:problem:role-cannot-hold-keys');
  });

  it("answers 404 for another account's user", async () => {
    // Prepare
    const other = await bed.otherAccount();

    // Act
    const response = await bed.call('createApiKey', bed.owner, { body: { name: keyName(), userId: other.owner.id } });

    // Assess
    expect(response.status).toBe(404);
  });

  it('answers 409 once a user holds the documented number of keys', async () => {
    // Prepare
    const caller = await bed.addCaller('viewer');
    for (let i = 0; i < 2; i += 1) await bed.call('createApiKey', bed.owner, { body: { name: keyName(), userId: caller.user.id } });

    // Act
    const response = await bed.call('createApiKey', bed.owner, { body: { name: keyName(), userId: caller.user.id } });

    // Assess
    expect(response.status).toBe(409);
    expect(response.json.type).toBe('urn:latchkey:problem:limit-exceeded');
  });
});

describe('GET /v1/api-keys', () => {
  let viewer: Caller;

  beforeAll(async () => {
    viewer = await bed.addCaller('viewer');
  });

  it('lists keys in pages, filtered by user', async () => {
    // Prepare
    await bed.call('createApiKey', bed.owner, { body: { name: keyName(), userId: viewer.user.id } });

    // Act
    const first = await bed.call('listApiKeys', viewer.principal, { query: { userId: viewer.user.id, limit: '1' } });
    const second = await bed.call('listApiKeys', viewer.principal, {
      query: { userId: viewer.user.id, limit: '1', cursor: first.json.nextCursor as string },
    });

    // Assess
    expect(first.status).toBe(200);
    const items = [...(first.json.items as { id: string; userId: string }[]), ...(second.json.items as { id: string; userId: string }[])];
    expect(items).toHaveLength(2);
    expect(new Set(items.map((k) => k.id)).size).toBe(2);
    expect(items.every((k) => k.userId === viewer.user.id)).toBe(true);
  });

  it.each([
    [{ limit: '0' }, 'limit'],
    [{ limit: '101' }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ userid: 'AAAAAAAAAAAAAAAA' }, 'userid'],
  ])('refuses the query %j with 400', async (query, field) => {
    // Act
    const response = await bed.call('listApiKeys', bed.owner, { query });

    // Assess
    expect(response.status).toBe(400);
    expect((response.json.errors as { field: string }[]).map((e) => e.field)).toContain(field);
  });

  it('refuses a forged cursor with 400', async () => {
    // Act
    const response = await bed.call('listApiKeys', bed.owner, { query: { cursor: 'eyJwayI6IkFDQ09VTlQjeCJ9' } });

    // Assess
    expect(response.status).toBe(400);
  });

  it('is not for logs-viewers', async () => {
    // Prepare
    const { principal } = await bed.addCaller('logs-viewer');

    // Act
    const response = await bed.call('listApiKeys', principal);

    // Assess
    expect(response.status).toBe(403);
  });
});

describe('GET /v1/api-keys/{keyId}', () => {
  it("shows a key of the account, and answers 404 for another account's key", async () => {
    // Prepare
    const other = await bed.otherAccount();

    // Act
    const own = await bed.call('getApiKey', bed.owner, { params: { keyId: bed.owner.keyId } });
    const foreign = await bed.call('getApiKey', bed.owner, { params: { keyId: other.keyId } });

    // Assess
    expect(own.status).toBe(200);
    expect(own.json.id).toBe(bed.owner.keyId);
    expect(foreign.status).toBe(404);
    expect(foreign.headers['content-type']).toBe('application/problem+json');
  });
});

describe('DELETE /v1/api-keys/{keyId}', () => {
  it('deletes the key, records it, and flushes the authorizer cache after the delete is stored', async () => {
    // Prepare
    const caller = await bed.addCaller('viewer');
    const keyAtFlush: unknown[] = [];
    bed.cache.onFlush = async () => {
      keyAtFlush.push(await bed.deps.store.getKey(bed.owner.accountId, caller.principal.keyId));
    };

    // Act
    const response = await bed.call('deleteApiKey', bed.owner, { params: { keyId: caller.principal.keyId } });
    bed.cache.onFlush = undefined;

    // Assess
    expect(response.status).toBe(204);
    expect(keyAtFlush).toEqual([undefined]);
    const events = await bed.deps.store.listEvents(bed.owner.accountId, { limit: 1 });
    expect(events.items[0]).toMatchObject({ action: 'api-key.delete', target: `api-key/${caller.principal.keyId}` });
    expect((await bed.call('getApiKey', bed.owner, { params: { keyId: caller.principal.keyId } })).status).toBe(404);
  });

  it("answers 404 for another account's key, leaves it, and flushes nothing", async () => {
    // Prepare
    const other = await bed.otherAccount();
    const flushesBefore = bed.cache.flushes;

    // Act
    const response = await bed.call('deleteApiKey', bed.owner, { params: { keyId: other.keyId } });

    // Assess
    expect(response.status).toBe(404);
    expect(bed.cache.flushes).toBe(flushesBefore);
    expect(await bed.deps.store.getKey(other.account.id, other.keyId)).toBeDefined();
  });
});
