import { beforeAll, describe, expect, it } from 'vitest';
import { createApiHandler } from '#functions/operations/all-groups.ts';
import { MAX_BODY_BYTES } from '#shared/http/schemas.ts';
import { newId } from '#shared/domain/ids.ts';
import { formatAccountKey, formatUserKey } from '#shared/domain/key-format.ts';
import { KEY_ROLES, type KeyRole } from '#shared/domain/roles.ts';
import { type OperationId, ROUTES, type Route, isPublicRoute } from '#shared/http/routes.ts';
import { type GatewayTestBed, type KeyPair, apiEvent, createGatewayTestBed, lambdaContext, openApiViolations } from '#test/support/api-events.ts';

/**
 * The security suite, run on every route of the table: a route added to the table is covered
 * without a line here. Requests go through the local gateway (the real authorizer, its policy
 * and cache, then the handler), except the handler's own role check, which is tested by
 * calling the handler directly with a principal the policy would never let through.
 */

const UNAUTHORIZED = { message: 'Unauthorized' };
const IMPLICIT_DENY = { message: 'User is not authorized to access this resource' };

type Params = Readonly<Record<string, string>>;

/** A valid body for each route that takes one (bodies are checked before any id is looked up). */
const VALID_BODIES: Partial<Record<OperationId, unknown>> = {
  createUser: { name: 'Security Suite', email: 'suite@example.com', role: 'viewer' },
  updateUser: { role: 'viewer' },
  createApiKey: { name: 'security-suite-key', userId: 'AAAAAAAAAAAAAAAA' },
  addCidrRule: { cidr: '192.0.2.0/24' },
  updateCidrRule: { cidr: '192.0.2.0/24' },
  updateAccount: { apiEnabled: true },
  // A week of grace: a roll the suite lets through leaves the caller's keys working.
  rollApiKey: { gracePeriodSeconds: 604_800 },
  rollAccountKey: { gracePeriodSeconds: 604_800 },
  // A viewer's key (the subject) restricted to what a viewer is granted.
  updateApiKey: { permissions: ['account:read'] },
  reportLeakedKeys: { keys: ['not-a-key'] },
  reportGitHubAlerts: [{ token: 'not-a-key', type: 'latchkey_user_key', url: 'https://github.com/octo/repo', source: 'content' }],
};

const routesWithBody: readonly Route[] = ROUTES.filter((r) => r.method === 'POST' || r.method === 'PUT' || r.method === 'PATCH');
const routesWithParams: readonly Route[] = ROUTES.filter((r) => r.path.includes('{'));

let bed: GatewayTestBed;
let callers: Record<KeyRole, KeyPair>;
/** Ids in the caller's own account, and ids of the same kinds in another account. */
let ownIds: Params;
let foreignIds: Params;
let foreign: KeyPair;

beforeAll(async () => {
  bed = await createGatewayTestBed();
  const viewer = await bed.addUser(bed.owner, 'viewer');
  const logsViewer = await bed.addUser(bed.owner, 'logs-viewer');
  callers = { owner: bed.owner, viewer, 'logs-viewer': logsViewer };

  const subject = await bed.addUser(bed.owner, 'viewer');
  const rule = await bed.request('addCidrRule', { params: { keyId: subject.principal.keyId }, body: { cidr: '192.0.2.0/24' } });
  ownIds = { userId: subject.user.id, keyId: subject.principal.keyId, ruleId: rule.json.id as string };

  foreign = await bed.newAccount();
  const foreignSubject = await bed.addUser(foreign, 'viewer');
  const foreignRule = await bed.request('addCidrRule', {
    keys: foreign,
    params: { keyId: foreignSubject.principal.keyId },
    body: { cidr: '192.0.2.0/24' },
  });
  foreignIds = { userId: foreignSubject.user.id, keyId: foreignSubject.principal.keyId, ruleId: foreignRule.json.id as string };
});

function paramsOf(route: Route, ids: Params): Params {
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '');
  return Object.fromEntries(names.map((name) => [name, ids[name] ?? '']));
}

