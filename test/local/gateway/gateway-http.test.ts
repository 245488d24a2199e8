import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEventV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { allowPolicy, apiBaseArn, denyAllPolicy } from '#shared/authorization/policies.ts';
import type { KeyRole } from '#shared/domain/roles.ts';
import { FUNCTION_GROUPS, type FunctionGroup } from '#shared/http/routes.ts';
import { MethodThrottle } from '#local/gateway/account-limiter.ts';
import { LocalAuthorizerCache } from '#local/gateway/authorizer-cache.ts';
import { createGateway, type GatewayRequest, type HttpApiAuthorizerFunction, type HttpApiProxyHandler } from '#local/gateway/gateway.ts';
import type { HttpApiProxyEvent } from '#local/gateway/http-api-event.ts';

/**
 * The emulator's `http` flavor (API Gateway's HTTP API) in front of a scripted authorizer and
 * recording handlers: payload format 2.0 both ways, HTTP API's own answers, a route throttle on
 * the routes without keys and no usage plans.
 */

type Verdict = { role: KeyRole } | 'deny-source' | 'unauthorized' | 'fault' | APIGatewayAuthorizerResult;

function setUp(options: { verdict?: (event: APIGatewayRequestAuthorizerEventV2) => Verdict; handlerResult?: unknown; throttle?: MethodThrottle } = {}) {
  const authorizerEvents: APIGatewayRequestAuthorizerEventV2[] = [];
  const handlerCalls: { group: FunctionGroup; event: HttpApiProxyEvent; context: Context }[] = [];
  const verdict = options.verdict ?? (() => ({ role: 'owner' as const }));
  const authorizer: HttpApiAuthorizerFunction = (event) => {
    authorizerEvents.push(event);
    const outcome = verdict(event);
    const base = apiBaseArn(event.routeArn);
    if (outcome === 'unauthorized') return Promise.reject(new Error('Unauthorized'));
    if (outcome === 'fault') return Promise.reject(new Error('DynamoDB is unreachable'));
    if (outcome === 'deny-source') return Promise.resolve({ principalId: 'user-1', policyDocument: denyAllPolicy(base) });
    if ('role' in outcome) {
      return Promise.resolve({
        principalId: 'user-1',
        policyDocument: allowPolicy(outcome.role, base),
        context: { accountId: 'acct-1', userId: 'user-1', role: outcome.role, keyId: 'key-1' },
      });
    }
    return Promise.resolve(outcome);
  };
  const handlers = Object.fromEntries(
    FUNCTION_GROUPS.map((group) => {
      const handler: HttpApiProxyHandler = (event, context) => {
        handlerCalls.push({ group, event, context });
        return Promise.resolve(options.handlerResult ?? { statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ group, routeKey: event.routeKey }) });
      };
      return [group, handler];
    }),
  ) as Record<FunctionGroup, HttpApiProxyHandler>;
  const gateway = createGateway({
    flavor: 'http',
    authorizer,
    handlers,
    authorizerCache: new LocalAuthorizerCache(300),
    ...(options.throttle === undefined ? {} : { publicRouteThrottle: options.throttle }),
  });
  return { gateway, authorizerEvents, handlerCalls };
}

function request(overrides: Partial<GatewayRequest> = {}): GatewayRequest {
  return {
    method: 'GET',
    path: '/v1/whoami',
    headers: { 'x-api-key': 'account-key-value', 'x-api-secret-key': 'user-key-value' },
    sourceIp: '127.0.0.1',
    ...overrides,
  };
}

function bodyOf(response: { body: string }): unknown {
  return JSON.parse(response.body) as unknown;
}

