import { APIGatewayProxyEventV2Schema, APIGatewayRequestAuthorizerEventV2Schema } from '@aws-lambda-powertools/parser/schemas';
import { describe, expect, it } from 'vitest';
import type { OperationId } from '#shared/http/routes.ts';
import httpAuthorizerFixture from '#test/events/http-api-authorizer-request.json' with { type: 'json' };
import httpProxyFixture from '#test/events/http-api-proxy-request.json' with { type: 'json' };
import { apiEvent } from '#test/support/api-events.ts';
import { httpApiEventOf } from '#test/support/http-api-events.ts';

/**
 * The HTTP API (payload 2.0) events the tests run on are events HTTP API sends, as Powertools for
 * AWS Lambda's parser models them (its schemas are written from AWS's own sample events): a
 * fixture that drifted from the real shape would let a test pass on an event no gateway sends.
 */
describe('the tests\' payload 2.0 events', () => {
  it('http-api-authorizer-request.json is an HTTP API request authorizer event (payload 2.0)', () => {
    expect(APIGatewayRequestAuthorizerEventV2Schema.safeParse(httpAuthorizerFixture).error).toBeUndefined();
  });

  it('http-api-proxy-request.json is an HTTP API proxy event (payload 2.0)', () => {
    expect(APIGatewayProxyEventV2Schema.safeParse(httpProxyFixture).error).toBeUndefined();
  });

  it.each<[OperationId, Parameters<typeof apiEvent>[2]]>([
    ['whoami', {}],
    ['listApiKeys', { query: { limit: '10' } }],
    ['createApiKey', { body: { name: 'a-key-name', userId: '0123456789abcdef' }, headers: { Cookie: 'a=b; c=d' } }],
    ['deleteApiKey', { params: { keyId: '0123456789abcdef' } }],
  ])('the test bed\'s %s event, as HTTP API sends it, is a payload 2.0 proxy event', (operationId, call) => {
    // Act
    const event = httpApiEventOf(apiEvent(operationId, { accountId: '0123456789abcdef', userId: '0123456789abcdef', role: 'owner', keyId: '0123456789abcdef' }, call), 'prod');

    // Assess
    expect(APIGatewayProxyEventV2Schema.safeParse(event).error).toBeUndefined();
  });
});
