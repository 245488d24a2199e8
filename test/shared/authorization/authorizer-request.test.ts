import type { APIGatewayRequestAuthorizerEvent, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { readAuthorizerEvent } from '#shared/authorization/authorizer-request.ts';
import restFixture from '#test/events/authorizer-request.json' with { type: 'json' };
import forwardedFixture from '#test/events/authorizer-request-forwarded.json' with { type: 'json' };
import httpFixture from '#test/events/http-api-authorizer-request.json' with { type: 'json' };

const rest = (): APIGatewayRequestAuthorizerEvent => structuredClone(restFixture) as unknown as APIGatewayRequestAuthorizerEvent;
const http = (): APIGatewayRequestAuthorizerEventV2 => structuredClone(httpFixture) as unknown as APIGatewayRequestAuthorizerEventV2;

describe('readAuthorizerEvent', () => {
  it('reads a REST request event (payload 1.0): both views of the headers, the identity\'s address, the method ARN', () => {
    // Act
    const request = readAuthorizerEvent(rest());

    // Assess
    expect(request).toEqual({
      payload: '1.0',
      accountKey: ['REPLACED-BY-TEST'],
      userKey: ['REPLACED-BY-TEST'],
      sourceIp: '203.0.113.7',
      routeArn: 'arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/v1/whoami',
      apiBase: 'arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod',
      apiSwitchRoute: false,
    });
  });

  it('reads an HTTP API request event (payload 2.0): the headers, requestContext.http.sourceIp, the route ARN on the $default stage', () => {
    // Act
    const request = readAuthorizerEvent(http());

    // Assess
    expect(request).toEqual({
      payload: '2.0',
      accountKey: ['REPLACED-BY-TEST'],
      userKey: ['REPLACED-BY-TEST'],
      sourceIp: '203.0.113.7',
      routeArn: 'arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/$default/GET/v1/whoami',
      apiBase: 'arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/$default',
      apiSwitchRoute: false,
    });
  });

  it('never takes the address from a header, whatever the caller sends', () => {
    // Prepare: both fixtures carry X-Forwarded-For naming 10.1.2.3.
    const restEvent = structuredClone(forwardedFixture) as unknown as APIGatewayRequestAuthorizerEvent;
    const httpEvent = http();

    // Act
    const addresses = [readAuthorizerEvent(restEvent).sourceIp, readAuthorizerEvent(httpEvent).sourceIp];

    // Assess
    expect(addresses).toEqual([restEvent.requestContext.identity.sourceIp, httpEvent.requestContext.http.sourceIp]);
    expect(addresses).not.toContain('10.1.2.3');
  });

  it('splits a key header HTTP API joined with commas back into its values, as REST lists them', () => {
    // Prepare
    const event = http();
    event.headers = { ...event.headers, 'x-api-key': 'lka_first,lka_second', 'x-api-secret-key': 'lks_only' };

    // Act
    const request = readAuthorizerEvent(event);

    // Assess
    expect(request.accountKey).toEqual(['lka_first', 'lka_second']);
    expect(request.userKey).toEqual(['lks_only']);
  });

  it.each([
    ['REST', () => Object.assign(rest(), { methodArn: 'arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/PATCH/v1/account' })],
    ['HTTP API', () => Object.assign(http(), { routeArn: 'arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/$default/PATCH/v1/account' })],
  ])('knows an API switch route when %s asks for one', (_gateway, eventOf) => {
    // Act
    const request = readAuthorizerEvent(eventOf());

    // Assess
    expect(request.apiSwitchRoute).toBe(true);
  });

  it('refuses a route ARN that is not execute-api\'s (a deployment fault, never an Allow)', () => {
    // Prepare
    const event = Object.assign(http(), { routeArn: 'not-an-arn' });

    // Act
    const read = () => readAuthorizerEvent(event);

    // Assess
    expect(read).toThrow(/not an execute-api method ARN/);
  });
});
