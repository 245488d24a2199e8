import { randomBytes } from 'node:crypto';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAuthorizerHandler } from '#functions/authorizer.ts';
import { apiBaseArn } from '#shared/authorization/policies.ts';
import { evaluatePolicy } from '#local/gateway/policy-evaluator.ts';
import { ENV } from '#shared/adapters/environment.ts';
import { PepperRing } from '#shared/domain/hashing.ts';
import { newId } from '#shared/domain/ids.ts';
import { formatAccountKey, formatUserKey } from '#shared/domain/key-format.ts';
import type { KeyRole } from '#shared/domain/roles.ts';
import { resolveDownstreamRoutes } from '#shared/http/team-routes.ts';
import { RoutePolicyError, parseRoutePolicy, routePolicyEnvironment } from '#shared/authorization/route-policy.ts';
import requestFixture from '#test/events/authorizer-request.json' with { type: 'json' };
import { FakeCredentialStore } from '#test/support/fakes/credential-store.ts';
import { quietLogger } from '#test/support/fakes/logger.ts';

const ring = new PepperRing([{ version: 1, secret: randomBytes(32) }]);
const teamRoutes = resolveDownstreamRoutes([
  { method: 'GET', path: '/v1/subscriptions', backend: { url: 'https://api.example.com' } },
  { method: 'POST', path: '/v1/subscriptions', backend: { url: 'https://api.example.com' } },
]);

function authorizerFor(role: KeyRole) {
  const accountId = newId();
  const keyId = newId();
  const accountKey = formatAccountKey(accountId);
  const userKey = formatUserKey(accountId, keyId);
  const handler = createAuthorizerHandler({
    credentials: new FakeCredentialStore().put(accountId, keyId, {
      account: { apiEnabled: true, accountKeyHash: ring.digest(accountKey).hash, accountKeyPepperVersion: 1 },
      key: { userId: newId(), role, secretHash: ring.digest(userKey).hash, pepperVersion: 1, cidrs: [] },
    }),
    peppers: () => Promise.resolve(ring),
    logger: quietLogger(),
    // What the deployed authorizer reads from LATCHKEY_ROUTE_POLICY.
    routePolicy: parseRoutePolicy(routePolicyEnvironment(teamRoutes)),
  });
  const event = {
    ...requestFixture,
    headers: { ...requestFixture.headers, 'x-api-key': accountKey, 'x-api-secret-key': userKey },
    multiValueHeaders: { ...requestFixture.multiValueHeaders, 'x-api-key': [accountKey], 'x-api-secret-key': [userKey] },
  } as unknown as APIGatewayRequestAuthorizerEvent;
  return { handler, event };
}

const apiBase = apiBaseArn(requestFixture.methodArn);

describe('the authorizer over team routes', () => {
  it("allows a viewer the team's reads and not its writes, in the one cached policy", async () => {
    const { handler, event } = authorizerFor('viewer');
    const { policyDocument } = await handler(event);
    expect(evaluatePolicy(policyDocument, `${apiBase}/GET/v1/subscriptions`)).toBe('allow');
    expect(evaluatePolicy(policyDocument, `${apiBase}/POST/v1/subscriptions`)).toBe('implicit-deny');
    expect(evaluatePolicy(policyDocument, `${apiBase}/GET/v1/users`)).toBe('allow');
  });

  it('allows an owner the writes too, and a logs viewer none of them', async () => {
    const owner = authorizerFor('owner');
    expect(evaluatePolicy((await owner.handler(owner.event)).policyDocument, `${apiBase}/POST/v1/subscriptions`)).toBe('allow');
    const logs = authorizerFor('logs-viewer');
    expect(evaluatePolicy((await logs.handler(logs.event)).policyDocument, `${apiBase}/GET/v1/subscriptions`)).toBe('implicit-deny');
  });
});

describe('the deployed authorizer with a malformed LATCHKEY_ROUTE_POLICY', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('fails closed: every request is a fault, nobody is let in', async () => {
    vi.stubEnv(ENV.tableName, 'latchkey-test');
    vi.stubEnv(ENV.kmsKeyId, 'alias/latchkey-test');
    vi.stubEnv(ENV.routePolicy, JSON.stringify({ owner: ['*/*'], viewer: ['*/*'], 'logs-viewer': [] }));
    const { handler } = await import('#functions/authorizer.ts');
    const { event } = authorizerFor('viewer');
    await expect(Promise.resolve().then(() => handler(event))).rejects.toThrow(RoutePolicyError);
    await expect(Promise.resolve().then(() => handler(event))).rejects.toThrow(RoutePolicyError);
  });
});
