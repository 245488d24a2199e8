import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { type ProxyEventV2, proxyEventV1Of } from '#functions/commons/proxy-event.ts';
import fixture from '#test/events/http-api-proxy-request.json' with { type: 'json' };

/** HTTP API's payload 2.0, read in payload 1.0's shape, the one the handlers read (functions/commons/api-handler.ts). */

const v2 = (changes: Partial<ProxyEventV2> = {}): ProxyEventV2 => ({ ...(structuredClone(fixture) as unknown as ProxyEventV2), ...changes });

describe('proxyEventV1Of', () => {
  it('reads method, route, path, address, request id and the authorizer\'s context where 1.0 has them', () => {
    // Act
    const event = proxyEventV1Of(v2());

    // Assess
    expect(event).toMatchObject({
      httpMethod: 'GET',
      resource: '/v1/api-keys',
      path: '/v1/api-keys',
      body: null,
      isBase64Encoded: false,
      pathParameters: null,
      requestContext: {
        httpMethod: 'GET',
        resourcePath: '/v1/api-keys',
        path: '/v1/api-keys',
        requestId: 'ZhNHJhhLjoEEPiw=',
        stage: '$default',
        identity: { sourceIp: '203.0.113.7', userAgent: 'curl/8.5.0' },
        authorizer: { accountId: 'REPLACED-BY-TEST', userId: 'REPLACED-BY-TEST', role: 'owner', keyId: 'REPLACED-BY-TEST' },
      },
    });
  });

  it('takes the address from the connection (requestContext.http.sourceIp), never from X-Forwarded-For', () => {
    // Act
    const event = proxyEventV1Of(v2());

    // Assess: the fixture's X-Forwarded-For begins with 10.1.2.3.
    expect(event.requestContext.identity.sourceIp).toBe('203.0.113.7');
  });

  it('takes the route template from the route key, so path parameters name the route, not the path', () => {
    // Prepare
    const given = v2({ routeKey: 'DELETE /v1/api-keys/{keyId}', rawPath: '/v1/api-keys/0123456789abcdef', rawQueryString: '', pathParameters: { keyId: '0123456789abcdef' } });
    given.queryStringParameters = undefined;
    given.requestContext.http.method = 'DELETE';

    // Act
    const event = proxyEventV1Of(given);

    // Assess
    expect(event).toMatchObject({ httpMethod: 'DELETE', resource: '/v1/api-keys/{keyId}', path: '/v1/api-keys/0123456789abcdef', pathParameters: { keyId: '0123456789abcdef' } });
    expect(event.queryStringParameters).toBeNull();
    expect(event.multiValueQueryStringParameters).toBeNull();
  });

  it('leaves a named stage\'s segment out of the path, as 1.0 does, and keeps it in the browser\'s path', () => {
    // Prepare: on a named stage, 2.0's rawPath begins with it; on $default it never does.
    const given = v2({ rawPath: '/prod/v1/api-keys' });
    given.requestContext.stage = 'prod';

    // Act
    const event = proxyEventV1Of(given);

    // Assess
    expect(event.path).toBe('/v1/api-keys');
    expect(event.requestContext.path).toBe('/prod/v1/api-keys');
  });

  it('lists a query parameter given twice twice, as REST does, so it is refused as on REST', () => {
    // Prepare: 2.0 joins the values with a comma.
    const given = v2({ rawQueryString: 'limit=10&limit=20', queryStringParameters: { limit: '10,20' } });

    // Act
    const event = proxyEventV1Of(given);

    // Assess
    expect(event.multiValueQueryStringParameters).toEqual({ limit: ['10', '20'] });
  });

  it('keeps API Gateway\'s own decoding of a parameter given once', () => {
    // Act
    const event = proxyEventV1Of(v2());

    // Assess
    expect(event.queryStringParameters).toEqual({ limit: '10', userId: '0123456789abcdef' });
    expect(event.multiValueQueryStringParameters).toEqual({ limit: ['10'], userId: ['0123456789abcdef'] });
  });

  it('puts the cookies 2.0 took out of the headers back as one cookie header', () => {
    // Act
    const event = proxyEventV1Of(v2());

    // Assess
    expect(event.headers.cookie).toBe('theme=dark; session=opaque');
    expect(event.multiValueHeaders.accept).toEqual(['application/json']);
  });

  it('passes the body and its base64 flag on unchanged, for the handler to decode', () => {
    // Prepare
    const body = Buffer.from('[{"token":"x"}]', 'utf8').toString('base64');

    // Act
    const event = proxyEventV1Of(v2({ body, isBase64Encoded: true }));

    // Assess
    expect(event).toMatchObject({ body, isBase64Encoded: true });
  });

  it('gives a public route\'s event, which no authorizer saw, no authorizer context', () => {
    // Prepare
    const withoutAuthorizer = v2();
    delete withoutAuthorizer.requestContext.authorizer;
    const withNullLambda = v2();
    withNullLambda.requestContext.authorizer = { lambda: null };

    // Act
    const events = [proxyEventV1Of(withoutAuthorizer), proxyEventV1Of(withNullLambda)];

    // Assess
    for (const event of events) expect(event.requestContext.authorizer).toBeNull();
  });

  it('hands a payload 1.0 event back as it came', () => {
    // Prepare
    const given = { httpMethod: 'GET', path: '/v1/whoami', requestContext: {} } as unknown as APIGatewayProxyEvent;

    // Act
    const event = proxyEventV1Of(given);

    // Assess
    expect(event).toBe(given);
  });
});
