import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { newId } from '#shared/domain/ids.ts';
import { MAX_KEY_PERMISSIONS } from '#shared/domain/permissions.ts';
import { buildPermissionCatalog } from '#shared/http/permission-catalog.ts';
import { resolveDownstreamRoutes } from '#shared/http/team-routes.ts';
import { accountPk, keySk } from '#shared/adapters/dynamodb/items.ts';
import type { Principal } from '#shared/domain/model.ts';
import { type ApiTestBed, type Caller, createApiTestBed } from '#test/support/api-events.ts';

/**
 * Restricted keys in the management API (DESIGN 14): `permissions` on POST /v1/api-keys, the
 * PATCH that narrows, widens or lifts a restriction, GET /v1/permissions, and what each refuses.
 * The deployment has one team route, GET /v1/widgets (`widgets:read` by default), and one that
 * names its own permission, POST /v1/widgets/{id}/spin (`widgets:spin`).
 */

const TEAM_ROUTES = resolveDownstreamRoutes([
  { method: 'GET', path: '/v1/widgets', backend: { url: 'https://internal.example.com' } },
  { method: 'POST', path: '/v1/widgets/{id}/spin', permission: 'widgets:spin', backend: { url: 'https://internal.example.com' } },
]);

let bed: ApiTestBed;
let viewer: Caller;

beforeAll(async () => {
  // The owner holds most of the keys made here: the highest limit the store allows.
  bed = await createApiTestBed({ permissionCatalog: buildPermissionCatalog(TEAM_ROUTES), limits: { keysPerUser: 32, rulesPerKey: 5 } });
  viewer = await bed.addCaller('viewer');
});

function keyName(): string {
  return `key-${newId()}`;
}

async function createKey(permissions?: unknown, userId = bed.owner.userId): Promise<Awaited<ReturnType<ApiTestBed['call']>>> {
  return bed.call('createApiKey', bed.owner, { body: { name: keyName(), userId, ...(permissions === undefined ? {} : { permissions }) } });
}

async function storedPermissions(keyId: string): Promise<unknown> {
  const output = await bed.table.client.send(new GetCommand({ TableName: bed.table.tableName, Key: { pk: accountPk(bed.owner.accountId), sk: keySk(keyId) }, ConsistentRead: true }));
  return output.Item?.permissions;
}

async function latestEvent(): Promise<Record<string, unknown>> {
  const logs = await bed.call('listEvents', bed.owner, { query: { limit: '1' } });
  return (logs.json.items as Record<string, unknown>[])[0] ?? {};
}