function bodyOf(route: Route): unknown {
  return VALID_BODIES[route.operationId as OperationId];
}

/**
 * What a caller the gateway lets through gets: the handler's 404 for another account's ids (or,
 * for a new key, for a holder that does not exist), else the route's own success status.
 */
function statusThroughTheGateway(route: Route): number {
  return routesWithParams.includes(route) || route.operationId === 'createApiKey' ? 404 : route.status;
}

function flipLastCharacter(key: string): string {
  const last = key.at(-1) === 'A' ? 'B' : 'A';
  return key.slice(0, -1) + last;
}

describe.each(ROUTES.map((route) => [`${route.method} ${route.path}`, route] as const))('%s', (_name, route) => {
  const operationId: OperationId = route.operationId;
  const send = (keys: { accountKey?: string; userKey?: string } | undefined) =>
    bed.request(operationId, { keys, params: paramsOf(route, ownIds), body: bodyOf(route) });

  const keyCases: [string, () => { accountKey?: string; userKey?: string }][] = [
    ['no account key', () => ({ userKey: bed.owner.userKey })],
    ['no user key', () => ({ accountKey: bed.owner.accountKey })],
    ['no keys at all', () => ({})],
    ['empty keys', () => ({ accountKey: '', userKey: '' })],
    ['the keys swapped', () => ({ accountKey: bed.owner.userKey, userKey: bed.owner.accountKey })],
    ['a user key with a broken checksum', () => ({ accountKey: bed.owner.accountKey, userKey: flipLastCharacter(bed.owner.userKey) })],
    ['an account key with a broken checksum', () => ({ accountKey: flipLastCharacter(bed.owner.accountKey), userKey: bed.owner.userKey })],
    ['a truncated user key', () => ({ accountKey: bed.owner.accountKey, userKey: bed.owner.userKey.slice(0, -1) })],
    ['a well-formed user key that was never issued', () => ({ accountKey: bed.owner.accountKey, userKey: formatUserKey(bed.owner.principal.accountId, newId()) })],
    ['a well-formed account key that was never issued', () => ({ accountKey: formatAccountKey(bed.owner.principal.accountId), userKey: bed.owner.userKey })],
    ['an account key with the user key of another account', () => ({ accountKey: bed.owner.accountKey, userKey: foreign.userKey })],
    ['a user key with the account key of another account', () => ({ accountKey: foreign.accountKey, userKey: bed.owner.userKey })],
  ];

  if (isPublicRoute(route)) {
    // A route that needs no keys answers the same whatever keys come with the request.
    it.each(keyCases)('answers the same with %s as with valid keys', async (_case, keys) => {
      // Act
      const response = await send(keys());
      const withValidKeys = await send(bed.owner);

      // Assess: GitHub's alerts, unsigned here, are refused whatever keys come with them (the
      // problem documents then differ only in their request ids).
      const refused = route.operationId === 'reportGitHubAlerts';
      expect(response.status).toBe(refused ? 401 : route.status);
      const comparable = (body: unknown): unknown => (refused ? { ...(body as object), instance: undefined, requestId: undefined } : body);
      expect(comparable(response.body)).toEqual(comparable(withValidKeys.body));
    });
    return;
  }

  it.each(keyCases)('answers 401 for %s', async (_case, keys) => {
    // Act
    const response = await send(keys());

    // Assess
    expect(response.status).toBe(401);
    expect(response.body).toEqual(UNAUTHORIZED);
  });

  const refusedRoles = KEY_ROLES.filter((role) => !(route.roles as readonly string[]).includes(role));
  if (refusedRoles.length > 0) {
    it.each(refusedRoles)('answers 403 to a %s at the gateway', async (role) => {
      // Act
      const response = await send(callers[role]);

      // Assess
      expect(response.status).toBe(403);
      expect(response.body).toEqual(IMPLICIT_DENY);
    });

    it.each(refusedRoles)('answers 403 to a %s in the handler too, should the policy ever let one through', async (role) => {
      // Prepare
      const handler = createApiHandler(route.group, bed.app.apiDeps);
      const event = apiEvent(operationId, callers[role].principal, { params: paramsOf(route, ownIds), body: bodyOf(route) });

      // Act
      const result = await handler(event, lambdaContext());

      // Assess
      expect(result.statusCode).toBe(403);
      expect(JSON.parse(result.body)).toMatchObject({ type: 'urn:latchkey:problem:forbidden', status: 403 });
      expect(openApiViolations(operationId, { status: result.statusCode, headers: result.headers ?? {}, body: result.body })).toEqual([]);
    });
  }

  it.each(route.roles.map((role) => [role]))('lets a %s through the gateway', async (role) => {
    // Act: ids of another account, so that nothing changes and the answer is the handler's own 404 where there are ids
    const response = await bed.request(operationId, { keys: callers[role], params: paramsOf(route, foreignIds), body: bodyOf(route) });

    // Assess
    expect(response.status).toBe(statusThroughTheGateway(route));
  });

  if (routesWithParams.includes(route)) {
    it("answers 404 with a problem document for another account's ids, and changes nothing there", async () => {
      // Act
      const response = await bed.request(operationId, { params: paramsOf(route, foreignIds), body: bodyOf(route) });

      // Assess
      expect(response.status).toBe(404);
      expect(response.headers['content-type']).toBe('application/problem+json');
      const stillThere = await bed.request('listCidrRules', { keys: foreign, params: { keyId: foreignIds.keyId ?? '' } });
      expect(stillThere.status).toBe(200);
      expect((stillThere.json.rules as { id: string; cidr: string }[]).map((r) => [r.id, r.cidr])).toEqual([[foreignIds.ruleId, '192.0.2.0/24']]);
      const user = (await bed.request('listUsers', { keys: foreign })).json.items as { id: string; role: string }[];
      expect(user.find((u) => u.id === foreignIds.userId)?.role).toBe('viewer');
    });
  }

  if (routesWithBody.includes(route)) {
    const params = () => paramsOf(route, ownIds);

    it(`answers 413 for a body over ${MAX_BODY_BYTES} bytes`, async () => {
      // Act
      const response = await bed.request(operationId, {
        params: params(),
        rawBody: JSON.stringify({ padding: 'x'.repeat(MAX_BODY_BYTES) }),
        headers: { 'content-type': 'application/json' },
      });

      // Assess
      expect(response.status).toBe(413);
      expect(response.headers['content-type']).toBe('application/problem+json');
    });

    it('answers 400 for malformed JSON', async () => {
      // Act
      const response = await bed.request(operationId, { params: params(), rawBody: '{"oops":', headers: { 'content-type': 'application/json' } });

      // Assess
      expect(response.status).toBe(400);
      expect(response.json.type).toBe('urn:latchkey:problem:malformed-json');
    });

    it('answers 415 for a body that is not sent as JSON', async () => {
      // Act
      const response = await bed.request(operationId, {
        params: params(),
        rawBody: JSON.stringify(bodyOf(route)),
        headers: { 'content-type': 'text/plain' },
      });

      // Assess
      expect(response.status).toBe(415);
    });

    it('answers 400 listing a field the route does not take', async () => {
      // Act
      const response = await bed.request(operationId, { params: params(), body: { ...(bodyOf(route) as object), isAdmin: true } });

      // Assess
      expect(response.status).toBe(400);
      expect(response.json.errors).toEqual([expect.objectContaining({ field: 'isAdmin', rule: 'unknown-field' })]);
    });
  }
});

describe('the suite', () => {
  it('has a valid body for every route that takes one', () => {
    expect(routesWithBody.map((r) => r.operationId).sort()).toEqual(Object.keys(VALID_BODIES).sort());
  });

  it("refuses another account's user as the holder of a new key", async () => {
    // Act
    const response = await bed.request('createApiKey', { body: { name: 'security-cross-key', userId: foreignIds.userId } });

    // Assess
    expect(response.status).toBe(404);
  });
});
