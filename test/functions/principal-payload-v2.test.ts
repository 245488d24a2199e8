import middy from '@middy/core';
import type { APIGatewayProxyEventV2WithLambdaAuthorizer, APIGatewayProxyResultV2 } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { type LatchkeyContext, MissingPrincipalError, latchkeyPrincipal, principalFromEvent } from '#functions/principal.ts';
import fixture from '#test/events/http-api-proxy-request.json' with { type: 'json' };

/**
 * The principal of a team's Lambda backend on the HTTP API flavor (DESIGN 15): HTTP API hands the
 * function payload 2.0, whose authorizer context sits at `requestContext.authorizer.lambda`.
 */

type EventV2 = APIGatewayProxyEventV2WithLambdaAuthorizer<Record<string, unknown>>;

const PRINCIPAL = { accountId: 'AAAAAAAAAAAAAAAA', userId: 'UUUUUUUUUUUUUUUU', role: 'viewer', keyId: 'KKKKKKKKKKKKKKKK' } as const;
const context = { awsRequestId: 'r-1' } as LatchkeyContext;

/** The fixture with this authorizer (`undefined`: none, as on a route without one). */
function eventV2(authorizer: unknown, headers?: Record<string, string>): EventV2 {
  const event = structuredClone(fixture) as unknown as EventV2;
  if (authorizer === undefined) delete (event.requestContext as { authorizer?: unknown }).authorizer;
  else (event.requestContext as { authorizer?: unknown }).authorizer = authorizer;
  if (headers !== undefined) event.headers = headers;
  return event;
}

describe('principalFromEvent on payload 2.0', () => {
  it('reads the principal from requestContext.authorizer.lambda', () => {
    // Act
    const principal = principalFromEvent(eventV2({ lambda: { ...PRINCIPAL } }));

    // Assess
    expect(principal).toMatchObject(PRINCIPAL);
  });

  it.each([
    ['no authorizer', undefined],
    ['a null Lambda context', { lambda: null }],
    // Only a Lambda authorizer's context counts; the same names beside it were set by nobody we trust.
    ['the principal beside lambda, not in it', { ...PRINCIPAL }],
    ['a JWT authorizer\'s claims', { jwt: { claims: { ...PRINCIPAL }, scopes: null } }],
    ['a forged role', { lambda: { ...PRINCIPAL, role: 'root' } }],
  ])('refuses an event with %s', (_case, authorizer) => {
    // Act
    const read = () => principalFromEvent(eventV2(authorizer));

    // Assess
    expect(read).toThrow(MissingPrincipalError);
  });
});

describe('latchkeyPrincipal on payload 2.0', () => {
  function handlerWithSpy() {
    const seen: EventV2[] = [];
    const inner = vi.fn((event: EventV2, ctx: LatchkeyContext): Promise<APIGatewayProxyResultV2> => {
      seen.push(event);
      return Promise.resolve({ statusCode: 200, body: JSON.stringify(ctx.principal) });
    });
    const reported: MissingPrincipalError[] = [];
    const handler = middy<EventV2, APIGatewayProxyResultV2, Error, LatchkeyContext>()
      .use(latchkeyPrincipal<EventV2, APIGatewayProxyResultV2>({ onMissingPrincipal: (error) => reported.push(error) }))
      .handler(inner);
    return { handler, inner, reported, seen };
  }

  it('puts the principal on the context and takes both keys and every would-be x-latchkey-* header out of the headers', async () => {
    // Prepare: HTTP API lower-cases header names; a caller may still spell them with `_`.
    const { handler, seen } = handlerWithSpy();
    const event = eventV2({ lambda: { ...PRINCIPAL } }, {
      'x-api-key': 'lka_account-secret',
      'x-api-secret-key': 'lks_user-secret',
      x_api_secret_key: 'lks_user-secret',
      x_latchkey_role: 'owner',
      'x-latchkey-anything': 'forged',
      accept: 'application/json',
    });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result).toMatchObject({ statusCode: 200 });
    expect(JSON.parse((result as { body: string }).body)).toMatchObject(PRINCIPAL);
    expect(seen[0]?.headers).toEqual({ accept: 'application/json' });
    expect(JSON.stringify(seen[0])).not.toContain('secret');
    expect(JSON.stringify(seen[0])).not.toContain('forged');
  });

  it('answers a 500 problem and never runs the handler for an event without a Lambda authorizer\'s context', async () => {
    // Prepare
    const { handler, inner, reported } = handlerWithSpy();

    // Act
    const result = await handler(eventV2({ lambda: null }), context);

    // Assess
    expect(result).toMatchObject({ statusCode: 500, headers: { 'content-type': 'application/problem+json' } });
    expect(inner).not.toHaveBeenCalled();
    expect(reported).toHaveLength(1);
  });
});
