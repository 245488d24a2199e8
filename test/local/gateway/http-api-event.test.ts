import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  clfTime,
  httpApiAuthorizedEvent,
  httpApiAuthorizerEvent,
  httpApiHeaders,
  httpApiPublicEvent,
  httpApiQuery,
  type HttpApiRequestFacts,
} from '#local/gateway/http-api-event.ts';

/**
 * The `http` flavor's events against the shapes AWS documents for payload format 2.0: the
 * Lambda authorizer's event (http-api-lambda-authorizer.html) and the Lambda integration's
 * (http-api-develop-integrations-lambda.html). The samples below are the documented ones, less
 * the mutual-TLS `authentication` block (the local gateway has no client certificates).
 */

const DOCUMENTED_AUTHORIZER_EVENT = {
  version: '2.0',
  type: 'REQUEST',
  routeArn: 'arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request',
  identitySource: ['user1', '123'],
  routeKey: '$default',
  rawPath: '/my/path',
  rawQueryString: 'parameter1=value1&parameter1=value2&parameter2=value',
  cookies: ['cookie1', 'cookie2'],
  headers: { header1: 'value1', header2: 'value2' },
  queryStringParameters: { parameter1: 'value1,value2', parameter2: 'value' },
  requestContext: {
    accountId: '123456789012',
    apiId: 'api-id',
    domainName: 'id.execute-api.us-east-1.amazonaws.com',
    domainPrefix: 'id',
    http: { method: 'POST', path: '/my/path', protocol: 'HTTP/1.1', sourceIp: 'IP', userAgent: 'agent' },
    requestId: 'id',
    routeKey: '$default',
    stage: '$default',
    time: '12/Mar/2020:19:03:58 +0000',
    timeEpoch: 1583348638390,
  },
  pathParameters: { parameter1: 'value1' },
  stageVariables: { stageVariable1: 'value1', stageVariable2: 'value2' },
};

const DOCUMENTED_PROXY_EVENT = {
  version: '2.0',
  routeKey: '$default',
  rawPath: '/my/path',
  rawQueryString: 'parameter1=value1&parameter1=value2&parameter2=value',
  cookies: ['cookie1', 'cookie2'],
  headers: { header1: 'value1', header2: 'value1,value2' },
  queryStringParameters: { parameter1: 'value1,value2', parameter2: 'value' },
  requestContext: {
    accountId: '123456789012',
    apiId: 'api-id',
    authorizer: { jwt: { claims: { claim1: 'value1' }, scopes: ['scope1'] } },
    domainName: 'id.execute-api.us-east-1.amazonaws.com',
    domainPrefix: 'id',
    http: { method: 'POST', path: '/my/path', protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'agent' },
    requestId: 'id',
    routeKey: '$default',
    stage: '$default',
    time: '12/Mar/2020:19:03:58 +0000',
    timeEpoch: 1583348638390,
  },
  body: 'Hello from Lambda',
  pathParameters: { parameter1: 'value1' },
  isBase64Encoded: false,
  stageVariables: { stageVariable1: 'value1', stageVariable2: 'value2' },
};

/** Every key path of a value (`requestContext.http.sourceIp`), arrays and records of values taken as leaves. */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const isRecordOfValues = ['headers', 'queryStringParameters', 'pathParameters', 'stageVariables', 'lambda', 'jwt'].includes(key);
    return isRecordOfValues ? [path] : [path, ...keyPaths(child, path)];
  });
}

function typesOf(value: unknown): Record<string, string> {
  const types: Record<string, string> = {};
  for (const path of keyPaths(value)) {
    const leaf = path.split('.').reduce<unknown>((at, key) => (at as Record<string, unknown>)[key], value);
    types[path] = Array.isArray(leaf) ? 'array' : typeof leaf;
  }
  return types;
}

