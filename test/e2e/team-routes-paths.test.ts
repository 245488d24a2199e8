import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLocalDownstream } from '#local/gateway/downstream.ts';
import { closeServer } from '#local/process/server.ts';
import type { DownstreamRoute } from '#shared/http/team-routes.ts';
import { newId } from '#shared/domain/ids.ts';
import { ANSWERS, FLAVORS } from './flavors.ts';
import { call, createUserWithKey, ownerKeys, startApi, type Credentials, type RunningApi } from './support.ts';

/**
 * What reaches a team's backend, over real HTTP through the local runtime: only the path of the
 * route that was authorized (DESIGN 13), never a client's would-be principal header, never the
 * keys (not even to a Lambda handler), and never a key past its expiry or a secret past its
 * grace. The HTTP backend records every request it gets. Behind both front doors: only the
 * gateway's own answers differ (e2e/flavors.ts).
 */

interface Received {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

let backend: Server;
let received: Received[] = [];
let url: string;

function routes(): DownstreamRoute[] {
  const svc = { url: `${url}/svc` };
  return [
    { method: 'GET', path: '/v1/databases/{databaseId}', backend: svc },
    { method: 'GET', path: '/v1/databases/{databaseId}/password', roles: ['owner'], backend: svc },
    { method: 'GET', path: '/files/public/{proxy+}', roles: ['owner', 'viewer'], backend: svc },
    { method: 'GET', path: '/files/admin/{proxy+}', roles: ['owner'], backend: svc },
    { method: 'GET', path: '/v1/echo', backend: { lambda: 'test/e2e/fixtures/echo-event.ts' } },
  ];
}

beforeAll(async () => {
  backend = createHttpServer((request, response) => {
    received.push({ url: request.url ?? '', headers: request.headers });
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  });
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
});

afterAll(async () => {
  backend.closeAllConnections();
  await closeServer(backend);
});

beforeEach(() => {
  received = [];
});

describe.each(FLAVORS)('behind the %s front door', (flavor) => {
  const answers = ANSWERS[flavor];

  describe('a request reaches the backend only at a path its route admits', () => {
    let api: RunningApi;
    let viewer: Credentials;

    beforeAll(async () => {
      api = await startApi({ authorizerTtlSeconds: 300, flavor, downstream: await createLocalDownstream(routes()) });
      viewer = (await createUserWithKey(api, 'viewer')).keys;
    });

    afterAll(async () => {
      await api.close();
    });

    it.each([
      ['a backslash', '/v1/databases/db1\\password'],
      ['an encoded backslash', '/v1/databases/db1%5Cpassword'],
      ['an encoded slash', '/v1/databases/db1%2Fpassword'],
      ['an encoded slash in lower case', '/v1/databases/db1%2fpassword'],
      ['raw dot segments', '/files/public/../admin/x'],
      ['encoded dot segments', '/files/public/%2e%2e/admin/x'],
      ['mixed dot segments', '/files/public/.%2E/admin/x'],
      ['dot segments out of the base path', '/files/public/%2e%2e/%2e%2e/%2e%2e/etc'],
      ['a dot segment with a path parameter', '/files/public/..;x=1/admin/x'],
      ['a single dot segment', '/files/public/./x'],
    ])("refuses %s with the gateway's 400, before the authorizer, never reaching the backend", async (_name, path) => {
      const answer = await call(api.port, path, { keys: viewer });
      expect(answer.status).toBe(400);
      expect(answer.headers['content-type']).toBe('application/json');
      expect(answer.json).toEqual({ message: 'Invalid request path' });
      expect(received).toEqual([]);
      // Before the authorizer: without any keys the answer is the same 400, not a 401.
      expect((await call(api.port, path)).status).toBe(400);
    });

    it('refuses the same spellings on management routes', async () => {
      for (const path of ['/v1/users/%2e%2e/account/key', '/v1/account/../account/key', '/v1/api-keys/x%2Fcidr-allow-list']) {
        expect((await call(api.port, path, { keys: viewer })).json).toEqual({ message: 'Invalid request path' });
      }
    });

    it('forwards the paths the viewer may read, built from the route, to the base path', async () => {
      expect((await call(api.port, '/v1/databases/db1', { keys: viewer })).status).toBe(200);
      expect((await call(api.port, '/files/public/reports/a%20b.txt?v=1', { keys: viewer })).status).toBe(200);
      expect((await call(api.port, '/files/public/x..y/.hidden', { keys: viewer })).status).toBe(200);
      expect(received.map((r) => r.url)).toEqual(['/svc/v1/databases/db1', '/svc/files/public/reports/a%20b.txt?v=1', '/svc/files/public/x..y/.hidden']);
    });

    it('still keeps the owner-only paths from the viewer', async () => {
      expect((await call(api.port, '/v1/databases/db1/password', { keys: viewer })).status).toBe(answers.explicitDeny.status);
      expect((await call(api.port, '/files/admin/x', { keys: viewer })).status).toBe(answers.implicitDeny.status);
      expect(received).toEqual([]);
    });
  });

  describe('principal headers and keys never reach a backend', () => {
    let api: RunningApi;
    let owner: Credentials;

    beforeAll(async () => {
      api = await startApi({ authorizerTtlSeconds: 300, flavor, downstream: await createLocalDownstream(routes()) });
      owner = ownerKeys(api);
    });

    afterAll(async () => {
      await api.close();
    });

    const forged = {
      x_latchkey_role: 'owner',
      X_LATCHKEY_USER_ID: 'forged',
      'x-latchkey-plan': 'unlimited',
      'X-Latchkey-Anything': 'forged',
      'x_latchkey-key_id': 'forged',
      x_api_key: 'forged',
    };

    it("drops a client's x-latchkey-* headers in every spelling; the backend gets the gateway's four only", async () => {
      const viewer = await createUserWithKey(api, 'viewer');
      expect((await call(api.port, '/v1/databases/db1', { keys: viewer.keys, headers: { ...forged, 'x-kept': 'yes' } })).status).toBe(200);
      const { headers } = received[0]!;
      expect(Object.keys(headers).filter((name) => /^x[-_]latchkey[-_]/i.test(name)).sort()).toEqual([
        'x-latchkey-account-id',
        'x-latchkey-key-id',
        'x-latchkey-role',
        'x-latchkey-user-id',
      ]);
      expect(headers['x-latchkey-role']).toBe('viewer');
      expect(headers['x-latchkey-user-id']).toBe(viewer.userId);
      expect(headers['x-kept']).toBe('yes');
      expect(Object.keys(headers).filter((name) => /^x[-_]api[-_]/i.test(name))).toEqual([]);
    });

    it('gives a Lambda handler neither key, in headers or multiValueHeaders, nor a would-be principal header', async () => {
      const answer = await call(api.port, '/v1/echo', { keys: owner, headers: { ...forged, 'X-Api-Secret-Key': owner.userKey, 'x-kept': 'yes' } });
      expect(answer.status).toBe(200);
      const event = answer.json as { version: string; headers: Record<string, string>; multiValueHeaders?: Record<string, string[]>; authorizer: Record<string, unknown> };
      expect(event.headers['x-kept']).toBe('yes');
      // Payload 1.0 behind REST (the context at requestContext.authorizer), 2.0 behind HTTP API (under `lambda`).
      const context = flavor === 'http' ? (event.authorizer.lambda as Record<string, unknown>) : event.authorizer;
      expect(event.version).toBe(flavor === 'http' ? '2.0' : '1.0');
      expect(context).toMatchObject({ accountId: api.account.account.id, userId: api.account.owner.id, role: 'owner', keyId: api.account.keyId });
      if (flavor === 'rest') expect(event.multiValueHeaders?.['x-kept']).toEqual(['yes']);
      else expect(event.multiValueHeaders).toBeUndefined();
      for (const view of [event.headers, event.multiValueHeaders ?? {}]) {
        expect(Object.keys(view).filter((name) => /^x[-_](latchkey|api)[-_]/i.test(name))).toEqual([]);
      }
      expect(answer.text).not.toContain(owner.userKey);
      expect(answer.text).not.toContain(owner.accountKey);
    });
  });

  describe("a team route has no second check: the authorizer's own deadlines hold on it", () => {
    let api: RunningApi;
    let owner: Credentials;
    let clock = Date.parse('2030-01-01T00:00:00Z');

    beforeAll(async () => {
      // No cache: every request meets the authorizer, whose rule alone is under test.
      api = await startApi({ authorizerTtlSeconds: 0, flavor, now: () => new Date(clock), downstream: await createLocalDownstream(routes()) });
      owner = ownerKeys(api);
    });

    afterAll(async () => {
      await api.close();
    });

    async function keyFor(body: Record<string, unknown>): Promise<{ id: string; keys: Credentials }> {
      const user = await call(api.port, '/v1/users', { method: 'POST', keys: owner, body: { name: `Viewer ${newId()}`, email: `${newId().toLowerCase()}@example.com`, role: 'viewer' } });
      const key = await call(api.port, '/v1/api-keys', { method: 'POST', keys: owner, body: { name: `key-${newId()}`, userId: user.json.id, ...body } });
      expect(key.status).toBe(201);
      return { id: key.json.id as string, keys: { accountKey: owner.accountKey, userKey: key.json.secret as string } };
    }

    it('refuses an expired key with 401, never reaching the backend', async () => {
      const key = await keyFor({ expiresAt: new Date(clock + 60_000).toISOString() });
      expect((await call(api.port, '/v1/databases/db1', { keys: key.keys })).status).toBe(200);
      clock += 61_000;
      expect((await call(api.port, '/v1/databases/db1', { keys: key.keys })).status).toBe(answers.unauthorized.status);
      expect(received).toHaveLength(1);
    });

    it('refuses a rolled secret after its grace period with 401, never reaching the backend', async () => {
      const key = await keyFor({});
      const rolled = await call(api.port, `/v1/api-keys/${key.id}/roll`, { method: 'POST', keys: owner, body: { gracePeriodSeconds: 60 } });
      expect(rolled.status).toBe(200);
      const current = { accountKey: owner.accountKey, userKey: rolled.json.secret as string };
      expect((await call(api.port, '/v1/databases/db1', { keys: key.keys })).status).toBe(200);
      clock += 61_000;
      expect((await call(api.port, '/v1/databases/db1', { keys: key.keys })).status).toBe(answers.unauthorized.status);
      expect((await call(api.port, '/v1/databases/db1', { keys: current })).status).toBe(200);
      expect(received).toHaveLength(2);
    });
  });
});
