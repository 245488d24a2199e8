import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalDownstream } from '#local/gateway/downstream.ts';
import { RouteMatcher } from '#local/gateway/route-matcher.ts';
import { createLocalApp } from '#local/process/app.ts';
import { iamGlobMatches } from '#shared/authorization/iam-glob.ts';
import { routeResourceSuffix } from '#shared/authorization/route-policy.ts';
import { RouteDeclarationError } from '#shared/http/team-routes.ts';
import { quietLogger } from '#test/support/fakes/logger.ts';
import { KEY_PERMISSIONS_ATTRIBUTE } from '#shared/adapters/dynamodb/credential-store.ts';
import { accountPk, keySk } from '#shared/adapters/dynamodb/items.ts';
import { resolveDownstreamRoutes, type DownstreamRoute } from '#shared/http/team-routes.ts';
import { ROUTES } from '#shared/http/routes.ts';
import { roleGrants } from '#shared/domain/permissions.ts';
import { KEY_ROLES, type KeyRole } from '#shared/domain/roles.ts';
import { call, createUserWithKey, ownerKeys, startApi, startCountingBackend, testDynamoDbClients, type CountingBackend, type Credentials, type RunningApi } from './support.ts';

/**
 * Restricted keys (DESIGN 14) through the local gateway over HTTP, with team routes: the policy
 * the authorizer returns is evaluated as API Gateway evaluates it, and a refused request never
 * reaches a backend. The keys' lists are written on their items as the key routes write them.
 */

const NOT_AUTHORIZED = { message: 'User is not authorized to access this resource' };
const EXPLICIT_DENY = { message: 'User is not authorized to access this resource with an explicit deny' };

let api: RunningApi;
let backend: CountingBackend;
let routes: DownstreamRoute[];

beforeAll(async () => {
  backend = await startCountingBackend();
  const { url } = backend;
  routes = [
    { method: 'GET', path: '/v1/widgets', backend: { url } },
    { method: 'POST', path: '/v1/widgets', backend: { url } },
    { method: 'GET', path: '/v1/widgets/{widgetId}', backend: { lambda: 'test/e2e/fixtures/echo-principal.ts' } },
    { method: 'GET', path: '/v1/widgets/{widgetId}/price', permission: 'prices:read', backend: { url } },
  ];
  api = await startApi({ authorizerTtlSeconds: 300, downstream: await createLocalDownstream(routes) });
});

afterAll(async () => {
  await backend.close();
  await api.close();
});

/** A user of `role` with one key restricted to `permissions`, written on the key's item. */
async function restrictedKey(role: 'owner' | 'viewer' | 'logs-viewer', permissions: readonly string[]): Promise<{ userId: string; keys: Credentials }> {
  const made = await createUserWithKey(api, role);
  const { documentClient } = testDynamoDbClients();
  await documentClient.send(
    new UpdateCommand({
      TableName: api.tableName,
      Key: { pk: accountPk(api.account.account.id), sk: keySk(made.keyId) },
      UpdateExpression: 'SET #permissions = :permissions',
      ExpressionAttributeNames: { '#permissions': KEY_PERMISSIONS_ATTRIBUTE },
      ExpressionAttributeValues: { ':permissions': [...permissions] },
    }),
  );
  return made;
}

async function statusAndBody(path: string, keys: Credentials, method = 'GET'): Promise<[number, unknown]> {
  const response = await call(api.port, path, { method, keys, ...(method === 'GET' ? {} : { body: {} }) });
  return [response.status, response.status === 200 ? 'ok' : response.json];
}