const FACTS: HttpApiRequestFacts = {
  awsAccountId: '000000000000',
  apiId: 'local',
  stage: 'local',
  requestId: 'req-1',
  startedAt: Date.UTC(2026, 11, 6, 12, 3, 58),
  method: 'POST',
  path: '/v1/api-keys/key-1/cidr-allow-list',
  routePath: '/v1/api-keys/{keyId}/cidr-allow-list',
  pathParameters: { keyId: 'key-1' },
  query: 'parameter1=value1&parameter1=value2&parameter2=value',
  headers: { Host: 'localhost:3000', 'User-Agent': 'curl/8', 'x-api-key': 'acct', 'x-api-secret-key': 'user', Cookie: 'cookie1; cookie2' },
  sourceIp: '127.0.0.1',
};

/** What the local gateway leaves out, and why: no stage variables, no mutual TLS. */
const NOT_EMULATED = new Set(['stageVariables']);

describe("the authorizer's event", () => {
  it('has every field of the documented 2.0 sample, with the same types, and no other', () => {
    const built = httpApiAuthorizerEvent(FACTS, 'arn:aws:execute-api:local:000000000000:local/local/POST/v1/api-keys/key-1/cidr-allow-list', ['acct', 'user', '127.0.0.1']);

    const expected = Object.fromEntries(Object.entries(typesOf(DOCUMENTED_AUTHORIZER_EVENT)).filter(([path]) => !NOT_EMULATED.has(path)));
    expect(typesOf(built)).toEqual(expected);
  });

  it('carries cookies as an (empty) array even when none were sent, as the authorizer event type declares', () => {
    const built = httpApiAuthorizerEvent({ ...FACTS, headers: { 'x-api-key': 'a', 'x-api-secret-key': 'u' } }, 'arn:aws:execute-api:local:0:local/local/GET/v1/whoami', ['a', 'u', '127.0.0.1']);

    expect(built.cookies).toEqual([]);
  });
});

describe("the Lambda integration's event", () => {
  it('has every field of the documented 2.0 sample, the Lambda authorizer in place of the JWT one', () => {
    const built = httpApiAuthorizedEvent(FACTS, 'Hello from Lambda', { accountId: 'a' });

    const documented = typesOf(DOCUMENTED_PROXY_EVENT);
    delete documented['requestContext.authorizer.jwt'];
    documented['requestContext.authorizer.lambda'] = 'object';
    const expected = Object.fromEntries(Object.entries(documented).filter(([path]) => !NOT_EMULATED.has(path)));
    expect(typesOf(built)).toEqual(expected);
  });

  it('has no authorizer and no body where there is none', () => {
    const built = httpApiPublicEvent({ ...FACTS, pathParameters: null, query: undefined, headers: {} }, null);

    expect(built.requestContext).not.toHaveProperty('authorizer');
    expect(built).not.toHaveProperty('body');
    expect(built).not.toHaveProperty('pathParameters');
    expect(built).not.toHaveProperty('queryStringParameters');
    expect(built).not.toHaveProperty('cookies');
    expect(built.rawQueryString).toBe('');
  });
});

/** The project's own 2.0 samples (test/events/), as the authorizer's and the handlers' tests read them. */
function sample(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(`test/events/${name}`, 'utf8')) as Record<string, unknown>;
}

/**
 * An event less `requestContext.time`: the samples' time is a day off their `timeEpoch`
 * (1795854730000 is 28 Nov 2026, 08:32:10 UTC); the builder derives one from the other.
 */
function withoutTime(event: object): unknown {
  const { requestContext, ...rest } = event as { requestContext: Record<string, unknown> };
  const { time: _time, ...context } = requestContext;
  return { ...rest, requestContext: context };
}