describe('POST /v1/api-keys with permissions', () => {
  it('creates a restricted key: 201 with its list, stored as a list on the key item, recorded in api-key.create', async () => {
    // Act
    const response = await createKey(['widgets:read', 'api-keys:read']);

    // Assess
    expect(response.status).toBe(201);
    const id = response.json.id as string;
    expect(response.json.permissions).toEqual(['widgets:read', 'api-keys:read']);
    expect((await bed.call('getApiKey', bed.owner, { params: { keyId: id } })).json.permissions).toEqual(['widgets:read', 'api-keys:read']);
    expect(await storedPermissions(id)).toEqual(['widgets:read', 'api-keys:read']);
    expect(await latestEvent()).toMatchObject({ action: 'api-key.create', target: `api-key/${id}`, permissions: { after: ['widgets:read', 'api-keys:read'] } });
  });

  it('leaves a key unrestricted without the field: permissions null, no attribute, null recorded', async () => {
    // Act
    const response = await createKey();

    // Assess
    expect(response.status).toBe(201);
    expect(response.json.permissions).toBeNull();
    expect(await storedPermissions(response.json.id as string)).toBeUndefined();
    expect(await latestEvent()).toMatchObject({ action: 'api-key.create', permissions: { after: null } });
  });

  it("accepts a team route's own permission", async () => {
    expect((await createKey(['widgets:spin'])).status).toBe(201);
  });

  it.each([
    ['an unknown name', ['widgets:read', 'gadgets:read'], 'unknown', 'gadgets:read'],
    ['a duplicate', ['logs:read', 'users:read', 'logs:read'], 'duplicate', 'logs:read'],
    ['a malformed name', ['Widgets:Read'], 'pattern', 'Widgets:Read'],
    ['a name without an action', ['widgets'], 'pattern', 'widgets'],
  ])('refuses %s with 400 naming the rule and the value', async (_case, permissions, rule, value) => {
    // Act
    const response = await createKey(permissions);

    // Assess
    expect(response.status).toBe(400);
    expect(response.json.type).toBe('urn:latchkey:problem:validation');
    const errors = response.json.errors as { rule: string; message: string }[];
    expect(errors).toHaveLength(1);
    expect(errors[0]?.rule).toBe(rule);
    expect(errors[0]?.message).toContain(`'${value}'`);
    expect(response.json.detail).toContain(value);
  });

  it('refuses an empty list with 400 (null or no field is how to ask for all)', async () => {
    // Act
    const response = await createKey([]);

    // Assess
    expect(response.status).toBe(400);
    expect(response.json.errors).toEqual([expect.objectContaining({ field: 'permissions', rule: 'minimum' })]);
  });

  it(`refuses more than ${MAX_KEY_PERMISSIONS} names with 400`, async () => {
    // Act
    const response = await createKey(Array.from({ length: MAX_KEY_PERMISSIONS + 1 }, (_, i) => `widgets:read${i}`));

    // Assess
    expect(response.status).toBe(400);
    expect(response.json.errors).toEqual([expect.objectContaining({ field: 'permissions', rule: 'maximum' })]);
  });

  it("answers 422 for a permission the holder's role does not grant, naming it, and writes nothing", async () => {
    // Prepare
    const before = await bed.call('listApiKeys', bed.owner, { query: { userId: viewer.user.id } });

    // Act
    const response = await createKey(['account:read', 'api-keys:write'], viewer.user.id);

    // Assess
    expect(response.status).toBe(422);
    expect(response.json.type).toBe('urn:latchkey:problem:permission-not-granted');
    expect(response.json.detail).toContain("'api-keys:write'");
    expect(response.json.errors).toEqual([expect.objectContaining({ field: 'permissions', rule: 'granted-by-role' })]);
    const after = await bed.call('listApiKeys', bed.owner, { query: { userId: viewer.user.id } });
    expect(after.json.items).toEqual(before.json.items);
  });

  it("lets a viewer's key be restricted to what a viewer is granted", async () => {
    const response = await createKey(['widgets:read', 'logs:read'], viewer.user.id);
    expect(response.status).toBe(201);
  });
});

