import { beforeAll, describe, expect, it } from 'vitest';
import { newId } from '#shared/domain/ids.ts';
import { type ApiTestBed, createApiTestBed } from '#test/support/api-events.ts';

let bed: ApiTestBed;

beforeAll(async () => {
  bed = await createApiTestBed();
});

async function newUser(role = 'viewer'): Promise<{ id: string }> {
  const response = await bed.call('createUser', bed.owner, { body: { name: 'Grace Viewer', email: `g${newId()}@example.com`, role } });
  return response.body as { id: string };
}

describe('GET /v1/users', () => {
  it('lists the users of the caller account only', async () => {
    // Prepare
    const other = await bed.otherAccount();
    const created = await newUser();

    // Act
    const response = await bed.call('listUsers', bed.owner);

    // Assess
    expect(response.status).toBe(200);
    const ids = (response.json.items as { id: string }[]).map((u) => u.id);
    expect(ids).toEqual(expect.arrayContaining([bed.owner.userId, created.id]));
    expect(ids).not.toContain(other.owner.id);
  });
});

describe('POST /v1/users', () => {
  it('creates a user and records it', async () => {
    // Act
    const response = await bed.call('createUser', bed.owner, { body: { name: '  Linus  ', email: 'linus@example.com', role: 'member' } });

    // Assess
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ name: 'Linus', email: 'linus@example.com', role: 'member' });
    const events = await bed.deps.store.listEvents(bed.owner.accountId, { limit: 1 });
    expect(events.items[0]).toMatchObject({ action: 'user.create', target: `user/${response.json.id as string}` });
  });

  it.each([
    [{ name: 'x', email: 'not-an-email', role: 'viewer' }, 'email', 'email'],
    [{ name: 'x', email: 'x@example.com', role: 'emperor' }, 'role', 'enum'],
    [{ email: 'x@example.com', role: 'viewer' }, 'name', 'required'],
    [{ name: '', email: 'x@example.com', role: 'viewer' }, 'name', 'minimum'],
  ])('refuses %j: 400 naming the field and the rule', async (body, field, rule) => {
    // Act
    const response = await bed.call('createUser', bed.owner, { body });

    // Assess
    expect(response.status).toBe(400);
    expect(response.json.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field, rule })]));
  });

  it('refuses unknown fields and lists them', async () => {
    // Act
    const response = await bed.call('createUser', bed.owner, { body: { name: 'x', email: 'x@example.com', role: 'viewer', admin: true } });

    // Assess
    expect(response.status).toBe(400);
    expect(response.json.errors).toEqual([{ field: 'admin', rule: 'unknown-field', message: 'admin is not a field this route takes' }]);
    expect(response.json.detail).toContain('admin');
  });

  it('lets only owners add users', async () => {
    // Prepare
    const { principal } = await bed.addCaller('viewer');

    // Act
    const response = await bed.call('createUser', principal, { body: { name: 'x', email: 'x@example.com', role: 'owner' } });

    // Assess
    expect(response.status).toBe(403);
  });
});