describe('a restricted key through the local gateway', () => {
  it('reaches exactly the routes of its role whose permission it holds; the others are 403 before any backend', async () => {
    const { keys } = await restrictedKey('owner', ['widgets:read', 'users:read']);
    const before = backend.hits;
    expect(await statusAndBody('/v1/widgets', keys)).toEqual([200, 'ok']);
    expect(await statusAndBody('/v1/widgets/w1', keys)).toEqual([200, 'ok']);
    expect(await statusAndBody('/v1/users', keys)).toEqual([200, 'ok']);
    expect(await statusAndBody('/v1/whoami', keys)).toEqual([200, 'ok']);
    expect(backend.hits).toBe(before + 1);
    expect(await statusAndBody('/v1/widgets', keys, 'POST')).toEqual([403, NOT_AUTHORIZED]);
    expect(await statusAndBody('/v1/users', keys, 'POST')).toEqual([403, NOT_AUTHORIZED]);
    expect(await statusAndBody('/v1/api-keys', keys)).toEqual([403, NOT_AUTHORIZED]);
    // Nested under a route it may call, the route of a permission it lacks is denied by name.
    expect(await statusAndBody('/v1/widgets/w1/price', keys)).toEqual([403, EXPLICIT_DENY]);
    expect(backend.hits).toBe(before + 1);
  });

  it('passes its effective permissions to a Lambda backend, which reads them with principalFromEvent', async () => {
    const { keys } = await restrictedKey('viewer', ['widgets:read', 'widgets:write']);
    const response = await call(api.port, '/v1/widgets/w1', { keys });
    expect(response.status).toBe(200);
    // widgets:write is in the list, but a viewer's role does not grant it.
    expect(response.json.permissions).toEqual(['widgets:read']);
    const unrestricted = await call(api.port, '/v1/widgets/w1', { keys: ownerKeys(api) });
    expect(unrestricted.json.permissions).toBeNull();
  });

  it("is narrowed at once by its holder's demotion, with its Allow cached", async () => {
    const { userId, keys } = await restrictedKey('owner', ['widgets:write', 'widgets:read']);
    expect(await statusAndBody('/v1/widgets', keys, 'POST')).toEqual([200, 'ok']);
    const demoted = await call(api.port, `/v1/users/${userId}`, { method: 'PATCH', keys: ownerKeys(api), body: { role: 'viewer' } });
    expect(demoted.status).toBe(200);
    const before = backend.hits;
    expect(await statusAndBody('/v1/widgets', keys, 'POST')).toEqual([403, NOT_AUTHORIZED]);
    expect(backend.hits).toBe(before);
    expect(await statusAndBody('/v1/widgets', keys)).toEqual([200, 'ok']);
  });

  it('restricted to nothing its role grants, reaches only what needs no permission', async () => {
    const { keys } = await restrictedKey('logs-viewer', ['widgets:read']);
    expect(await statusAndBody('/v1/whoami', keys)).toEqual([200, 'ok']);
    expect(await statusAndBody('/v1/logs', keys)).toEqual([403, NOT_AUTHORIZED]);
    expect(await statusAndBody('/v1/widgets', keys)).toEqual([403, NOT_AUTHORIZED]);
  });
});

describe('a restricted key reaches exactly the routes of its role whose permission it holds (property, over HTTP)', () => {
  it('for every role and generated permission lists, on the team and management reads', async () => {
    const keys = new Map<KeyRole, { keyId: string; keys: Credentials }>();
    for (const role of KEY_ROLES) keys.set(role, await createUserWithKey(api, role));
    const { documentClient } = testDynamoDbClients();
    const anyKeyId = keys.get('owner')?.keyId ?? '';
    const requests = [
      ...resolveDownstreamRoutes(routes).map((route) => ({ method: route.method, path: route.path.replace('{widgetId}', 'w1'), roles: route.roles, permission: route.permission })),
      ...ROUTES.filter((route) => route.method === 'GET' && route.roles.length > 0).map((route) => ({
        method: route.method,
        path: route.path.replace('{keyId}', anyKeyId),
        roles: route.roles as readonly KeyRole[],
        permission: 'permission' in route ? (route.permission as string) : undefined,
      })),
    ];
    const names = ['widgets:read', 'widgets:write', 'prices:read', 'users:read', 'api-keys:read', 'account:read', 'account-key:read', 'logs:read', 'users:write'];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...KEY_ROLES), fc.subarray(names), async (role, held) => {
        const subject = keys.get(role);
        if (subject === undefined) throw new Error(`no key for ${role}`);
        await documentClient.send(
          new UpdateCommand({
            TableName: api.tableName,
            Key: { pk: accountPk(api.account.account.id), sk: keySk(subject.keyId) },
            UpdateExpression: 'SET #permissions = :permissions',
            ExpressionAttributeNames: { '#permissions': KEY_PERMISSIONS_ATTRIBUTE },
            ExpressionAttributeValues: { ':permissions': held },
          }),
        );
        // Written beside the API, so the cached Allow is dropped as a key route's write drops it.
        await api.app.authorizerCache.flush();
        for (const request of requests) {
          const expected = request.roles.includes(role) && (request.permission === undefined || (held.includes(request.permission) && roleGrants(role, request.permission)));
          const response = await call(api.port, request.path, { method: request.method, keys: subject.keys, ...(request.method === 'GET' ? {} : { body: {} }) });
          expect([`${role} [${held.join(' ')}] ${request.method} ${request.path}`, response.status !== 403]).toEqual([
            `${role} [${held.join(' ')}] ${request.method} ${request.path}`,
            expected,
          ]);
        }
      }),
      { numRuns: 30 },
    );
  }, 120_000);
});