describe("against the samples the functions' tests use", () => {
  const deployed = {
    awsAccountId: '123456789012',
    apiId: 'a1b2c3d4e5',
    stage: '$default',
    requestId: 'ZhNHJhhLjoEEPiw=',
    startedAt: 1795854730000,
    sourceIp: '203.0.113.7',
  };
  const headers = {
    accept: 'application/json',
    'content-length': '0',
    host: 'a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com',
    'user-agent': 'curl/8.5.0',
    'x-amzn-trace-id': 'Root=1-6752f3a1-2b4257df30cbee696ef2cf28',
    'x-forwarded-for': '10.1.2.3, 203.0.113.7',
    'x-forwarded-port': '443',
    'x-forwarded-proto': 'https',
  };

  it("builds the authorizer's sample event from the same request (cookies aside: the type makes them a list)", () => {
    const keys = { 'x-api-key': 'REPLACED-BY-TEST', 'x-api-secret-key': 'REPLACED-BY-TEST' };
    const facts: HttpApiRequestFacts = { ...deployed, method: 'GET', path: '/v1/whoami', routePath: '/v1/whoami', pathParameters: null, query: undefined, headers: { ...headers, ...keys } };

    const { cookies, ...built } = httpApiAuthorizerEvent(facts, 'arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/$default/GET/v1/whoami', ['REPLACED-BY-TEST', 'REPLACED-BY-TEST', '203.0.113.7']);

    expect(withoutTime(built)).toEqual(withoutTime(sample('http-api-authorizer-request.json')));
    expect(built.requestContext.time).toBe('28/Nov/2026:08:32:10 +0000');
    expect(cookies).toEqual([]);
  });

  it("builds the integration's sample event from the same request", () => {
    const facts: HttpApiRequestFacts = {
      ...deployed,
      method: 'GET',
      path: '/v1/api-keys',
      routePath: '/v1/api-keys',
      pathParameters: null,
      query: 'limit=10&userId=0123456789abcdef',
      headers: { ...headers, cookie: 'theme=dark; session=opaque' },
    };
    const context = { accountId: 'REPLACED-BY-TEST', userId: 'REPLACED-BY-TEST', role: 'owner', keyId: 'REPLACED-BY-TEST' };

    expect(withoutTime(httpApiAuthorizedEvent(facts, null, context))).toEqual(withoutTime(sample('http-api-proxy-request.json')));
  });
});

describe('the parts', () => {
  it("puts a named stage's segment in front of the path, as HTTP API does, and nothing for $default", () => {
    expect(httpApiPublicEvent({ ...FACTS, stage: 'prod' }, null)).toMatchObject({ rawPath: '/prod/v1/api-keys/key-1/cidr-allow-list', requestContext: { http: { path: '/prod/v1/api-keys/key-1/cidr-allow-list' } } });
    expect(httpApiPublicEvent({ ...FACTS, stage: '$default' }, null)).toMatchObject({ rawPath: '/v1/api-keys/key-1/cidr-allow-list', requestContext: { stage: '$default' } });
  });

  it('lower-cases header names and joins repeated ones with commas, as the documented sample shows', () => {
    const { headers } = httpApiHeaders({ Header2: ['value1', 'value2'], 'X-Api-Key': 'k' });

    expect(headers).toEqual({ header2: 'value1,value2', 'x-api-key': 'k' });
  });

  it('keeps a header named like an Object.prototype member as data', () => {
    const { headers } = httpApiHeaders(JSON.parse('{"__proto__":"p","constructor":"c"}') as Record<string, string>);

    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(Object.entries(headers)).toEqual([
      ['__proto__', 'p'],
      ['constructor', 'c'],
    ]);
  });

  it('decodes query parameters and joins repeated ones with commas, keeping the raw string as sent', () => {
    expect(httpApiQuery('a=1&a=2&b=%20x')).toEqual({ rawQueryString: 'a=1&a=2&b=%20x', queryStringParameters: { a: '1,2', b: ' x' } });
    expect(httpApiQuery(undefined)).toEqual({ rawQueryString: '', queryStringParameters: undefined });
  });

  it('writes the request time in the documented form', () => {
    expect(clfTime(Date.UTC(2020, 2, 12, 19, 3, 58))).toBe('12/Mar/2020:19:03:58 +0000');
  });
});