describe('PATCH /v1/api-keys/{keyId}', () => {
  async function restricted(permissions: readonly string[] | null): Promise<string> {
    const response = await createKey(permissions ?? undefined);
    expect(response.status).toBe(201);
    return response.json.id as string;
  }

  async function patch(keyId: string, body: unknown): Promise<Awaited<ReturnType<ApiTestBed['call']>>> {
    return bed.call('updateApiKey', bed.owner, { params: { keyId }, body });
  }

  it.each([
    ['narrows', ['widgets:read', 'logs:read'], ['logs:read']],
    ['widens', ['logs:read'], ['logs:read', 'widgets:spin', 'users:write']],
    ['restricts an unrestricted key', null, ['widgets:read']],
    ['lifts a restriction', ['widgets:read'], null],
  ] as const)('%s: 200 with the key, stored, audited api-key.update with both lists, the cache flushed', async (_case, before, after) => {
    // Prepare
    const keyId = await restricted(before);
    const flushes = bed.cache.flushes;

    // Act
    const response = await patch(keyId, { permissions: after });

    // Assess
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ id: keyId, permissions: after });
    expect(response.json).not.toHaveProperty('secret');
    expect((await bed.call('getApiKey', bed.owner, { params: { keyId } })).json.permissions).toEqual(after);
    expect(await storedPermissions(keyId)).toEqual(after ?? undefined);
    expect(await latestEvent()).toMatchObject({ action: 'api-key.update', target: `api-key/${keyId}`, permissions: { before, after } });
    expect(bed.cache.flushes).toBeGreaterThan(flushes);
  });

  it('answers 404 for an unknown key and for a key of another account, writing nothing', async () => {
    // Prepare
    const other = await bed.otherAccount();
    const before = await latestEvent();

    // Act
    const unknown = await patch(newId(), { permissions: ['logs:read'] });
    const foreign = await patch(other.keyId, { permissions: ['logs:read'] });

    // Assess
    expect(unknown.status).toBe(404);
    expect(foreign.status).toBe(404);
    expect(await latestEvent()).toEqual(before);
  });

  it.each([
    ['an unknown name', { permissions: ['gadgets:write'] }, 'unknown'],
    ['a duplicate', { permissions: ['logs:read', 'logs:read'] }, 'duplicate'],
    ['a malformed name', { permissions: ['logs read'] }, 'pattern'],
    ['an empty list', { permissions: [] }, 'minimum'],
    ['no permissions field', {}, 'required'],
    ['another field', { permissions: null, name: 'renamed-key-1' }, 'unknown-field'],
  ])('refuses %s with 400, leaving the key as it was', async (_case, body, rule) => {
    // Prepare
    const keyId = await restricted(['logs:read']);

    // Act
    const response = await patch(keyId, body);

    // Assess
    expect(response.status).toBe(400);
    expect(response.json.errors).toEqual(expect.arrayContaining([expect.objectContaining({ rule })]));
    expect(await storedPermissions(keyId)).toEqual(['logs:read']);
  });

  it("answers 422 for a permission the holder's role does not grant, leaving the key as it was", async () => {
    // Prepare
    const keyId = viewer.principal.keyId;

    // Act
    const response = await patch(keyId, { permissions: ['users:read', 'users:write'] });

    // Assess
    expect(response.status).toBe(422);
    expect(response.json.detail).toContain("'users:write'");
    expect(await storedPermissions(keyId)).toBeUndefined();
  });

  it('is for owners only: a viewer is refused with 403', async () => {
    const response = await bed.call('updateApiKey', viewer.principal, { params: { keyId: viewer.principal.keyId }, body: { permissions: null } });
    expect(response.status).toBe(403);
  });
});

describe('GET /v1/permissions', () => {
  it("lists every permission of the deployment, sorted by name, with its routes (team routes' too) and the roles that grant it", async () => {
    // Act
    const response = await bed.call('listPermissions', viewer.principal);

    // Assess
    expect(response.status).toBe(200);
    const items = response.json.items as { name: string; routes: string[]; roles: string[] }[];
    const names = items.map((item) => item.name);
    expect(names).toEqual([...names].sort());
    expect(new Set(names).size).toBe(names.length);
    expect(items.find((item) => item.name === 'widgets:read')).toEqual({ name: 'widgets:read', routes: ['GET /v1/widgets'], roles: ['owner', 'viewer'] });
    expect(items.find((item) => item.name === 'widgets:spin')).toEqual({ name: 'widgets:spin', routes: ['POST /v1/widgets/{id}/spin'], roles: ['owner'] });
    expect(items.find((item) => item.name === 'api-keys:write')?.routes).toEqual(
      expect.arrayContaining(['POST /v1/api-keys', 'PATCH /v1/api-keys/{keyId}', 'DELETE /v1/api-keys/{keyId}', 'POST /v1/api-keys/{keyId}/roll']),
    );
    expect(items.find((item) => item.name === 'account-key:read')).toMatchObject({ roles: ['owner'] });
    expect(items.find((item) => item.name === 'logs:read')).toMatchObject({ roles: ['owner', 'viewer', 'logs-viewer'] });
    // Routes that need no permission are in no entry.
    expect(items.flatMap((item) => item.routes)).not.toContain('GET /v1/whoami');
    expect(items.flatMap((item) => item.routes)).not.toContain('GET /v1/permissions');
  });

  it('refuses a logs viewer with 403, as its roles say', async () => {
    const logsViewer = await bed.addCaller('logs-viewer');
    expect((await bed.call('listPermissions', logsViewer.principal)).status).toBe(403);
  });
});

