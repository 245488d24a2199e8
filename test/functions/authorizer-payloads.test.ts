import { randomBytes } from 'node:crypto';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { createAuthorizerHandler } from '#functions/authorizer.ts';
import { evaluatePolicy } from '#local/gateway/policy-evaluator.ts';
import { PepperRing } from '#shared/domain/hashing.ts';
import { newId } from '#shared/domain/ids.ts';
import { formatAccountKey, formatUserKey } from '#shared/domain/key-format.ts';
import type { Role } from '#shared/domain/roles.ts';
import { ROUTES } from '#shared/http/routes.ts';
import restFixture from '#test/events/authorizer-request.json' with { type: 'json' };
import httpFixture from '#test/events/http-api-authorizer-request.json' with { type: 'json' };
import { FakeCredentialStore } from '#test/support/fakes/credential-store.ts';
import { quietLogger } from '#test/support/fakes/logger.ts';

/**
 * One authorizer function for both front doors (DESIGN 15): the REST request event (payload 1.0)
 * and HTTP API's (payload 2.0, IAM-policy responses) reach the same decisions for the same keys
 * from the same address. Each case runs on both fixtures; only the headers' values (and where
 * a case says so, the address or the route) are set in a copy at test time.
 */

interface Request {
  readonly accountKey?: string | readonly string[] | undefined;
  readonly userKey?: string | readonly string[] | undefined;
  readonly sourceIp?: string;
  /** `METHOD /path` with the path's own values; default: the fixture's GET /v1/whoami. */
  readonly route?: string;
}

const values = (value: string | readonly string[] | undefined): readonly string[] =>
  value === undefined ? [] : typeof value === 'string' ? [value] : value;

/** REST: each key header in both views, several values as API Gateway REST lists them. */
function restEvent(request: Request): APIGatewayRequestAuthorizerEvent {
  const event = structuredClone(restFixture) as unknown as APIGatewayRequestAuthorizerEvent;
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) if (!name.toLowerCase().startsWith('x-api-')) headers[name] = value ?? '';
  for (const [name, list] of Object.entries(event.multiValueHeaders ?? {})) if (!name.toLowerCase().startsWith('x-api-')) multiValueHeaders[name] = list ?? [];
  for (const [name, value] of [['x-api-key', request.accountKey], ['x-api-secret-key', request.userKey]] as const) {
    const given = values(value);
    const last = given.at(-1);
    if (last === undefined) continue;
    headers[name] = last;
    multiValueHeaders[name] = [...given];
  }
  event.headers = headers;
  event.multiValueHeaders = multiValueHeaders;
  if (request.sourceIp !== undefined) event.requestContext.identity.sourceIp = request.sourceIp;
  if (request.route !== undefined) {
    const [method = '', path = ''] = request.route.split(' ');
    event.methodArn = `${event.methodArn.split('/').slice(0, 2).join('/')}/${method}${path}`;
  }
  return event;
}

/** HTTP API: lower-cased headers, several values of one header joined with commas, as payload 2.0 sends them. */
function httpEvent(request: Request, stage?: string): APIGatewayRequestAuthorizerEventV2 {
  const event = structuredClone(httpFixture) as unknown as APIGatewayRequestAuthorizerEventV2;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) if (!name.startsWith('x-api-')) headers[name] = value ?? '';
  for (const [name, value] of [['x-api-key', request.accountKey], ['x-api-secret-key', request.userKey]] as const) {
    const given = values(value);
    if (given.length > 0) headers[name] = given.join(',');
  }
  event.headers = headers;
  if (request.sourceIp !== undefined) event.requestContext.http.sourceIp = request.sourceIp;
  const [apiArn = '', fixtureStage = ''] = event.routeArn.split('/');
  const [method, path] = request.route?.split(' ') ?? [event.requestContext.http.method, event.rawPath];
  event.routeArn = `${apiArn}/${stage ?? fixtureStage}/${method ?? ''}${path ?? ''}`;
  if (stage !== undefined) event.requestContext.stage = stage;
  return event;
}