describe('a restricted key over generated team route sets, through the local gateway (property)', () => {
  it('reaches exactly the routes of its role whose permission it holds', async () => {
    const keys = new Map<KeyRole, { keyId: string; keys: Credentials }>();
    for (const role of KEY_ROLES) keys.set(role, await createUserWithKey(api, role));
    const { documentClient } = testDynamoDbClients();
    const lambda = { lambda: 'test/e2e/fixtures/echo-principal.ts' };
    const route = fc.record({
      // One family, so that the routes' own resources reach one another as often as not.
      method: fc.constantFrom('GET' as const, 'GET' as const, 'POST' as const),
      path: fc.constantFrom('', '/{id}', '/{id}/x', '/x', '/{rest+}', '/{id}/{rest+}').map((rest) => `/v9/alpha${rest}`),
      roles: fc.subarray([...KEY_ROLES], { minLength: 1 }),
      permission: fc.option(fc.constantFrom('alpha:read', 'gamma:read', 'users:read'), { nil: undefined, freq: 2 }),
    });
    const names = ['alpha:read', 'alpha:write', 'gamma:read', 'users:read'];
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(route, { minLength: 1, maxLength: 5, selector: (r) => `${r.method} ${r.path.replace(/\{[^}]+\}/g, '{}')}` }),
        fc.constantFrom(...KEY_ROLES),
        fc.subarray(names),
        async (declared, role, held) => {
          let downstream;
          try {
            downstream = await createLocalDownstream(declared.map((r) => ({ ...r, backend: lambda })));
          } catch (error) {
            // A declaration refused at start serves nobody.
            if (error instanceof RouteDeclarationError) return;
            throw error;
          }
          checked += 1;
          const subject = keys.get(role);
          if (subject === undefined) throw new Error(`no key for ${role}`);
          await documentClient.send(
            new UpdateCommand({
              TableName: api.tableName,
              Key: { pk: accountPk(api.account.account.id), sk: keySk(subject.keyId) },
              UpdateExpression: 'SET #permissions = :permissions',
              ExpressionAttributeNames: { '#permissions': KEY_PERMISSIONS_ATTRIBUTE },
              ExpressionAttributeValues: { ':permissions': held },
            }),
          );
          const app = createLocalApp({ documentClient, tableName: api.tableName, secrets: api.app.apiDeps.secrets, logger: quietLogger(), downstream, limitRequests: false });
          const matcher = new RouteMatcher(downstream.routes);
          const callable = (target: { roles: readonly KeyRole[]; permission?: string | undefined }): boolean =>
            target.roles.includes(role) && (target.permission === undefined || (held.includes(target.permission) && roleGrants(role, target.permission)));
          for (const declaredRoute of downstream.routes) {
            for (const path of [declaredRoute.path.replace(/\{\w+\+\}/g, 'p').replace(/\{\w+\}/g, 'p1'), declaredRoute.path.replace(/\{\w+\+\}/g, 'p/q/r').replace(/\{\w+\}/g, 'p2')]) {
              const target = matcher.match(declaredRoute.method, path)?.route;
              if (target === undefined) continue;
              const response = await app.gateway.handle({
                method: declaredRoute.method,
                path,
                headers: { 'x-api-key': subject.keys.accountKey, 'x-api-secret-key': subject.keys.userKey },
                sourceIp: '127.0.0.1',
              });
              const allowed = response.status === 200;
              if (!allowed) expect(response.status).toBe(403);
              // Documented: a greedy route's paths nested under a route of a permission the key lacks are refused too.
              const tolerated =
                !allowed &&
                target.path.includes('+}') &&
                downstream.routes.some((other) => other.roles.includes(role) && !callable(other) && iamGlobMatches(routeResourceSuffix(other), `${declaredRoute.method}${path}`));
              if (!tolerated) expect(`${role} [${held.join(' ')}] ${declaredRoute.method} ${path}: ${allowed ? 'allowed' : 'refused'}`).toBe(`${role} [${held.join(' ')}] ${declaredRoute.method} ${path}: ${callable(target) ? 'allowed' : 'refused'}`);
            }
          }
        },
      ),
      { numRuns: 150 },
    );
    expect(checked).toBeGreaterThan(60);
  }, 180_000);
});
