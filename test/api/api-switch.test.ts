import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isApiSwitchRoute } from '#shared/authorization/api-switch.ts';
import { type OperationId, ROUTES, type Route, isPublicRoute } from '#shared/http/routes.ts';
import { type GatewayTestBed, type KeyPair, TEST_SOURCE_IP, createApiTestBed, createGatewayTestBed } from '#test/support/api-events.ts';

/**
 * The API switch (DESIGN 9) through the local gateway: the real authorizer, its two caches and
 * the handlers. While the API is off, an owner's keys reach GET and PATCH /v1/account only;
 * every other request of the account is 401, never 403, whatever was cached before.
 */

const UNAUTHORIZED = { message: 'Unauthorized' };
const EXPLICIT_DENY = { message: 'User is not authorized to access this resource with an explicit deny' };
const ZERO_ID = 'AAAAAAAAAAAAAAAA';
const BODIES: Partial<Record<OperationId, unknown>> = {
  createUser: { name: 'Switch Suite', email: 'switch@example.com', role: 'viewer' },
  updateUser: { role: 'viewer' },
  createApiKey: { name: 'switch-suite-key', userId: ZERO_ID },
  addCidrRule: { cidr: '192.0.2.0/24' },
  updateCidrRule: { cidr: '192.0.2.0/24' },
  updateAccount: { apiEnabled: false },
};

let bed: GatewayTestBed;
let account: KeyPair;
let viewer: KeyPair;
let logsViewer: KeyPair;

function callOf(route: Route, keys: KeyPair, sourceIp = TEST_SOURCE_IP) {
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '');
  return { keys, params: Object.fromEntries(names.map((n) => [n, ZERO_ID])), body: BODIES[route.operationId as OperationId], sourceIp };
}

async function setApi(enabled: boolean): Promise<void> {
  const response = await bed.request('updateAccount', { keys: account, body: { apiEnabled: enabled } });
  expect(response.status).toBe(200);
}

beforeAll(async () => {
  bed = await createGatewayTestBed();
  account = await bed.newAccount();
  viewer = await bed.addUser(account, 'viewer');
  logsViewer = await bed.addUser(account, 'logs-viewer');
});

beforeEach(async () => {
  await setApi(true);
});

describe('PATCH /v1/account', () => {
  it('turns the API off and on, answers the account, and audits both', async () => {
    // Act
    const off = await bed.request('updateAccount', { keys: account, body: { apiEnabled: false } });
    const on = await bed.request('updateAccount', { keys: account, body: { apiEnabled: true } });

    // Assess
    expect(off.status).toBe(200);
    expect(off.json).toMatchObject({ id: account.principal.accountId, apiEnabled: false, accountKey: { masked: expect.stringMatching(/^lka_\*+/) as unknown } });
    expect(off.raw).not.toContain(account.accountKey);
    expect(on.json).toMatchObject({ apiEnabled: true });
    const logs = await bed.request('listEvents', { keys: account, query: 'limit=2' });
    const events = logs.json.items as { action: string; actor: { userId: string; keyId: string }; sourceIp: string }[];
    expect(events.map((e) => e.action)).toEqual(['account.api-enable', 'account.api-disable']);
    expect(events[1]).toMatchObject({ actor: { userId: account.principal.userId, keyId: account.principal.keyId }, sourceIp: TEST_SOURCE_IP });
  });

  it('refuses a body that is not a boolean switch', async () => {
    // Act
    const response = await bed.request('updateAccount', { keys: account, body: { apiEnabled: 'no' } });

    // Assess
    expect(response.status).toBe(400);
    expect(response.json.errors).toEqual([expect.objectContaining({ field: 'apiEnabled', rule: 'type' })]);
  });

  it.each([['viewer'], ['logs-viewer']] as const)('is refused to a %s (403)', async (role) => {
    // Act
    const response = await bed.request('updateAccount', { keys: role === 'viewer' ? viewer : logsViewer, body: { apiEnabled: false } });

    // Assess
    expect(response.status).toBe(403);
    expect((await bed.request('getAccount', { keys: account })).json.apiEnabled).toBe(true);
  });
});