const ring = new PepperRing([{ version: 1, secret: randomBytes(32) }]);

describe.each([
  { payload: 'REST (1.0)', eventFor: restEvent, stageBase: restFixture.methodArn.split('/').slice(0, 2).join('/') },
  { payload: 'HTTP API (2.0)', eventFor: (r: Request) => httpEvent(r), stageBase: httpFixture.routeArn.split('/').slice(0, 2).join('/') },
])('the authorizer on $payload', ({ payload, eventFor, stageBase }) => {
  let credentials: FakeCredentialStore;
  let handler: ReturnType<typeof createAuthorizerHandler>;

  beforeEach(() => {
    credentials = new FakeCredentialStore();
    handler = createAuthorizerHandler({ credentials, peppers: () => Promise.resolve(ring), logger: quietLogger() });
  });

  function provision(overrides: { role?: Role; cidrs?: string[]; apiEnabled?: boolean } = {}) {
    const accountId = newId();
    const keyId = newId();
    const userId = newId();
    const accountKey = formatAccountKey(accountId);
    const userKey = formatUserKey(accountId, keyId);
    const accountDigest = ring.digest(accountKey);
    const userDigest = ring.digest(userKey);
    credentials.put(accountId, keyId, {
      account: {
        apiEnabled: overrides.apiEnabled ?? true,
        accountKeyHash: accountDigest.hash,
        accountKeyPepperVersion: 1,
        usageIdentifierKey: 'usage-key-value-of-the-account',
      },
      key: { userId, role: overrides.role ?? 'owner', secretHash: userDigest.hash, pepperVersion: userDigest.pepperVersion, cidrs: overrides.cidrs ?? [] },
    });
    return { accountId, keyId, userId, accountKey, userKey };
  }

  const arnOf = (method: string, path: string): string => `${stageBase}/${method}${path.replace(/\{\w+\}/g, () => newId())}`;

  it('allows valid keys with the principal, its context and a policy over every route of the role, on the stage it was asked from', async () => {
    // Prepare
    const { accountId, keyId, userId, accountKey, userKey } = provision({ role: 'viewer' });

    // Act
    const result = await handler(eventFor({ accountKey, userKey }));

    // Assess
    expect(result.principalId).toBe(userId);
    expect(result.context).toMatchObject({ accountId, userId, role: 'viewer', keyId });
    for (const route of ROUTES) {
      const expected = (route.roles as readonly string[]).includes('viewer') ? 'allow' : 'implicit-deny';
      expect(evaluatePolicy(result.policyDocument, arnOf(route.method, route.path)), `${route.method} ${route.path}`).toBe(expected);
    }
  });

  it('answers context values both gateways take: strings and numbers, no objects or arrays (REST refuses those)', async () => {
    // Prepare
    const { accountKey, userKey } = provision();

    // Act
    const result = await handler(eventFor({ accountKey, userKey }));

    // Assess
    for (const value of Object.values(result.context ?? {})) expect(['string', 'number']).toContain(typeof value);
  });

  it.each([
    ['no keys', () => ({})],
    ['the user key missing', (k: Keys) => ({ accountKey: k.accountKey })],
    ['a bad checksum', (k: Keys) => ({ accountKey: k.accountKey, userKey: `${k.userKey.slice(0, -1)}${k.userKey.endsWith('0') ? '1' : '0'}` })],
    ['the account key sent twice', (k: Keys) => ({ accountKey: [k.accountKey, formatAccountKey(newId())], userKey: k.userKey })],
    ['the user key sent twice, the same value both times', (k: Keys) => ({ accountKey: k.accountKey, userKey: [k.userKey, k.userKey, formatUserKey(newId(), newId())] })],
  ])('throws Unauthorized (401) for %s, with no read', async (_case, keysFor) => {
    // Prepare
    const keys = provision();

    // Act
    const outcome = handler(eventFor(keysFor(keys)));

    // Assess
    await expect(outcome).rejects.toThrow(new Error('Unauthorized'));
    expect(credentials.reads).toEqual([]);
  });

  it('throws Unauthorized for an owner of a disabled account outside the API switch routes, and allows only those on them', async () => {
    // Prepare
    const { accountKey, userKey } = provision({ apiEnabled: false });

    // Act
    const elsewhere = handler(eventFor({ accountKey, userKey, route: 'GET /v1/users' }));
    const onSwitch = await handler(eventFor({ accountKey, userKey, route: 'PATCH /v1/account' }));

    // Assess
    await expect(elsewhere).rejects.toThrow(new Error('Unauthorized'));
    expect(evaluatePolicy(onSwitch.policyDocument, `${stageBase}/PATCH/v1/account`)).toBe('allow');
    expect(evaluatePolicy(onSwitch.policyDocument, `${stageBase}/GET/v1/account`)).toBe('allow');
    expect(evaluatePolicy(onSwitch.policyDocument, `${stageBase}/GET/v1/users`)).toBe('implicit-deny');
  });

  it('denies every route (403) to an address outside the allow list, reading the connection\'s address and never X-Forwarded-For', async () => {
    // Prepare: the fixtures' X-Forwarded-For names 10.1.2.3 and 203.0.113.7, both inside the rule.
    const { userId, accountKey, userKey } = provision({ cidrs: ['10.1.2.3/32', '203.0.113.0/24'] });

    // Act
    const outside = await handler(eventFor({ accountKey, userKey, sourceIp: '198.51.100.9' }));
    const inside = await handler(eventFor({ accountKey, userKey, sourceIp: '203.0.113.8' }));

    // Assess
    expect(outside.principalId).toBe(userId);
    expect(outside.context).toBeUndefined();
    for (const route of ROUTES) expect(evaluatePolicy(outside.policyDocument, arnOf(route.method, route.path))).toBe('explicit-deny');
    expect(evaluatePolicy(inside.policyDocument, arnOf('GET', '/v1/whoami'))).toBe('allow');
  });

  it(`${payload === 'REST (1.0)' ? 'passes' : 'leaves out'} the usage identifier key (HTTP API has no usage plans, and its response no such field)`, async () => {
    // Prepare
    const { accountKey, userKey } = provision();

    // Act
    const result: APIGatewayAuthorizerResult = await handler(eventFor({ accountKey, userKey }));

    // Assess
    if (payload === 'REST (1.0)') expect(result.usageIdentifierKey).toBe('usage-key-value-of-the-account');
    else expect(result).not.toHaveProperty('usageIdentifierKey');
  });
});

