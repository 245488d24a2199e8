import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { allowPolicy, apiBaseArn, denyAllPolicy } from '#shared/authorization/policies.ts';
import type { KeyRole } from '#shared/domain/roles.ts';
import { FUNCTION_GROUPS, type FunctionGroup } from '#shared/http/routes.ts';
import { LocalAuthorizerCache } from '#local/gateway/authorizer-cache.ts';
import { createGateway, type AuthorizerFunction, type GatewayRequest, type ProxyHandler } from '#local/gateway/gateway.ts';

/**
 * The emulator in front of a scripted authorizer and recording handlers: each test decides what
 * the authorizer answers and checks what API Gateway REST would make of it.
 */

interface Recorded {
  readonly authorizerEvents: APIGatewayRequestAuthorizerEvent[];
  readonly handlerCalls: { group: FunctionGroup; event: APIGatewayProxyEvent; context: Context }[];
}

type Verdict = { role: KeyRole } | 'deny-source' | 'unauthorized' | 'fault' | APIGatewayAuthorizerResult;

function setUp(options: { verdict?: (event: APIGatewayRequestAuthorizerEvent) => Verdict | Promise<Verdict>; ttl?: number; maxBodyBytes?: number } = {}) {
  const recorded: Recorded = { authorizerEvents: [], handlerCalls: [] };
  const verdict = options.verdict ?? (() => ({ role: 'owner' as const }));
  const authorizer: AuthorizerFunction = async (event) => {
    recorded.authorizerEvents.push(event);
    const outcome = await verdict(event);
    const base = apiBaseArn(event.methodArn);
    if (outcome === 'unauthorized') throw new Error('Unauthorized');
    if (outcome === 'fault') throw new Error('DynamoDB is unreachable');
    if (outcome === 'deny-source') return { principalId: 'user-1', policyDocument: denyAllPolicy(base) };
    if ('role' in outcome) {
      return {
        principalId: 'user-1',
        policyDocument: allowPolicy(outcome.role, base),
        context: { accountId: 'acct-1', userId: 'user-1', role: outcome.role, keyId: 'key-1' },
      };
    }
    return outcome;
  };
  const handlers = Object.fromEntries(
    FUNCTION_GROUPS.map((group) => {
      const handler: ProxyHandler = (event, context) => {
        recorded.handlerCalls.push({ group, event, context });
        return Promise.resolve({
          statusCode: 200,
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ group, resource: event.resource }),
        });
      };
      return [group, handler];
    }),
  ) as Record<FunctionGroup, ProxyHandler>;
  const authorizerCache = new LocalAuthorizerCache(options.ttl ?? 300);
  const gateway = createGateway({
    authorizer,
    handlers,
    authorizerCache,
    ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
  });
  return { gateway, recorded, authorizerCache, handlers };
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

function message(body: string): unknown {
  return (JSON.parse(body) as { message: unknown }).message;
}

describe('routing', () => {
  it('answers an unknown path with 403 Missing Authentication Token, without calling the authorizer', async () => {
    // Prepare
    const { gateway, recorded } = setUp();

    // Act
    const response = await gateway.handle(request({ path: '/v1/nothing-here' }));

    // Assess
    expect(response.status).toBe(403);
    expect(message(response.body)).toBe('Missing Authentication Token');
    expect(response.headers['x-amzn-errortype']).toBe('MissingAuthenticationTokenException');
    expect(recorded.authorizerEvents).toHaveLength(0);
  });

  it('answers a known path with a method it does not have like an unknown path', async () => {
    const { gateway, recorded } = setUp();

    const response = await gateway.handle(request({ method: 'DELETE', path: '/v1/whoami' }));

    expect(response.status).toBe(403);
    expect(message(response.body)).toBe('Missing Authentication Token');
    expect(recorded.authorizerEvents).toHaveLength(0);
  });

  it('does not let a parameter swallow a slash', async () => {
    const { gateway } = setUp();

    const response = await gateway.handle(request({ path: '/v1/api-keys/a/b' }));

    expect(response.status).toBe(403);
    expect(message(response.body)).toBe('Missing Authentication Token');
  });

  it("dispatches to the route's function group with the resource template", async () => {
    const { gateway, recorded } = setUp();

    const response = await gateway.handle(request({ method: 'PUT', path: '/v1/api-keys/key-1/cidr-allow-list/rule-1', body: '{"cidr":"10.0.0.0/8"}' }));

    expect(response.status).toBe(200);
    expect(recorded.handlerCalls.map((c) => c.group)).toEqual(['cidr-allow-list']);
    expect(recorded.handlerCalls[0]?.event.resource).toBe('/v1/api-keys/{keyId}/cidr-allow-list/{ruleId}');
  });
});

