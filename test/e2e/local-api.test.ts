import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, createServer } from '#local/process/server.ts';
import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import { createAccount } from '#shared/services/accounts.ts';
import { ANSWERS, FLAVORS } from './flavors.ts';
import { call, createUserWithKey, ownerKeys, startApi, type Credentials, type RunningApi } from './support.ts';

/**
 * The local runtime end to end, over real HTTP: node:http server -> gateway emulator ->
 * the real REQUEST authorizer -> the real handlers -> DynamoDB Local. Requests leave from
 * chosen loopback addresses (127.0.0.1, 127.0.0.2) so CIDR rules meet real peer addresses.
 * The authorizer cache runs with the deployed TTL (300 s), so every revocation test also
 * proves the flush. It runs behind both front doors (REST and HTTP API): the gateway's own
 * answers (e2e/flavors.ts) are the only difference.
 */

describe.each(FLAVORS)('behind the %s front door', (flavor) => {
  const answers = ANSWERS[flavor];
  let api: RunningApi;
  let owner: Credentials;

  beforeAll(async () => {
    api = await startApi({ authorizerTtlSeconds: 300, flavor });
    owner = ownerKeys(api);
  });

  afterAll(async () => {
    await api.close();
  });

  describe('the seed flow', () => {
    it('shows the account with its key masked, and reveals it to an owner', async () => {
      // Act
      const account = await call(api.port, '/v1/account', { keys: owner });
      const revealed = await call(api.port, '/v1/account/key', { keys: owner });

      // Assess
      expect(account.status).toBe(200);
      expect(account.json).toMatchObject({ id: api.account.account.id, apiEnabled: true });
      expect(account.text).not.toContain(owner.accountKey);
      expect(revealed.status).toBe(200);
      expect(revealed.json).toEqual({ accountKey: owner.accountKey });
    });

    it('creates a user key whose secret works once shown, and that stops working once deleted', async () => {
      // Prepare
      const created = await createUserWithKey(api, 'viewer');

      // Act
      const whoami = await call(api.port, '/v1/whoami', { keys: created.keys });
      const listed = await call(api.port, `/v1/api-keys/${created.keyId}`, { keys: owner });
      const deleted = await call(api.port, `/v1/api-keys/${created.keyId}`, { method: 'DELETE', keys: owner });
      const after = await call(api.port, '/v1/whoami', { keys: created.keys });

      // Assess
      expect(whoami.status).toBe(200);
      expect(whoami.json).toEqual({
        accountId: api.account.account.id,
        userId: created.userId,
        role: 'viewer',
        keyId: created.keyId,
        sourceIp: '127.0.0.1',
      });
      expect(listed.status).toBe(200);
      expect(listed.text).not.toContain(created.keys.userKey);
      expect(deleted.status).toBe(204);
      expect(after.status).toBe(answers.unauthorized.status);
      expect(after.json).toEqual(answers.unauthorized.body);
    });

    it('returns the new secret with Cache-Control: no-store', async () => {
      const user = await createUserWithKey(api, 'viewer');

      const key = await call(api.port, '/v1/api-keys', { method: 'POST', keys: owner, body: { name: 'second-viewer-key', userId: user.userId } });

      expect(key.status).toBe(201);
      expect(typeof key.json.secret).toBe('string');
      expect(key.headers['cache-control']).toBe('no-store');
    });

    it('refuses a request that lacks either key, or carries a wrong one, with 401', async () => {
      const noSecret = await call(api.port, '/v1/whoami', { headers: { 'x-api-key': owner.accountKey } });
      const noAccount = await call(api.port, '/v1/whoami', { headers: { 'x-api-secret-key': owner.userKey } });
      const wrong = await call(api.port, '/v1/whoami', {
        keys: { accountKey: owner.accountKey, userKey: `${owner.userKey.slice(0, -1)}x` },
      });

      for (const response of [noSecret, noAccount, wrong]) {
        expect(response.status).toBe(answers.unauthorized.status);
        expect(response.json).toEqual(answers.unauthorized.body);
      }
    });

    it('adds, edits and deletes CIDR rules, and each takes effect for the next request from each address', async () => {
      // Prepare: a second owner key, so the first stays usable to manage this one's rules.
      const subject = await createUserWithKey(api, 'owner');
      const rules = `/v1/api-keys/${subject.keyId}/cidr-allow-list`;
      const whoamiFrom = async (from: string) => (await call(api.port, '/v1/whoami', { keys: subject.keys, from })).status;

      // Act and Assess: an empty list lets every address in.
      expect(await whoamiFrom('127.0.0.1')).toBe(200);
      expect(await whoamiFrom('127.0.0.2')).toBe(200);

      const added = await call(api.port, rules, { method: 'POST', keys: owner, body: { cidr: '127.0.0.1/32' } });
      expect(added.status).toBe(201);
      const ruleId = added.json.id as string;
      expect(await whoamiFrom('127.0.0.1')).toBe(200);
      const denied = await call(api.port, '/v1/whoami', { keys: subject.keys, from: '127.0.0.2' });
      expect(denied.status).toBe(answers.explicitDeny.status);
      expect(denied.json).toEqual(answers.explicitDeny.body);

      const edited = await call(api.port, `${rules}/${ruleId}`, { method: 'PUT', keys: owner, body: { cidr: '127.0.0.2' } });
      expect(edited.status).toBe(200);
      expect(edited.json.cidr).toBe('127.0.0.2/32');
      expect(await whoamiFrom('127.0.0.1')).toBe(answers.explicitDeny.status);
      expect(await whoamiFrom('127.0.0.2')).toBe(200);

      const listed = await call(api.port, rules, { keys: owner });
      expect(listed.json).toMatchObject({ rules: [{ id: ruleId, cidr: '127.0.0.2/32' }] });

      const removed = await call(api.port, `${rules}/${ruleId}`, { method: 'DELETE', keys: owner });
      expect(removed.status).toBe(204);
      expect(await whoamiFrom('127.0.0.1')).toBe(200);
      expect(await whoamiFrom('127.0.0.2')).toBe(200);
    });

    it('refuses a rule with host bits set, naming the network form', async () => {
      const subject = await createUserWithKey(api, 'viewer');

      const response = await call(api.port, `/v1/api-keys/${subject.keyId}/cidr-allow-list`, {
        method: 'POST',
        keys: owner,
        body: { cidr: '127.1.0.1/24' },
      });

      expect(response.status).toBe(400);
      expect(response.text).toContain('127.1.0.0/24');
    });
  });

  describe('roles', () => {
    it('lets a viewer read but not write', async () => {
      const viewer = await createUserWithKey(api, 'viewer');

      const read = await call(api.port, '/v1/users', { keys: viewer.keys });
      const write = await call(api.port, '/v1/users', {
        method: 'POST',
        keys: viewer.keys,
        body: { name: 'someone', email: 'someone@example.com', role: 'viewer' },
      });
      const reveal = await call(api.port, '/v1/account/key', { keys: viewer.keys });

      expect(read.status).toBe(200);
      expect(write.status).toBe(answers.implicitDeny.status);
      expect(write.json).toEqual(answers.implicitDeny.body);
      expect(reveal.status).toBe(answers.implicitDeny.status);
    });

    it('lets a logs-viewer read the audit log and nothing else', async () => {
      const logsViewer = await createUserWithKey(api, 'logs-viewer');

      const logs = await call(api.port, '/v1/logs', { keys: logsViewer.keys });
      const users = await call(api.port, '/v1/users', { keys: logsViewer.keys });

      expect(logs.status).toBe(200);
      expect(users.status).toBe(answers.implicitDeny.status);
      expect(users.json).toEqual(answers.implicitDeny.body);
    });
  });

  describe('revocation takes effect at once despite the authorizer cache', () => {
    it('serves a cached Allow until something flushes it (what makes the following tests meaningful)', async () => {
      // Prepare: a decision cached for this key, then the key removed behind the API's back.
      const subject = await createUserWithKey(api, 'viewer');
      expect((await call(api.port, '/v1/whoami', { keys: subject.keys })).status).toBe(200);
      await api.app.store.deleteKey(api.account.account.id, subject.keyId, {
        id: 'direct-delete',
        accountId: api.account.account.id,
        time: new Date().toISOString(),
        action: 'test.delete',
        actor: { userId: null, keyId: null },
        target: `api-key/${subject.keyId}`,
        sourceIp: null,
      });

      // Act
      const cached = await call(api.port, '/v1/whoami', { keys: subject.keys });
      await api.app.authorizerCache.flush();
      const flushed = await call(api.port, '/v1/whoami', { keys: subject.keys });

      // Assess
      expect(cached.status).toBe(200);
      expect(flushed.status).toBe(answers.unauthorized.status);
    });

    it('refuses a deleted key on its next request', async () => {
      const subject = await createUserWithKey(api, 'viewer');
      expect((await call(api.port, '/v1/users', { keys: subject.keys })).status).toBe(200);

      await call(api.port, `/v1/api-keys/${subject.keyId}`, { method: 'DELETE', keys: owner });
      const next = await call(api.port, '/v1/users', { keys: subject.keys });

      expect(next.status).toBe(answers.unauthorized.status);
    });

    it('refuses an address a new rule leaves out on its next request', async () => {
      const subject = await createUserWithKey(api, 'viewer');
      expect((await call(api.port, '/v1/whoami', { keys: subject.keys, from: '127.0.0.2' })).status).toBe(200);

      await call(api.port, `/v1/api-keys/${subject.keyId}/cidr-allow-list`, { method: 'POST', keys: owner, body: { cidr: '127.0.0.1/32' } });
      const next = await call(api.port, '/v1/whoami', { keys: subject.keys, from: '127.0.0.2' });

      expect(next.status).toBe(answers.explicitDeny.status);
    });

    it("narrows a demoted owner's key to the new role on its next request", async () => {
      const subject = await createUserWithKey(api, 'owner');
      const createUser = () =>
        call(api.port, '/v1/users', { method: 'POST', keys: subject.keys, body: { name: 'made by subject', email: 'made@example.com', role: 'viewer' } });
      expect((await createUser()).status).toBe(201);

      const demoted = await call(api.port, `/v1/users/${subject.userId}`, { method: 'PATCH', keys: owner, body: { role: 'viewer' } });
      const next = await createUser();
      const read = await call(api.port, '/v1/users', { keys: subject.keys });

      expect(demoted.status).toBe(200);
      expect(next.status).toBe(answers.implicitDeny.status);
      expect(read.status).toBe(200);
    });

    it('refuses every key of a user moved to a role that may not hold keys', async () => {
      const subject = await createUserWithKey(api, 'viewer');
      expect((await call(api.port, '/v1/whoami', { keys: subject.keys })).status).toBe(200);

      const changed = await call(api.port, `/v1/users/${subject.userId}`, { method: 'PATCH', keys: owner, body: { role: 'member' } });
      const next = await call(api.port, '/v1/whoami', { keys: subject.keys });

      expect(changed.status).toBe(200);
      expect(next.status).toBe(answers.unauthorized.status);
    });

    it('refuses the keys of a deleted user', async () => {
      const subject = await createUserWithKey(api, 'viewer');
      expect((await call(api.port, '/v1/whoami', { keys: subject.keys })).status).toBe(200);

      await call(api.port, `/v1/users/${subject.userId}`, { method: 'DELETE', keys: owner });
      const next = await call(api.port, '/v1/whoami', { keys: subject.keys });

      expect(next.status).toBe(answers.unauthorized.status);
    });
  });

  describe('the API switch, with its own authorizer cache', () => {
    it("lets an owner's keys reach only the switch while the API is off, even with an Allow cached for them", async () => {
      // Prepare: an account of its own (the suite's stays on), with decisions cached before the switch.
      const created = await createAccount(api.app.apiDeps, { name: 'Switched', ownerName: 'Sam', ownerEmail: 'sam@example.com' }, SYSTEM_ACTOR);
      const keys = { accountKey: created.accountKey, userKey: created.userKey };
      expect((await call(api.port, '/v1/whoami', { keys })).status).toBe(200);
      expect((await call(api.port, '/v1/account', { keys })).status).toBe(200);

      // Act
      const off = await call(api.port, '/v1/account', { method: 'PATCH', keys, body: { apiEnabled: false } });
      // The switch route first: its restricted Allow, cached, must never answer another route (a 403).
      const account = await call(api.port, '/v1/account', { keys });
      const whoami = await call(api.port, '/v1/whoami', { keys });
      const on = await call(api.port, '/v1/account', { method: 'PATCH', keys, body: { apiEnabled: true } });
      const again = await call(api.port, '/v1/whoami', { keys });

      // Assess
      expect(off.status).toBe(200);
      expect([whoami.status, whoami.json]).toEqual([answers.unauthorized.status, answers.unauthorized.body]);
      expect(account.status).toBe(200);
      expect(account.json).toMatchObject({ apiEnabled: false });
      expect(on.status).toBe(200);
      expect(again.status).toBe(200);
    });
  });

  describe('the source address is the connection, never a header', () => {
    const spoofing = { 'x-forwarded-for': '10.9.8.7', forwarded: 'for=10.9.8.7', 'x-real-ip': '10.9.8.7' };

    it('reports the peer address in whoami whatever forwarding headers say', async () => {
      const response = await call(api.port, '/v1/whoami', { keys: owner, from: '127.0.0.2', headers: spoofing });

      expect(response.status).toBe(200);
      expect(response.json.sourceIp).toBe('127.0.0.2');
    });

    it('does not let a forwarding header claim an allowed address', async () => {
      const subject = await createUserWithKey(api, 'viewer');
      await call(api.port, `/v1/api-keys/${subject.keyId}/cidr-allow-list`, { method: 'POST', keys: owner, body: { cidr: '127.0.0.1/32' } });

      const claimed = await call(api.port, '/v1/whoami', {
        keys: subject.keys,
        from: '127.0.0.2',
        headers: { 'x-forwarded-for': '127.0.0.1', forwarded: 'for=127.0.0.1', 'x-real-ip': '127.0.0.1' },
      });

      expect(claimed.status).toBe(answers.explicitDeny.status);
    });

    it('does not let a forwarding header push a caller out of its allowed range', async () => {
      const subject = await createUserWithKey(api, 'viewer');
      await call(api.port, `/v1/api-keys/${subject.keyId}/cidr-allow-list`, { method: 'POST', keys: owner, body: { cidr: '127.0.0.1/32' } });

      const response = await call(api.port, '/v1/whoami', { keys: subject.keys, from: '127.0.0.1', headers: spoofing });

      expect(response.status).toBe(200);
      expect(response.json.sourceIp).toBe('127.0.0.1');
    });
  });

  describe('a dual-stack listener', () => {
    it('sees an IPv4 client as its IPv4 address, so IPv4 rules apply to it', async () => {
      // Prepare: the same gateway behind a socket on '::', where IPv4 peers appear as ::ffff:a.b.c.d.
      const dualStack = createServer({ gateway: api.app.gateway });
      await new Promise<void>((resolve) => dualStack.listen(0, '::', resolve));
      const { port } = dualStack.address() as AddressInfo;
      const subject = await createUserWithKey(api, 'viewer');
      await call(api.port, `/v1/api-keys/${subject.keyId}/cidr-allow-list`, { method: 'POST', keys: owner, body: { cidr: '127.0.0.2/32' } });

      try {
        // Act
        const allowed = await call(port, '/v1/whoami', { keys: subject.keys, from: '127.0.0.2' });
        const denied = await call(port, '/v1/whoami', { keys: subject.keys, from: '127.0.0.1' });

        // Assess
        expect(allowed.status).toBe(200);
        expect(allowed.json.sourceIp).toBe('127.0.0.2');
        expect(denied.status).toBe(answers.explicitDeny.status);
      } finally {
        await closeServer(dualStack);
      }
    });
  });

  describe("the gateway's own answers", () => {
    it(`answers an unknown route with ${answers.noRoute.status} ${answers.noRoute.body.message}, with or without keys`, async () => {
      const withKeys = await call(api.port, '/v1/nothing', { keys: owner });
      const withoutKeys = await call(api.port, '/v2/whoami');
      const wrongMethod = await call(api.port, '/v1/whoami', { method: 'POST', keys: owner, body: {} });

      for (const response of [withKeys, withoutKeys, wrongMethod]) {
        expect(response.status).toBe(answers.noRoute.status);
        expect(response.json).toEqual(answers.noRoute.body);
      }
    });

    it('refuses a body over 10 MiB with 413', async () => {
      const response = await call(api.port, '/v1/users', {
        method: 'POST',
        keys: owner,
        rawBody: Buffer.alloc(10 * 1024 * 1024 + 1, 0x20),
      });

      expect(response.status).toBe(answers.tooLarge.status);
      expect(response.json).toEqual(answers.tooLarge.body);
      expect(response.headers['x-amzn-errortype']).toBe(answers.tooLarge.errorType);
    });

    it('serves health and the OpenAPI document without keys', async () => {
      const health = await call(api.port, '/health');
      const openapi = await call(api.port, '/openapi.json');

      expect(health.status).toBe(200);
      expect(openapi.status).toBe(200);
      expect(openapi.json.openapi).toMatch(/^3\./);
      expect(Object.keys(openapi.json.paths as object)).toContain('/v1/whoami');
    });
  });
});