describe('a restricted key hands out no more than it holds', () => {
  const HELD = ['api-keys:read', 'api-keys:write', 'widgets:read'];

  /** The owner's own key restricted to HELD, as the authorizer passes it on. */
  async function restrictedOwner(): Promise<{ principal: Principal }> {
    const created = await createKey(HELD);
    expect(created.status).toBe(201);
    return { principal: { ...bed.owner, keyId: created.json.id as string, permissions: HELD } };
  }

  it('creates keys restricted to what it holds, and refuses with 403 an unrestricted key or one with a permission it lacks', async () => {
    // Prepare
    const caller = await restrictedOwner();
    const create = (permissions?: string[]) =>
      bed.call('createApiKey', caller.principal, { body: { name: keyName(), userId: bed.owner.userId, ...(permissions === undefined ? {} : { permissions }) } });

    // Act
    const within = await create(['widgets:read']);
    const unrestricted = await create();
    const beyond = await create(['widgets:read', 'users:write']);

    // Assess
    expect(within.status).toBe(201);
    expect(unrestricted.status).toBe(403);
    expect(unrestricted.json.detail).toMatch(/restricted/);
    expect(beyond.status).toBe(403);
    expect(beyond.json.detail).toContain("'users:write'");
  });

  it('sets lists within what it holds, and may neither lift a restriction (its own included) nor widen past it', async () => {
    // Prepare
    const caller = await restrictedOwner();
    const target = (await createKey(['widgets:read'])).json.id as string;
    const patch = (keyId: string, permissions: string[] | null) => bed.call('updateApiKey', caller.principal, { params: { keyId }, body: { permissions } });

    // Act
    const narrowed = await patch(target, ['api-keys:read']);
    const lifted = await patch(target, null);
    const liftedOwn = await patch(caller.principal.keyId, null);
    const widened = await patch(target, ['account:read']);

    // Assess
    expect(narrowed.status).toBe(200);
    expect([lifted.status, liftedOwn.status, widened.status]).toEqual([403, 403, 403]);
    expect(await storedPermissions(target)).toEqual(['api-keys:read']);
    expect(await storedPermissions(caller.principal.keyId)).toEqual(HELD);
  });

  it('rolls only keys restricted to what it holds: the new secret of a key that may do more never reaches it', async () => {
    // Prepare
    const caller = await restrictedOwner();
    const within = (await createKey(['api-keys:read'])).json.id as string;
    const wider = (await createKey(['api-keys:read', 'users:read'])).json.id as string;
    const unrestricted = (await createKey()).json.id as string;
    const roll = (keyId: string) => bed.call('rollApiKey', caller.principal, { params: { keyId }, body: { gracePeriodSeconds: 0 } });

    // Act
    const rolled = await roll(within);
    const refusedWider = await roll(wider);
    const refusedUnrestricted = await roll(unrestricted);

    // Assess
    expect(rolled.status).toBe(200);
    expect(typeof rolled.json.secret).toBe('string');
    expect([refusedWider.status, refusedUnrestricted.status]).toEqual([403, 403]);
    expect(refusedWider.json.secret).toBeUndefined();
  });

  it('refuses in the handler a route whose permission the key does not hold, whatever the policy let through', async () => {
    // Prepare
    const caller = await restrictedOwner();

    // Act
    const response = await bed.call('listUsers', caller.principal);

    // Assess
    expect(response.status).toBe(403);
    expect(response.json.detail).toContain("'users:read'");
  });
});