describe('identity sources', () => {
  it.each([
    ['no account key', { 'x-api-secret-key': 'user-key-value' }],
    ['no user key', { 'x-api-key': 'account-key-value' }],
    ['an empty account key', { 'x-api-key': '', 'x-api-secret-key': 'user-key-value' }],
    ['an empty user key', { 'x-api-key': 'account-key-value', 'x-api-secret-key': '' }],
    ['no key at all', {}],
  ])('refuses %s with 401 without calling the authorizer', async (_case, headers) => {
    const { gateway, recorded } = setUp();

    const response = await gateway.handle(request({ headers }));

    expect(response.status).toBe(401);
    expect(JSON.parse(response.body)).toEqual({ message: 'Unauthorized' });
    expect(recorded.authorizerEvents).toHaveLength(0);
    expect(recorded.handlerCalls).toHaveLength(0);
  });

  it('finds the key headers whatever their case', async () => {
    const { gateway } = setUp();

    const response = await gateway.handle(request({ headers: { 'X-Api-Key': 'a', 'X-API-SECRET-KEY': 'b' } }));

    expect(response.status).toBe(200);
  });
});

describe('authorizer outcomes', () => {
  it("turns the authorizer's Unauthorized into 401 and does not cache it", async () => {
    const { gateway, recorded } = setUp({ verdict: () => 'unauthorized' });

    const first = await gateway.handle(request());
    const second = await gateway.handle(request());

    expect(first.status).toBe(401);
    expect(JSON.parse(first.body)).toEqual({ message: 'Unauthorized' });
    expect(second.status).toBe(401);
    expect(recorded.authorizerEvents).toHaveLength(2);
    expect(recorded.handlerCalls).toHaveLength(0);
  });

  it('fails closed with 500 {"message":null} on an authorizer fault, and does not cache it', async () => {
    let calls = 0;
    const { gateway, recorded } = setUp({ verdict: () => (++calls === 1 ? 'fault' : { role: 'owner' }) });

    const failed = await gateway.handle(request());
    const retried = await gateway.handle(request());

    expect(failed.status).toBe(500);
    expect(JSON.parse(failed.body)).toEqual({ message: null });
    expect(retried.status).toBe(200);
    expect(recorded.authorizerEvents).toHaveLength(2);
    expect(recorded.handlerCalls).toHaveLength(1);
  });

  it('answers an explicit Deny with 403 "...with an explicit deny"', async () => {
    const { gateway, recorded } = setUp({ verdict: () => 'deny-source' });

    const response = await gateway.handle(request());

    expect(response.status).toBe(403);
    expect(message(response.body)).toBe('User is not authorized to access this resource with an explicit deny');
    expect(recorded.handlerCalls).toHaveLength(0);
  });

  it('answers a route the policy does not allow with 403 (implicit deny)', async () => {
    const { gateway, recorded } = setUp({ verdict: () => ({ role: 'viewer' }) });

    const response = await gateway.handle(request({ method: 'POST', path: '/v1/api-keys', body: '{}' }));

    expect(response.status).toBe(403);
    expect(message(response.body)).toBe('User is not authorized to access this resource');
    expect(recorded.handlerCalls).toHaveLength(0);
  });

  it.each([
    ['no principalId', { policyDocument: { Version: '2012-10-17', Statement: [] } }],
    ['no policy', { principalId: 'user-1' }],
    [
      'a context value that is an object',
      {
        principalId: 'user-1',
        policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: '*' }] },
        context: { nested: { a: 1 } },
      },
    ],
  ])('refuses a malformed authorizer result (%s) with 500', async (_case, result) => {
    const { gateway, recorded } = setUp({ verdict: () => result as unknown as APIGatewayAuthorizerResult });

    const response = await gateway.handle(request());

    expect(response.status).toBe(500);
    expect(JSON.parse(response.body)).toEqual({ message: null });
    expect(recorded.handlerCalls).toHaveLength(0);
  });
});

