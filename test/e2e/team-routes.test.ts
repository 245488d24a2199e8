import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { closeServer } from '#local/process/server.ts';
import { createLocalDownstream, upstreamRoutes } from '#local/gateway/downstream.ts';
import { freePort } from '#local/storage/dynamodb-local.ts';
import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import { newId } from '#shared/domain/ids.ts';
import { createAccount } from '#shared/services/accounts.ts';
import { TABLE_ENV } from '../../examples/subscriptions/store.ts';
import { routes as subscriptionRoutes, setup as setupSubscriptions } from '../../examples/subscriptions/routes.ts';
import { ANSWERS, FLAVORS } from './flavors.ts';
import { call, createUserWithKey, ownerKeys, startApi, type Credentials, type RunningApi } from './support.ts';

/**
 * The team's own routes end to end over real HTTP: the example subscriptions service (Lambda
 * handlers run in-process on its own DynamoDB Local table) and `--upstream` to a real HTTP
 * server, behind the same gateway, authorizer, cache and CIDR checks as the management API,
 * behind both front doors (a Lambda backend gets payload 1.0 on REST, 2.0 on HTTP API).
 */

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A real HTTP service that records what reaches it. */
async function startEcho(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createHttpServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      if (request.url?.includes('/hang') === true) return;
      response.writeHead(request.url?.includes('/missing') === true ? 404 : 200, { 'content-type': 'text/plain', 'x-upstream': 'echo' });
      // Written in two parts: the gateway passes the answer on as it comes.
      response.write(`${request.method ?? ''} ${request.url ?? ''}\n`);
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

describe.each(FLAVORS)('behind the %s front door', (flavor) => {
  const answers = ANSWERS[flavor];

  describe('the example subscriptions service (--routes)', () => {
    let api: RunningApi;
    let owner: Credentials;

    beforeAll(async () => {
      process.env[TABLE_ENV] = `subscriptions-e2e-${newId()}`;
      await setupSubscriptions({ dynamodbEndpoint: inject('dynamodbEndpoint') });
      api = await startApi({ flavor, downstream: await createLocalDownstream(subscriptionRoutes) });
      owner = ownerKeys(api);
    });

    afterAll(async () => {
      await api.close();
    });

    it('lets an owner create, a viewer list and get, and an owner delete', async () => {
      const viewer = await createUserWithKey(api, 'viewer');
      const created = await call(api.port, '/v1/subscriptions', { method: 'POST', keys: owner, body: { name: 'Production', cloudProvider: 'GCP' } });
      expect(created.status).toBe(201);
      expect(created.json).toMatchObject({ name: 'Production', cloudProvider: 'GCP', status: 'active' });
      const id = created.json.id as string;

      const listed = await call(api.port, '/v1/subscriptions', { keys: viewer.keys });
      expect(listed.status).toBe(200);
      expect((listed.json.subscriptions as { id: string }[]).map((s) => s.id)).toContain(id);
      expect((await call(api.port, `/v1/subscriptions/${id}`, { keys: viewer.keys })).json).toMatchObject({ id, name: 'Production' });

      expect((await call(api.port, `/v1/subscriptions/${id}`, { method: 'DELETE', keys: viewer.keys })).status).toBe(answers.implicitDeny.status);
      expect((await call(api.port, `/v1/subscriptions/${id}`, { method: 'DELETE', keys: owner })).status).toBe(204);
      expect((await call(api.port, `/v1/subscriptions/${id}`, { keys: owner })).status).toBe(404);
    });

    it('refuses a viewer a create with 403, and nothing is created', async () => {
      const viewer = await createUserWithKey(api, 'viewer');
      const before = await call(api.port, '/v1/subscriptions', { keys: owner });
      const refused = await call(api.port, '/v1/subscriptions', { method: 'POST', keys: viewer.keys, body: { name: 'Sneaky' } });
      const after = await call(api.port, '/v1/subscriptions', { keys: owner });
      expect(refused.status).toBe(answers.implicitDeny.status);
      expect(refused.json).toEqual(answers.implicitDeny.body);
      expect(after.json).toEqual(before.json);
    });

    it('refuses a logs viewer, who reaches only routes that name the role', async () => {
      const logs = await createUserWithKey(api, 'logs-viewer');
      expect((await call(api.port, '/v1/subscriptions', { keys: logs.keys })).status).toBe(answers.implicitDeny.status);
    });

    it('keeps each account to its own subscriptions', async () => {
      const other = await createAccount(api.app.apiDeps, { name: 'Other', ownerName: 'Other owner', ownerEmail: 'other@example.com' }, SYSTEM_ACTOR);
      const otherKeys = { accountKey: other.accountKey, userKey: other.userKey };
      const mine = await call(api.port, '/v1/subscriptions', { method: 'POST', keys: owner, body: { name: 'Mine' } });
      const id = mine.json.id as string;

      const theirs = await call(api.port, '/v1/subscriptions', { keys: otherKeys });
      expect(theirs.status).toBe(200);
      expect(theirs.json).toEqual({ subscriptions: [] });
      expect((await call(api.port, `/v1/subscriptions/${id}`, { keys: otherKeys })).status).toBe(404);
      expect((await call(api.port, `/v1/subscriptions/${id}`, { method: 'DELETE', keys: otherKeys })).status).toBe(404);
      expect((await call(api.port, `/v1/subscriptions/${id}`, { keys: owner })).status).toBe(200);
    });

    it("refuses a key used from outside its CIDR allow list", async () => {
      const subject = await createUserWithKey(api, 'viewer');
      await call(api.port, `/v1/api-keys/${subject.keyId}/cidr-allow-list`, { method: 'POST', keys: owner, body: { cidr: '127.0.0.1/32' } });
      expect((await call(api.port, '/v1/subscriptions', { keys: subject.keys, from: '127.0.0.1' })).status).toBe(200);
      expect((await call(api.port, '/v1/subscriptions', { keys: subject.keys, from: '127.0.0.2' })).status).toBe(answers.explicitDeny.status);
    });

    it('answers a malformed create with the backend\'s own 400', async () => {
      const refused = await call(api.port, '/v1/subscriptions', { method: 'POST', keys: owner, body: { name: '' } });
      expect(refused.status).toBe(400);
    });

    it('lists the team routes in the OpenAPI document', async () => {
      const document = await call(api.port, '/openapi.json');
      const paths = document.json.paths as Record<string, Record<string, { 'x-latchkey-roles': string[] }>>;
      expect(paths['/v1/subscriptions']?.post?.['x-latchkey-roles']).toEqual(['owner']);
      expect(paths['/v1/subscriptions/{subscriptionId}']?.get?.['x-latchkey-roles']).toEqual(['owner', 'viewer']);
      expect(paths['/v1/users']).toBeDefined();
    });
  });

  describe('--upstream', () => {
    let api: RunningApi;
    let owner: Credentials;
    let echo: Awaited<ReturnType<typeof startEcho>>;

    beforeAll(async () => {
      echo = await startEcho();
      api = await startApi({ flavor, downstream: await createLocalDownstream(upstreamRoutes(`${echo.url}/base`), { integrationTimeoutMs: 1500 }) });
      owner = ownerKeys(api);
    });

    afterAll(async () => {
      echo.server.closeAllConnections();
      await closeServer(echo.server);
      await api.close();
    });

    it('sends an authorized request with its method, path, query and body, without the keys, with the principal', async () => {
      const response = await call(api.port, '/v2/things/42?colour=red&x=1', {
        method: 'PUT',
        keys: owner,
        rawBody: 'hello',
        headers: { 'content-type': 'text/plain', 'x-latchkey-role': 'owner', 'x-latchkey-account-id': 'forged', 'x-custom': 'kept', connection: 'keep-alive, x-drop-me', 'x-drop-me': 'hop' },
      });
      expect(response.status).toBe(200);
      expect(response.text).toBe('PUT /base/v2/things/42?colour=red&x=1\nhello');
      expect(response.headers['x-upstream']).toBe('echo');
      const seen = echo.received.at(-1)!;
      expect(seen.headers['x-api-key']).toBeUndefined();
      expect(seen.headers['x-api-secret-key']).toBeUndefined();
      expect(seen.headers['x-drop-me']).toBeUndefined();
      expect(seen.headers['x-custom']).toBe('kept');
      expect(seen.headers['content-type']).toBe('text/plain');
      expect(seen.headers['x-latchkey-account-id']).toBe(api.account.account.id);
      expect(seen.headers['x-latchkey-user-id']).toBe(api.account.owner.id);
      expect(seen.headers['x-latchkey-role']).toBe('owner');
      expect(seen.headers['x-latchkey-key-id']).toBe(api.account.keyId);
    });

    it("never lets a client's x-latchkey-role through, whatever the case", async () => {
      const viewer = await createUserWithKey(api, 'viewer');
      await call(api.port, '/v2/things', { keys: viewer.keys, headers: { 'X-Latchkey-Role': 'owner', 'x-latchkey-user-id': 'forged' } });
      const seen = echo.received.at(-1)!;
      expect(seen.headers['x-latchkey-role']).toBe('viewer');
      expect(seen.headers['x-latchkey-user-id']).toBe(viewer.userId);
    });

    it("passes the backend's status and headers back", async () => {
      const response = await call(api.port, '/missing/page', { keys: owner });
      expect(response.status).toBe(404);
      expect(response.headers['content-type']).toBe('text/plain');
    });

    it('applies the default role rule: a viewer reads but does not write; management routes keep their own rules', async () => {
      const viewer = await createUserWithKey(api, 'viewer');
      const count = echo.received.length;
      expect((await call(api.port, '/v2/things', { keys: viewer.keys })).status).toBe(200);
      expect((await call(api.port, '/v2/things', { method: 'POST', keys: viewer.keys, body: {} })).status).toBe(answers.implicitDeny.status);
      expect((await call(api.port, '/v1/account/key', { keys: viewer.keys })).status).toBe(answers.implicitDeny.status);
      expect((await call(api.port, '/v1/users', { keys: viewer.keys })).status).toBe(200);
      expect(echo.received.length).toBe(count + 1);
    });

    it(`answers ${answers.backendTimeout.status} when the backend does not answer within the integration timeout`, async () => {
      const response = await call(api.port, '/hang', { keys: owner });
      expect(response.status).toBe(answers.backendTimeout.status);
      expect(response.json).toEqual(answers.backendTimeout.body);
    });

    it(`answers ${answers.backendUnreachable.status} JSON at once when the backend refuses the connection`, async () => {
      const port = await freePort();
      const unreachable = await startApi({ flavor, downstream: await createLocalDownstream(upstreamRoutes(`http://127.0.0.1:${port}`)) });
      try {
        const response = await call(unreachable.port, '/v2/things', { keys: ownerKeys(unreachable) });
        expect(response.status).toBe(answers.backendUnreachable.status);
        expect(response.headers['content-type']).toBe('application/json');
        expect(typeof response.json.message).toBe('string');
      } finally {
        await unreachable.close();
      }
    });
  });
});