describe("HTTP API's own answers", () => {
  it('answers a path no route matches with 404 Not Found, without calling the authorizer', async () => {
    const { gateway, authorizerEvents } = setUp();

    const unknownPath = await gateway.handle(request({ path: '/v1/nothing-here' }));
    const unknownMethod = await gateway.handle(request({ method: 'DELETE' }));

    for (const response of [unknownPath, unknownMethod]) {
      expect(response.status).toBe(404);
      expect(bodyOf(response)).toEqual({ message: 'Not Found' });
      expect(response.headers['x-amzn-errortype']).toBeUndefined();
      expect(typeof response.headers['apigw-requestid']).toBe('string');
    }
    expect(authorizerEvents).toHaveLength(0);
  });

  it.each([
    ['no account key', { 'x-api-secret-key': 'user-key-value' }],
    ['no user key', { 'x-api-key': 'account-key-value' }],
    ['an empty user key', { 'x-api-key': 'account-key-value', 'x-api-secret-key': '' }],
  ])('answers a request with %s 401 without calling the authorizer (an identity source is missing)', async (_, headers) => {
    const { gateway, authorizerEvents } = setUp();

    const response = await gateway.handle(request({ headers }));

    expect(response.status).toBe(401);
    expect(bodyOf(response)).toEqual({ message: 'Unauthorized' });
    expect(authorizerEvents).toHaveLength(0);
  });

  it("turns the authorizer's Unauthorized into 401", async () => {
    const { gateway, handlerCalls } = setUp({ verdict: () => 'unauthorized' });

    const response = await gateway.handle(request());

    expect(response.status).toBe(401);
    expect(bodyOf(response)).toEqual({ message: 'Unauthorized' });
    expect(handlerCalls).toHaveLength(0);
  });

  it('answers an explicit Deny and a route the policy leaves out alike: 403 Forbidden', async () => {
    const denied = setUp({ verdict: () => 'deny-source' });
    const viewer = setUp({ verdict: () => ({ role: 'viewer' }) });

    const explicit = await denied.gateway.handle(request());
    const implicit = await viewer.gateway.handle(request({ method: 'POST', path: '/v1/users', body: '{}' }));

    for (const response of [explicit, implicit]) {
      expect(response.status).toBe(403);
      expect(bodyOf(response)).toEqual({ message: 'Forbidden' });
    }
    expect(denied.handlerCalls).toHaveLength(0);
    expect(viewer.handlerCalls).toHaveLength(0);
  });

  it('fails closed with 500 Internal Server Error on an authorizer fault or a malformed result', async () => {
    const fault = setUp({ verdict: () => 'fault' });
    const malformed = setUp({ verdict: () => ({ principalId: '', policyDocument: { Version: '2012-10-17', Statement: [] } }) });

    for (const { gateway, handlerCalls } of [fault, malformed]) {
      const response = await gateway.handle(request());
      expect(response.status).toBe(500);
      expect(bodyOf(response)).toEqual({ message: 'Internal Server Error' });
      expect(handlerCalls).toHaveLength(0);
    }
  });

  it("hides a handler's exception behind 500 Internal Server Error", async () => {
    const failingHandler: HttpApiProxyHandler = () => Promise.reject(new Error('boom'));
    const failing = createGateway({
      flavor: 'http',
      authorizer: () => Promise.resolve({ principalId: 'u', policyDocument: allowPolicy('owner', 'arn:aws:execute-api:local:000000000000:local/local') }),
      handlers: Object.fromEntries(FUNCTION_GROUPS.map((g) => [g, failingHandler])) as Record<FunctionGroup, HttpApiProxyHandler>,
      authorizerCache: new LocalAuthorizerCache(0),
    });

    const response = await failing.handle(request());

    expect(response.status).toBe(500);
    expect(bodyOf(response)).toEqual({ message: 'Internal Server Error' });
  });

  it('throttles a route without keys for every caller together, as a route throttle: 429 Too Many Requests, no invocation', async () => {
    const throttle = new MethodThrottle({ rateLimit: 1, burstLimit: 2 }, { now: () => 0 });
    const { gateway, handlerCalls, authorizerEvents } = setUp({ throttle });
    const report = (from: string) => gateway.handle(request({ method: 'POST', path: '/v1/leaked-keys', headers: {}, body: '{"keys":["x"]}', sourceIp: from }));

    const answers = [await report('127.0.0.1'), await report('127.0.0.2'), await report('127.0.0.3')];

    expect(answers.map((a) => a.status)).toEqual([200, 200, 429]);
    expect(bodyOf(answers[2] ?? { body: '{}' })).toEqual({ message: 'Too Many Requests' });
    expect(handlerCalls).toHaveLength(2);
    expect(authorizerEvents).toHaveLength(0);
  });
});