describe('while the API is off', () => {
  const switchRoutes = ROUTES.filter(isApiSwitchRoute);
  // The leak report needs no keys at all, so the switch does not concern it.
  const keyedRoutes = ROUTES.filter((r) => !isPublicRoute(r));
  const otherRoutes = keyedRoutes.filter((r) => !isApiSwitchRoute(r));

  it('reaches exactly GET and PATCH /v1/account', () => {
    expect(switchRoutes.map((r) => `${r.method} ${r.path}`).sort()).toEqual(['GET /v1/account', 'PATCH /v1/account']);
  });

  it.each(otherRoutes.map((r) => [`${r.method} ${r.path}`, r] as const))('answers an owner 401 on %s, even after a switch route was authorized', async (_name, route) => {
    // Prepare: the owner's keys were just authorized for the account (a cached restricted Allow)
    await bed.request('getAccount', { keys: account });
    await setApi(false);
    expect((await bed.request('getAccount', { keys: account })).status).toBe(200);

    // Act
    const response = await bed.request(route.operationId, callOf(route, account));

    // Assess
    expect(response.status).toBe(401);
    expect(response.body).toEqual(UNAUTHORIZED);
  });

  it.each(keyedRoutes.map((r) => [`${r.method} ${r.path}`, r] as const))('answers viewers and logs viewers 401 on %s', async (_name, route) => {
    // Prepare
    await setApi(false);

    // Act
    const responses = [
      await bed.request(route.operationId, callOf(route, viewer)),
      await bed.request(route.operationId, callOf(route, logsViewer)),
    ];

    // Assess
    for (const response of responses) {
      expect(response.status).toBe(401);
      expect(response.body).toEqual(UNAUTHORIZED);
    }
  });

  it('lets an owner read the account and turn the API back on, after which every route is reachable again', async () => {
    // Prepare: a refusal of another route was answered while the API was off
    await setApi(false);
    expect((await bed.request('listApiKeys', { keys: account })).status).toBe(401);

    // Act
    const read = await bed.request('getAccount', { keys: account });
    const on = await bed.request('updateAccount', { keys: account, body: { apiEnabled: true } });

    // Assess
    expect(read.status).toBe(200);
    expect(read.json.apiEnabled).toBe(false);
    expect(on.json.apiEnabled).toBe(true);
    expect((await bed.request('listApiKeys', { keys: account })).status).toBe(200);
    expect((await bed.request('listApiKeys', { keys: viewer })).status).toBe(200);
  });

  it("still applies the owner key's CIDR allow list on the switch routes", async () => {
    // Prepare
    const rule = await bed.request('addCidrRule', { keys: account, params: { keyId: account.principal.keyId }, body: { cidr: `${TEST_SOURCE_IP}/32` } });
    expect(rule.status).toBe(201);
    try {
      await setApi(false);

      // Act
      const outside = await bed.request('getAccount', { keys: account, sourceIp: '203.0.113.50' });
      const inside = await bed.request('getAccount', { keys: account });

      // Assess
      expect(outside.status).toBe(403);
      expect(outside.body).toEqual(EXPLICIT_DENY);
      expect(inside.status).toBe(200);
    } finally {
      await setApi(true);
      await bed.request('deleteCidrRule', { keys: account, params: { keyId: account.principal.keyId, ruleId: rule.json.id as string } });
    }
  });

  it('turns off for the keys of one account only', async () => {
    // Prepare
    const other = await bed.newAccount();
    await setApi(false);

    // Act
    const response = await bed.request('listApiKeys', { keys: other });

    // Assess
    expect(response.status).toBe(200);
  });
});

describe('the flush', () => {
  it('flushes the authorizer cache when the API is turned off, and when it is turned back on', async () => {
    // Prepare
    const handlerBed = await createApiTestBed();
    const before = handlerBed.cache.flushes;

    // Act
    const off = await handlerBed.call('updateAccount', handlerBed.owner, { body: { apiEnabled: false } });
    const afterOff = handlerBed.cache.flushes;
    const on = await handlerBed.call('updateAccount', handlerBed.owner, { body: { apiEnabled: true } });

    // Assess
    expect([off.status, on.status]).toEqual([200, 200]);
    expect(afterOff).toBe(before + 1);
    expect(handlerBed.cache.flushes).toBe(before + 2);
  });

  it('makes a cached Allow of another route useless at once when the API is turned off', async () => {
    // Prepare: an Allow for the owner's keys is cached for the key routes
    expect((await bed.request('listApiKeys', { keys: account })).status).toBe(200);

    // Act
    await setApi(false);
    const response = await bed.request('listApiKeys', { keys: account });

    // Assess
    expect(response.status).toBe(401);
  });
});