type Keys = { accountKey: string; userKey: string };

describe('the authorizer on HTTP API stages', () => {
  it.each(['$default', 'prod'])('builds the policy on the route ARN\'s own stage (%s), so HTTP API\'s evaluation of routeArn matches it', async (stage) => {
    // Prepare
    const credentials = new FakeCredentialStore();
    const handler = createAuthorizerHandler({ credentials, peppers: () => Promise.resolve(ring), logger: quietLogger() });
    const accountId = newId();
    const keyId = newId();
    const accountKey = formatAccountKey(accountId);
    const userKey = formatUserKey(accountId, keyId);
    const userDigest = ring.digest(userKey);
    credentials.put(accountId, keyId, {
      account: { apiEnabled: true, accountKeyHash: ring.digest(accountKey).hash, accountKeyPepperVersion: 1 },
      key: { userId: newId(), role: 'owner', secretHash: userDigest.hash, pepperVersion: userDigest.pepperVersion, cidrs: [] },
    });
    const keyToDelete = newId();
    const event = httpEvent({ accountKey, userKey, route: `DELETE /v1/api-keys/${keyToDelete}` }, stage);

    // Act
    const result = await handler(event);

    // Assess
    expect(event.routeArn).toBe(`arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/${stage}/DELETE/v1/api-keys/${keyToDelete}`);
    expect(evaluatePolicy(result.policyDocument, event.routeArn)).toBe('allow');
    const other = stage === '$default' ? 'prod' : '$default';
    expect(evaluatePolicy(result.policyDocument, event.routeArn.replace(`/${stage}/`, `/${other}/`))).toBe('implicit-deny');
  });
});
