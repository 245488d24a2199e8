import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLocalDownstream } from '#local/gateway/downstream.ts';
import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import { resolveDownstreamRoutes, type DownstreamRoute } from '#shared/http/team-routes.ts';
import { buildRoutePolicy } from '#shared/authorization/route-policy.ts';
import { formatAccountKey, formatUserKey } from '#shared/domain/key-format.ts';
import { newId } from '#shared/domain/ids.ts';
import { createAccount } from '#shared/services/accounts.ts';
import { ANSWERS, FLAVORS } from './flavors.ts';
import { call, createUserWithKey, ownerKeys, startApi, startCountingBackend, type CountingBackend, type Credentials, type RunningApi } from './support.ts';

/**
 * The security suite over a team's routes, as over the management ones: every refusal is
 * the gateway's, and a refused request is shown never to reach the backend (the backend
 * counts every request it gets). The authorizer cache runs with the deployed TTL. Behind both
 * front doors: only the gateway's own answers differ (e2e/flavors.ts).
 */

describe.each(FLAVORS)('behind the %s front door', (flavor) => {
  const answers = ANSWERS[flavor];

  let api: RunningApi;
  let owner: Credentials;
  let backend: CountingBackend;
  let routes: DownstreamRoute[];

  beforeAll(async () => {
    backend = await startCountingBackend();
    const { url } = backend;
    routes = [
      { method: 'GET', path: '/v1/databases', backend: { url } },
      { method: 'POST', path: '/v1/databases', backend: { url } },
      { method: 'GET', path: '/v1/databases/{databaseId}/slowlog', roles: ['owner', 'logs-viewer'], backend: { url } },
      // A viewer's pattern for the first (`GET/v1/databases/*`) also matches the second, so the
      // second is denied to viewers by name: API Gateway's "explicit deny" 403.
      { method: 'GET', path: '/v1/databases/{databaseId}', backend: { url } },
      { method: 'GET', path: '/v1/databases/{databaseId}/password', roles: ['owner'], backend: { url } },
    ];
    api = await startApi({ authorizerTtlSeconds: 300, flavor, downstream: await createLocalDownstream(routes) });
    owner = ownerKeys(api);
  });

  afterAll(async () => {
    await backend.close();
    await api.close();
  });

  beforeEach(() => {
    backend.reset();
  });

  async function refusedWithoutReachingTheBackend(path: string, options: Parameters<typeof call>[2], status: number): Promise<void> {
    const before = backend.hits;
    const response = await call(api.port, path, options);
    expect(response.status).toBe(status);
    expect(backend.hits).toBe(before);
  }

  describe('the unauthorized answer on a team route, never reaching the backend', () => {
    it('without keys, or with one of the two', async () => {
      await refusedWithoutReachingTheBackend('/v1/databases', {}, answers.unauthorized.status);
      await refusedWithoutReachingTheBackend('/v1/databases', { headers: { 'x-api-key': owner.accountKey } }, answers.unauthorized.status);
      await refusedWithoutReachingTheBackend('/v1/databases', { headers: { 'x-api-secret-key': owner.userKey } }, answers.unauthorized.status);
    });

    it('with malformed keys', async () => {
      await refusedWithoutReachingTheBackend('/v1/databases', { keys: { accountKey: 'nonsense', userKey: owner.userKey } }, answers.unauthorized.status);
      await refusedWithoutReachingTheBackend('/v1/databases', { keys: { accountKey: owner.accountKey, userKey: `${owner.userKey}x` } }, answers.unauthorized.status);
    });

    it('with well-formed keys nobody holds', async () => {
      const accountId = newId();
      await refusedWithoutReachingTheBackend('/v1/databases', { keys: { accountKey: formatAccountKey(accountId), userKey: formatUserKey(accountId, newId()) } }, answers.unauthorized.status);
    });

    it("with one account's key and another account's user key", async () => {
      const other = await createAccount(api.app.apiDeps, { name: 'Other', ownerName: 'O', ownerEmail: 'o@example.com' }, SYSTEM_ACTOR);
      await refusedWithoutReachingTheBackend('/v1/databases', { keys: { accountKey: owner.accountKey, userKey: other.userKey } }, answers.unauthorized.status);
      await refusedWithoutReachingTheBackend('/v1/databases', { keys: { accountKey: other.accountKey, userKey: owner.userKey } }, answers.unauthorized.status);
    });
  });

  describe('the forbidden answers on a team route, never reaching the backend', () => {
    it('by role: a viewer may not write, a logs viewer reads only what names it', async () => {
      const viewer = await createUserWithKey(api, 'viewer');
      const logs = await createUserWithKey(api, 'logs-viewer');
      await refusedWithoutReachingTheBackend('/v1/databases', { method: 'POST', keys: viewer.keys, body: {} }, answers.implicitDeny.status);
      await refusedWithoutReachingTheBackend('/v1/databases', { keys: logs.keys }, answers.implicitDeny.status);
      await refusedWithoutReachingTheBackend('/v1/databases/db1/slowlog', { keys: viewer.keys }, answers.implicitDeny.status);
      expect((await call(api.port, '/v1/databases/db1/slowlog', { keys: logs.keys })).status).toBe(200);
      expect((await call(api.port, '/v1/databases', { keys: viewer.keys })).status).toBe(200);
      expect(backend.hits).toBe(2);
    });

    it('from outside the key\'s CIDR allow list', async () => {
      const subject = await createUserWithKey(api, 'owner');
      await call(api.port, `/v1/api-keys/${subject.keyId}/cidr-allow-list`, { method: 'POST', keys: owner, body: { cidr: '127.0.0.1/32' } });
      await refusedWithoutReachingTheBackend('/v1/databases', { keys: subject.keys, from: '127.0.0.2' }, answers.explicitDeny.status);
      expect((await call(api.port, '/v1/databases', { keys: subject.keys, from: '127.0.0.1' })).status).toBe(200);
    });

    it("with the gateway's body for an explicit Deny where the role's policy denies the route by name", async () => {
      const viewer = await createUserWithKey(api, 'viewer');
      expect(buildRoutePolicy(resolveDownstreamRoutes(routes)).viewer).toContain('!GET/v1/databases/*/password');
      const before = backend.hits;
      const denied = await call(api.port, '/v1/databases/db1/password', { keys: viewer.keys });
      expect(denied.status).toBe(answers.explicitDeny.status);
      expect(denied.json).toEqual(answers.explicitDeny.body);
      // A route the policy only leaves out: the plain 403.
      const omitted = await call(api.port, '/v1/databases', { method: 'POST', keys: viewer.keys, body: {} });
      expect(omitted.status).toBe(answers.implicitDeny.status);
      expect(omitted.json).toEqual(answers.implicitDeny.body);
      expect(backend.hits).toBe(before);
      expect((await call(api.port, '/v1/databases/db1', { keys: viewer.keys })).status).toBe(200);
      expect((await call(api.port, '/v1/databases/db1/password', { keys: owner })).status).toBe(200);
    });

    it('for a route nobody declared', async () => {
      await refusedWithoutReachingTheBackend('/v1/clusters', { keys: owner }, answers.noRoute.status);
    });
  });

  describe('revocation on a team route', () => {
    it('refuses a deleted key at once, with its allow decision still cached', async () => {
      const subject = await createUserWithKey(api, 'viewer');
      expect((await call(api.port, '/v1/databases', { keys: subject.keys })).status).toBe(200);
      expect((await call(api.port, `/v1/api-keys/${subject.keyId}`, { method: 'DELETE', keys: owner })).status).toBe(204);
      await refusedWithoutReachingTheBackend('/v1/databases', { keys: subject.keys }, answers.unauthorized.status);
    });

    it('narrows a demoted owner at once', async () => {
      const subject = await createUserWithKey(api, 'owner');
      expect((await call(api.port, '/v1/databases', { method: 'POST', keys: subject.keys, body: {} })).status).toBe(200);
      expect((await call(api.port, `/v1/users/${subject.userId}`, { method: 'PATCH', keys: owner, body: { role: 'viewer' } })).status).toBe(200);
      await refusedWithoutReachingTheBackend('/v1/databases', { method: 'POST', keys: subject.keys, body: {} }, answers.implicitDeny.status);
    });
  });
});