describe('PATCH /v1/users/{userId}', () => {
  it('changes the role, records it, and flushes the authorizer cache after the change is stored', async () => {
    // Prepare
    const user = await newUser('viewer');
    const roleAtFlush: string[] = [];
    bed.cache.onFlush = async () => {
      roleAtFlush.push((await bed.deps.store.getUser(bed.owner.accountId, user.id))?.role ?? 'gone');
    };
    const flushesBefore = bed.cache.flushes;

    // Act
    const response = await bed.call('updateUser', bed.owner, { params: { userId: user.id }, body: { role: 'member' } });
    bed.cache.onFlush = undefined;

    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: user.id, role: 'member' });
    expect(bed.cache.flushes).toBe(flushesBefore + 1);
    expect(roleAtFlush).toEqual(['member']);
    const events = await bed.deps.store.listEvents(bed.owner.accountId, { limit: 1 });
    expect(events.items[0]).toMatchObject({ action: 'user.role-change', target: `user/${user.id}` });
  });

  it('never demotes the last owner: 409, and nothing is flushed', async () => {
    // Prepare
    const flushesBefore = bed.cache.flushes;

    // Act
    const response = await bed.call('updateUser', bed.owner, { params: { userId: bed.owner.userId }, body: { role: 'viewer' } });

    // Assess
    expect(response.status).toBe(409);
    expect(bed.cache.flushes).toBe(flushesBefore);
  });

  it('takes the keys of a user moved to a role that holds none, and audits each deletion with the change', async () => {
    // Prepare: a viewer with two keys.
    const user = await newUser('viewer');
    const keyIds: string[] = [];
    for (const name of ['viewer-key-one', 'viewer-key-two']) {
      const created = await bed.call('createApiKey', bed.owner, { body: { name: `${name}-${newId()}`.slice(0, 40), userId: user.id } });
      expect(created.status).toBe(201);
      keyIds.push((created.body as { id: string }).id);
    }

    // Act
    const response = await bed.call('updateUser', bed.owner, { params: { userId: user.id }, body: { role: 'member' } });

    // Assess: the keys are gone; the log, newest first, holds the role change, then one api-key.delete per key.
    expect(response.status).toBe(200);
    for (const keyId of keyIds) expect(await bed.deps.store.getKey(bed.owner.accountId, keyId)).toBeUndefined();
    const [change, ...deletions] = (await bed.deps.store.listEvents(bed.owner.accountId, { limit: 3 })).items;
    expect(`${change?.action ?? ''} ${change?.target ?? ''}`).toBe(`user.role-change user/${user.id}`);
    expect(deletions.map((event) => `${event.action} ${event.target}`).sort()).toEqual(keyIds.map((keyId) => `api-key.delete api-key/${keyId}`).sort());
    for (const event of [change, ...deletions]) expect(event?.actor.keyId).toBe(bed.owner.keyId);
  });

  it('never demotes the last owner to a role that holds no keys either: 409, and the keys stay', async () => {
    // Act
    const response = await bed.call('updateUser', bed.owner, { params: { userId: bed.owner.userId }, body: { role: 'member' } });

    // Assess: refused as the last owner, not as a write that kept conflicting.
    expect(response.status).toBe(409);
    expect(response.json.detail).toMatch(/at least one owner/);
    expect(await bed.deps.store.getKey(bed.owner.accountId, bed.owner.keyId)).toBeDefined();
  });

  it("answers 404 for another account's user and for a malformed id", async () => {
    // Prepare
    const other = await bed.otherAccount();

    // Act
    const foreign = await bed.call('updateUser', bed.owner, { params: { userId: other.owner.id }, body: { role: 'viewer' } });
    const malformed = await bed.call('updateUser', bed.owner, { params: { userId: 'nope' }, body: { role: 'viewer' } });

    // Assess
    expect(foreign.status).toBe(404);
    expect(malformed.status).toBe(404);
    expect((await bed.deps.store.getUser(other.account.id, other.owner.id))?.role).toBe('owner');
  });
});

describe('DELETE /v1/users/{userId}', () => {
  it("deletes the user and their keys, then flushes the authorizer cache", async () => {
    // Prepare
    const caller = await bed.addCaller('viewer');
    const keyAtFlush: unknown[] = [];
    bed.cache.onFlush = async () => {
      keyAtFlush.push(await bed.deps.store.getKey(bed.owner.accountId, caller.principal.keyId));
    };

    // Act
    const response = await bed.call('deleteUser', bed.owner, { params: { userId: caller.user.id } });
    bed.cache.onFlush = undefined;

    // Assess
    expect(response.status).toBe(204);
    expect(response.raw).toBe('');
    expect(keyAtFlush).toEqual([undefined]);
    expect(await bed.deps.store.getUser(bed.owner.accountId, caller.user.id)).toBeUndefined();
  });

  it('never deletes the last owner', async () => {
    // Act
    const response = await bed.call('deleteUser', bed.owner, { params: { userId: bed.owner.userId } });

    // Assess
    expect(response.status).toBe(409);
    expect(response.json.type).toBe('urn:latchkey:problem:conflict');
  });

  it("answers 404 for another account's user and leaves it alone", async () => {
    // Prepare
    const other = await bed.otherAccount();

    // Act
    const response = await bed.call('deleteUser', bed.owner, { params: { userId: other.owner.id } });

    // Assess
    expect(response.status).toBe(404);
    expect(await bed.deps.store.getUser(other.account.id, other.owner.id)).toBeDefined();
  });
});