describe('the events the functions receive', () => {
  it('gives the authorizer a REQUEST event with the method ARN, the headers and the source address', async () => {
    const { gateway, recorded } = setUp();

    await gateway.handle(
      request({ method: 'GET', path: '/v1/api-keys/k%2D1', query: 'a=1&a=2&b=x%20y', sourceIp: '127.0.0.2' }),
    );

    const event = recorded.authorizerEvents[0];
    expect(event).toMatchObject({
      type: 'REQUEST',
      methodArn: 'arn:aws:execute-api:local:000000000000:local/local/GET/v1/api-keys/k%2D1',
      resource: '/v1/api-keys/{keyId}',
      path: '/v1/api-keys/k%2D1',
      httpMethod: 'GET',
      headers: { 'x-api-key': 'account-key-value', 'x-api-secret-key': 'user-key-value' },
      pathParameters: { keyId: 'k-1' },
      queryStringParameters: { a: '2', b: 'x y' },
      multiValueQueryStringParameters: { a: ['1', '2'], b: ['x y'] },
      requestContext: { stage: 'local', identity: { sourceIp: '127.0.0.2' } },
    });
  });

  it('gives the handler a proxy event with the decoded path parameters and the authorizer context', async () => {
    const { gateway, recorded } = setUp({ verdict: () => ({ role: 'owner' }) });

    await gateway.handle(
      request({
        method: 'DELETE',
        path: '/v1/api-keys/key%201/cidr-allow-list/rule-1',
        headers: { 'x-api-key': 'a', 'x-api-secret-key': 'b', 'x-multi': ['one', 'two'] },
      }),
    );

    const call = recorded.handlerCalls[0];
    expect(call?.group).toBe('cidr-allow-list');
    expect(call?.event).toMatchObject({
      resource: '/v1/api-keys/{keyId}/cidr-allow-list/{ruleId}',
      path: '/v1/api-keys/key%201/cidr-allow-list/rule-1',
      httpMethod: 'DELETE',
      body: null,
      isBase64Encoded: false,
      pathParameters: { keyId: 'key 1', ruleId: 'rule-1' },
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      headers: { 'x-multi': 'two' },
      multiValueHeaders: { 'x-multi': ['one', 'two'] },
      requestContext: {
        stage: 'local',
        identity: { sourceIp: '127.0.0.1' },
        authorizer: { accountId: 'acct-1', userId: 'user-1', role: 'owner', keyId: 'key-1', principalId: 'user-1' },
      },
    });
    expect(call?.event.requestContext.requestId).toBe(call?.context.awsRequestId);
    expect(call?.context.functionName).toBe('latchkey-cidr-allow-list');
  });

  it('takes the source address from the connection only, never from forwarding headers', async () => {
    const { gateway, recorded } = setUp();

    await gateway.handle(
      request({
        sourceIp: '127.0.0.2',
        headers: {
          'x-api-key': 'a',
          'x-api-secret-key': 'b',
          'x-forwarded-for': '10.0.0.1',
          forwarded: 'for=10.0.0.1',
          'x-real-ip': '10.0.0.1',
        },
      }),
    );

    expect(recorded.authorizerEvents[0]?.requestContext.identity.sourceIp).toBe('127.0.0.2');
    expect(recorded.handlerCalls[0]?.event.requestContext.identity.sourceIp).toBe('127.0.0.2');
  });

  it('treats header and query names that exist on Object.prototype as plain names', async () => {
    const { gateway, recorded } = setUp();

    const response = await gateway.handle(
      request({
        query: 'constructor=a&__proto__=b&valueOf=c',
        headers: { 'x-api-key': 'a', 'x-api-secret-key': 'b', constructor: 'x', __proto__: 'y', tostring: 'z' },
      }),
    );

    expect(response.status).toBe(200);
    const event = recorded.handlerCalls[0]?.event;
    expect(event?.queryStringParameters).toEqual({ constructor: 'a', ['__proto__']: 'b', valueOf: 'c' });
    expect(Object.getOwnPropertyDescriptor(event?.headers, 'constructor')?.value).toBe('x');
    expect(Object.getOwnPropertyDescriptor(event?.multiValueHeaders, 'tostring')?.value).toEqual(['z']);
  });

  it("passes the handler's status, headers and body through", async () => {
    const { gateway } = setUp();

    const response = await gateway.handle(request({ method: 'POST', path: '/v1/users', body: '{"name":"x"}' }));

    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(JSON.parse(response.body)).toEqual({ group: 'users', resource: '/v1/users' });
  });

  it("hides a handler's exception behind 502", async () => {
    const { gateway, handlers } = setUp();
    handlers.whoami = () => Promise.reject(new Error('boom: internal detail'));

    const response = await gateway.handle(request());

    expect(response.status).toBe(502);
    expect(response.body).not.toContain('internal detail');
  });
});

describe('body size', () => {
  it('refuses a body over the limit with 413 before authorizing', async () => {
    const { gateway, recorded } = setUp({ maxBodyBytes: 16 });

    const response = await gateway.handle(request({ method: 'POST', path: '/v1/users', body: 'x'.repeat(17) }));

    expect(response.status).toBe(413);
    expect(JSON.parse(response.body)).toEqual({ message: 'Request Entity Too Large' });
    expect(recorded.authorizerEvents).toHaveLength(0);
  });

  it('counts bytes, not characters', async () => {
    const { gateway } = setUp({ maxBodyBytes: 16 });

    const response = await gateway.handle(request({ method: 'POST', path: '/v1/users', body: 'é'.repeat(9) }));

    expect(response.status).toBe(413);
  });

  it('accepts a body at the limit', async () => {
    const { gateway } = setUp({ maxBodyBytes: 16 });

    const response = await gateway.handle(request({ method: 'POST', path: '/v1/users', body: 'x'.repeat(16) }));

    expect(response.status).toBe(200);
  });
});