describe('payload format 2.0', () => {
  it('gives the authorizer its route ARN, route key and identity sources: both keys and the source address', async () => {
    const { gateway, authorizerEvents } = setUp();

    await gateway.handle(request({ path: '/v1/api-keys/key-1', query: 'a=1&a=2', sourceIp: '127.0.0.2', headers: { 'X-Api-Key': 'acct', 'x-api-secret-key': 'user', 'user-agent': 'curl/8' } }));

    const event = authorizerEvents[0];
    expect(event).toMatchObject({
      version: '2.0',
      type: 'REQUEST',
      routeArn: 'arn:aws:execute-api:local:000000000000:local/local/GET/v1/api-keys/key-1',
      identitySource: ['acct', 'user', '127.0.0.2'],
      routeKey: 'GET /v1/api-keys/{keyId}',
      rawPath: '/local/v1/api-keys/key-1',
      rawQueryString: 'a=1&a=2',
      headers: { 'x-api-key': 'acct', 'x-api-secret-key': 'user', 'user-agent': 'curl/8' },
      queryStringParameters: { a: '1,2' },
      pathParameters: { keyId: 'key-1' },
      requestContext: { http: { method: 'GET', path: '/local/v1/api-keys/key-1', sourceIp: '127.0.0.2', userAgent: 'curl/8' }, routeKey: 'GET /v1/api-keys/{keyId}', stage: 'local' },
    });
    expect(event).not.toHaveProperty('methodArn');
    expect(event).not.toHaveProperty('multiValueHeaders');
  });

  it('takes the source address from the connection only, never from forwarding headers', async () => {
    const { gateway, authorizerEvents, handlerCalls } = setUp();

    await gateway.handle(request({ headers: { 'x-api-key': 'a', 'x-api-secret-key': 'u', 'x-forwarded-for': '10.0.0.1', forwarded: 'for=10.0.0.1' } }));

    expect(authorizerEvents[0]?.identitySource[2]).toBe('127.0.0.1');
    expect(authorizerEvents[0]?.requestContext.http.sourceIp).toBe('127.0.0.1');
    expect(handlerCalls[0]?.event.requestContext.http.sourceIp).toBe('127.0.0.1');
  });

  it("gives the handler the authorizer's context at requestContext.authorizer.lambda", async () => {
    const { gateway, handlerCalls } = setUp();

    const response = await gateway.handle(request({ method: 'PUT', path: '/v1/api-keys/key-1/cidr-allow-list/rule%201', body: '{"cidr":"10.0.0.0/8"}' }));

    expect(response.status).toBe(200);
    expect(handlerCalls.map((c) => c.group)).toEqual(['cidr-allow-list']);
    const event = handlerCalls[0]?.event;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'PUT /v1/api-keys/{keyId}/cidr-allow-list/{ruleId}',
      rawPath: '/local/v1/api-keys/key-1/cidr-allow-list/rule%201',
      pathParameters: { keyId: 'key-1', ruleId: 'rule 1' },
      body: '{"cidr":"10.0.0.0/8"}',
      isBase64Encoded: false,
      requestContext: { authorizer: { lambda: { accountId: 'acct-1', userId: 'user-1', role: 'owner', keyId: 'key-1' } } },
    });
  });

  it('gives a route without keys an event with no authorizer at all', async () => {
    const { gateway, handlerCalls } = setUp();

    await gateway.handle(request({ method: 'POST', path: '/v1/leaked-keys', headers: {}, body: '{"keys":[]}' }));

    expect(handlerCalls[0]?.event.requestContext).not.toHaveProperty('authorizer');
  });

  it('joins a repeated header with commas and keeps cookies apart', async () => {
    const { gateway, handlerCalls } = setUp();

    await gateway.handle(request({ headers: { 'x-api-key': 'a', 'x-api-secret-key': 'u', accept: ['text/plain', 'application/json'], cookie: 'a=1; b=2' } }));

    const event = handlerCalls[0]?.event;
    expect(event?.headers.accept).toBe('text/plain,application/json');
    expect(event?.cookies).toEqual(['a=1', 'b=2']);
    expect(event?.headers).not.toHaveProperty('cookie');
  });

  it('passes a repeated key header to the authorizer joined, for it to refuse', async () => {
    const { gateway, authorizerEvents } = setUp();

    await gateway.handle(request({ headers: { 'x-api-key': ['a', 'b'], 'x-api-secret-key': 'u' } }));

    expect(authorizerEvents[0]?.identitySource[0]).toBe('a,b');
    expect(authorizerEvents[0]?.headers?.['x-api-key']).toBe('a,b');
  });

  it("reads the handler's 2.0 answer: status, headers and cookies, or a bare value as a 200 JSON body", async () => {
    const structured = setUp({ handlerResult: { statusCode: 201, headers: { 'X-Thing': 'yes' }, cookies: ['s=1; Secure'], body: 'made' } });
    const bare = setUp({ handlerResult: { hello: 'world' } });
    const malformed = setUp({ handlerResult: { statusCode: 'ok' } });

    const made = await structured.gateway.handle(request());
    const inferred = await bare.gateway.handle(request());
    const broken = await malformed.gateway.handle(request());

    expect(made).toMatchObject({ status: 201, body: 'made', headers: { 'x-thing': 'yes', 'set-cookie': ['s=1; Secure'] } });
    expect(inferred).toMatchObject({ status: 200, body: '{"hello":"world"}', headers: { 'content-type': 'application/json' } });
    expect(broken.status).toBe(500);
  });
});

describe('no usage plans', () => {
  it('has no per-account limiter to pass: every authorized request reaches its handler', async () => {
    const { gateway, handlerCalls } = setUp();

    for (let i = 0; i < 50; i += 1) expect((await gateway.handle(request())).status).toBe(200);

    expect(handlerCalls).toHaveLength(50);
  });
});

describe('authorizer cache', () => {
  it('caches per identity (both keys and the source address) and evaluates the cached policy against each route', async () => {
    const { gateway, authorizerEvents } = setUp({ verdict: () => ({ role: 'viewer' }) });

    const read = await gateway.handle(request({ path: '/v1/users' }));
    const write = await gateway.handle(request({ method: 'POST', path: '/v1/users', body: '{}' }));
    const elsewhere = await gateway.handle(request({ path: '/v1/users', sourceIp: '127.0.0.2' }));

    expect([read.status, write.status, elsewhere.status]).toEqual([200, 403, 200]);
    expect(authorizerEvents).toHaveLength(2);
  });
});
