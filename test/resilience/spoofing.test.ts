import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthorizerHandler } from '#functions/authorizer.ts';
import { createLocalApp, type LocalApp } from '#local/process/app.ts';
import { closeServer, createServer } from '#local/process/server.ts';
import type { Actor } from '#shared/domain/audit.ts';
import { createApiKey } from '#shared/services/api-keys.ts';
import { addCidrRule } from '#shared/services/cidr-allow-list.ts';
import { createUser } from '#shared/services/users.ts';
import requestFixture from '#test/events/authorizer-request.json' with { type: 'json' };
import { type SeededOwner, createResilienceTable, newLocalSecrets, seedOwner } from '#test/support/resilience-app.ts';
import { quietLogger } from '#test/support/fakes/logger.ts';

/**
 * The source address the authorizer decides on is the connection's (API Gateway's
 * `requestContext.identity.sourceIp`, the local server's TCP peer), never one a header claims.
 * Checked on the Lambda event, and over real HTTP from two loopback addresses.
 */

const SPOOFING_HEADERS = ['X-Forwarded-For', 'Forwarded', 'X-Real-IP', 'X-Client-IP', 'True-Client-IP', 'CF-Connecting-IP'] as const;

/** How each header would claim `address`, in the forms proxies write it. */
function claims(header: (typeof SPOOFING_HEADERS)[number], address: string): string[] {
  switch (header) {
    case 'X-Forwarded-For':
      return [address, `${address}, 198.51.100.77`, `198.51.100.77, ${address}`];
    case 'Forwarded':
      return [`for=${address}`, `for="${address}";proto=https`, `for=198.51.100.77, for=${address}`];
    default:
      return [address];
  }
}

/** Every header and form, one at a time, then all headers at once. */
function spoofedHeaderSets(address: string): { label: string; headers: Record<string, string> }[] {
  const single = SPOOFING_HEADERS.flatMap((header) => claims(header, address).map((value) => ({ label: `${header}: ${value}`, headers: { [header]: value } })));
  const all = Object.fromEntries(SPOOFING_HEADERS.map((header) => [header, claims(header, address)[0]!]));
  return [...single, { label: 'all of them', headers: all }];
}

type Effect = 'allow' | 'explicit-deny' | 'unauthorized';

function effectOf(result: APIGatewayAuthorizerResult): Effect {
  const effects = result.policyDocument.Statement.map((statement) => statement.Effect);
  return effects.includes('Deny') ? 'explicit-deny' : 'allow';
}

describe('spoofed source addresses', () => {
  let app: LocalApp;
  let owner: SeededOwner;
  /** A viewer key that may be used from 10.0.0.0/8 and from 127.0.0.2 only. */
  let pinnedKey = '';

  beforeAll(async () => {
    const table = (await createResilienceTable()).clean;
    app = createLocalApp({ documentClient: table.client, tableName: table.tableName, secrets: newLocalSecrets(), logger: quietLogger() });
    owner = await seedOwner(app.apiDeps, app.store);
    const actor: Actor = { userId: owner.userId, keyId: owner.keyId, sourceIp: null };
    const viewer = await createUser(app.apiDeps, owner.accountId, { name: 'Pinned', email: 'pinned@example.com', role: 'viewer' }, actor);
    const created = await createApiKey(app.apiDeps, owner.accountId, { name: 'pinned-viewer-key', userId: viewer.id }, actor);
    for (const cidr of ['10.0.0.0/8', '127.0.0.2']) await addCidrRule(app.apiDeps, owner.accountId, created.key.id, cidr, actor);
    pinnedKey = created.secret;
  });

  describe('in the Lambda event', () => {
    function event(sourceIp: string, spoofed: Record<string, string>): APIGatewayRequestAuthorizerEvent {
      const built = structuredClone(requestFixture) as unknown as APIGatewayRequestAuthorizerEvent;
      const headers = { ...built.headers, ...spoofed, 'x-api-key': owner.accountKey, 'x-api-secret-key': pinnedKey };
      built.headers = headers;
      built.multiValueHeaders = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]]));
      built.requestContext.identity.sourceIp = sourceIp;
      return built;
    }

    async function decide(sourceIp: string, spoofed: Record<string, string>): Promise<Effect> {
      const authorizer = createAuthorizerHandler(app.authorizerDeps);
      return authorizer(event(sourceIp, spoofed)).then(effectOf, () => 'unauthorized' as const);
    }

    it('the genuine address decides both ways', async () => {
      expect(await decide('10.1.2.3', {})).toBe('allow');
      expect(await decide('192.0.2.1', {})).toBe('explicit-deny');
    });

    it.each(spoofedHeaderSets('10.1.2.3'))('outside the list, claiming to be inside ($label): explicit Deny', async ({ headers }) => {
      expect(await decide('192.0.2.1', headers)).toBe('explicit-deny');
    });

    it.each(spoofedHeaderSets('192.0.2.1'))('inside the list, claiming to be outside ($label): Allow', async ({ headers }) => {
      expect(await decide('10.1.2.3', headers)).toBe('allow');
    });
  });

  describe('in the local runtime over HTTP', () => {
    let server: Server;
    let port = 0;

    beforeAll(async () => {
      server = createServer({ gateway: app.gateway });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });

    afterAll(() => closeServer(server));

    /** A request from `from` (a loopback address bound as the connection's local end). */
    function get(from: string, userKey: string, spoofed: Record<string, string>): Promise<{ status: number; body: string }> {
      return new Promise((resolve, reject) => {
        const outgoing = request(
          {
            host: '127.0.0.1',
            port,
            localAddress: from,
            path: '/v1/whoami',
            method: 'GET',
            agent: false,
            headers: { ...spoofed, 'x-api-key': owner.accountKey, 'x-api-secret-key': userKey },
          },
          (response) => {
            let body = '';
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => (body += chunk));
            response.on('end', () => {
              resolve({ status: response.statusCode ?? 0, body });
            });
          },
        );
        outgoing.on('error', reject);
        outgoing.end();
      });
    }

    it('whoami shows the peer address, whatever the headers claim', async () => {
      for (const { label, headers } of spoofedHeaderSets('203.0.113.9')) {
        for (const from of ['127.0.0.1', '127.0.0.2']) {
          const response = await get(from, owner.userKey, headers);
          expect(response.status, label).toBe(200);
          expect((JSON.parse(response.body) as { sourceIp: string }).sourceIp, label).toBe(from);
        }
      }
    });

    it('a key pinned to 127.0.0.2 works from there and from nowhere else, whatever the headers claim', async () => {
      // Prepare: an Allow for 127.0.0.2 sits in the gateway's authorizer cache.
      expect((await get('127.0.0.2', pinnedKey, {})).status).toBe(200);

      for (const { label, headers } of spoofedHeaderSets('127.0.0.2')) {
        // Act
        const spoofed = await get('127.0.0.1', pinnedKey, headers);

        // Assess
        expect(spoofed.status, label).toBe(403);
        expect(JSON.parse(spoofed.body), label).toEqual({ message: 'User is not authorized to access this resource with an explicit deny' });
      }
      for (const { label, headers } of spoofedHeaderSets('127.0.0.1')) {
        expect((await get('127.0.0.2', pinnedKey, headers)).status, label).toBe(200);
      }
    });
  });
});