describe('authorizer cache', () => {
  it('reuses a cached Allow for the same identity and evaluates it against each route', async () => {
    const { gateway, recorded } = setUp({ verdict: () => ({ role: 'viewer' }) });

    const read = await gateway.handle(request({ path: '/v1/users' }));
    const write = await gateway.handle(request({ method: 'POST', path: '/v1/users', body: '{}' }));

    expect(read.status).toBe(200);
    expect(write.status).toBe(403);
    expect(recorded.authorizerEvents).toHaveLength(1);
  });

  it('keys the cache on the source address too', async () => {
    const { gateway, recorded } = setUp({ verdict: (event) => (event.requestContext.identity.sourceIp === '127.0.0.1' ? { role: 'owner' } : 'deny-source') });

    const allowed = await gateway.handle(request({ sourceIp: '127.0.0.1' }));
    const other = await gateway.handle(request({ sourceIp: '127.0.0.2' }));

    expect(allowed.status).toBe(200);
    expect(other.status).toBe(403);
    expect(recorded.authorizerEvents).toHaveLength(2);
  });

  it('keys the cache on each key header', async () => {
    const { gateway, recorded } = setUp();

    await gateway.handle(request({ headers: { 'x-api-key': 'a', 'x-api-secret-key': 'b' } }));
    await gateway.handle(request({ headers: { 'x-api-key': 'a', 'x-api-secret-key': 'c' } }));
    await gateway.handle(request({ headers: { 'x-api-key': 'd', 'x-api-secret-key': 'b' } }));
    await gateway.handle(request({ headers: { 'x-api-key': 'a', 'x-api-secret-key': 'b' } }));

    expect(recorded.authorizerEvents).toHaveLength(3);
  });

  it('caches nothing with a TTL of 0', async () => {
    const { gateway, recorded } = setUp({ ttl: 0 });

    await gateway.handle(request());
    await gateway.handle(request());

    expect(recorded.authorizerEvents).toHaveLength(2);
  });

  it('calls the authorizer again after a flush', async () => {
    let role: KeyRole = 'owner';
    const { gateway, recorded, authorizerCache } = setUp({ verdict: () => ({ role }) });
    await gateway.handle(request({ method: 'POST', path: '/v1/users', body: '{}' }));

    role = 'viewer';
    await authorizerCache.flush();
    const response = await gateway.handle(request({ method: 'POST', path: '/v1/users', body: '{}' }));

    expect(response.status).toBe(403);
    expect(recorded.authorizerEvents).toHaveLength(2);
  });

  it('does not store a decision that was being made while the cache was flushed', async () => {
    let release: () => void = () => undefined;
    let first = true;
    const { gateway, recorded, authorizerCache } = setUp({
      verdict: async () => {
        if (first) {
          first = false;
          await new Promise<void>((resolve) => {
            release = resolve;
          });
        }
        return { role: 'owner' };
      },
    });

    const inFlight = gateway.handle(request());
    await vi.waitFor(() => {
      expect(recorded.authorizerEvents).toHaveLength(1);
    });
    await authorizerCache.flush();
    release();
    await inFlight;
    await gateway.handle(request());

    expect(recorded.authorizerEvents).toHaveLength(2);
  });

  it('expires entries after the TTL', () => {
    let now = 1_000_000;
    const cache = new LocalAuthorizerCache(60, () => now);
    const policy = { principalId: 'u', policyDocument: { Version: '2012-10-17', Statement: [] }, context: {} };
    cache.put('k', policy, cache.generation);

    now += 59_999;
    const fresh = cache.get('k');
    now += 1;
    const expired = cache.get('k');

    expect(fresh).toBe(policy);
    expect(expired).toBeUndefined();
  });

  it('refuses a TTL API Gateway would not take', () => {
    expect(() => new LocalAuthorizerCache(-1)).toThrow();
    expect(() => new LocalAuthorizerCache(3601)).toThrow();
    expect(() => new LocalAuthorizerCache(1.5)).toThrow();
  });

  it('keeps no secret in its keys', () => {
    const key = LocalAuthorizerCache.key(['lka_secretvalue'], ['lks_secretvalue'], '127.0.0.1');

    expect(key).not.toContain('secretvalue');
    expect(key).not.toBe(LocalAuthorizerCache.key(['lka_secretvalue'], ['lks_secretvalue'], '127.0.0.2'));
  });
});
