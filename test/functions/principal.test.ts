import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { type LatchkeyContext, MissingPrincipalError, latchkeyPrincipal, principalFromEvent } from '#functions/principal.ts';

const PRINCIPAL = { accountId: 'AAAAAAAAAAAAAAAA', userId: 'UUUUUUUUUUUUUUUU', role: 'viewer', keyId: 'KKKKKKKKKKKKKKKK' } as const;

function eventWith(authorizer: unknown): APIGatewayProxyEvent {
  return { requestContext: { authorizer } } as unknown as APIGatewayProxyEvent;
}

const context = { awsRequestId: 'r-1' } as Context;

describe('principalFromEvent', () => {
  it('returns the principal the authorizer passed on', () => {
    expect(principalFromEvent(eventWith({ ...PRINCIPAL, principalId: PRINCIPAL.userId, integrationLatency: 3 }))).toEqual({ ...PRINCIPAL, permissions: null });
  });

  it("returns a restricted key's effective permissions, and an empty list for none", () => {
    expect(principalFromEvent(eventWith({ ...PRINCIPAL, permissions: 'users:read,widgets:read' })).permissions).toEqual(['users:read', 'widgets:read']);
    expect(principalFromEvent(eventWith({ ...PRINCIPAL, permissions: '' })).permissions).toEqual([]);
  });

  it.each([
    ['no authorizer context', undefined],
    ['a null context', null],
    ['a missing role', { ...PRINCIPAL, role: undefined }],
    ['a missing key id', { ...PRINCIPAL, keyId: undefined }],
    ['a non-string account id', { ...PRINCIPAL, accountId: 42 }],
    ['a malformed account id', { ...PRINCIPAL, accountId: 'not-an-id' }],
    ['a malformed user id', { ...PRINCIPAL, userId: 'x' }],
    ['a role that holds no keys', { ...PRINCIPAL, role: 'manager' }],
    ['an unknown role', { ...PRINCIPAL, role: 'admin' }],
    ['a malformed permission', { ...PRINCIPAL, permissions: 'users:read,Users' }],
    ['permissions that are no string', { ...PRINCIPAL, permissions: ['users:read'] }],
  ])('refuses an event with %s', (_name, authorizer) => {
    expect(() => principalFromEvent(eventWith(authorizer))).toThrow(MissingPrincipalError);
  });

  it('refuses an event without a request context', () => {
    expect(() => principalFromEvent({} as APIGatewayProxyEvent)).toThrow(MissingPrincipalError);
  });
});

describe('latchkeyPrincipal middleware', () => {
  function handlerWithSpy() {
    const inner = vi.fn((_event: APIGatewayProxyEvent, ctx: LatchkeyContext): Promise<APIGatewayProxyResult> =>
      Promise.resolve({ statusCode: 200, body: JSON.stringify(ctx.principal) }),
    );
    const reported: MissingPrincipalError[] = [];
    const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, LatchkeyContext>()
      .use(latchkeyPrincipal({ onMissingPrincipal: (error) => reported.push(error) }))
      .handler(inner);
    return { handler, inner, reported };
  }

  it('puts the principal on the context before the handler runs', async () => {
    const { handler, inner } = handlerWithSpy();
    const result = await handler(eventWith(PRINCIPAL), context as LatchkeyContext);
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual({ ...PRINCIPAL, permissions: null });
    expect(inner).toHaveBeenCalledTimes(1);
  });

  it('answers a 500 problem and never runs the handler for an event that bypassed the authorizer', async () => {
    const { handler, inner, reported } = handlerWithSpy();
    const result = await handler(eventWith(undefined), context as LatchkeyContext);
    expect(result.statusCode).toBe(500);
    expect(result.headers?.['content-type']).toBe('application/problem+json');
    expect(JSON.parse(result.body)).toMatchObject({ status: 500, type: 'urn:latchkey:problem:internal' });
    expect(inner).not.toHaveBeenCalled();
    expect(reported).toHaveLength(1);
  });

  it('never runs the handler for a forged role', async () => {
    const { handler, inner } = handlerWithSpy();
    const result = await handler(eventWith({ ...PRINCIPAL, role: 'root' }), context as LatchkeyContext);
    expect(result.statusCode).toBe(500);
    expect(inner).not.toHaveBeenCalled();
  });
});

describe('latchkeyPrincipal keeps the keys from the handler', () => {
  it('takes both keys and every would-be x-latchkey-* header out of both header views before the handler runs', async () => {
    // Prepare: the event as a Lambda proxy integration delivers it on AWS, the client's headers as sent.
    const sent = {
      'x-api-key': 'lka_account-secret',
      'X-Api-Secret-Key': 'lks_user-secret',
      x_api_secret_key: 'lks_user-secret',
      x_latchkey_role: 'owner',
      'X-Latchkey-Anything': 'forged',
      accept: 'application/json',
    };
    const event = {
      ...eventWith(PRINCIPAL),
      headers: sent,
      multiValueHeaders: Object.fromEntries(Object.entries(sent).map(([name, value]) => [name, [value]])),
    } as unknown as APIGatewayProxyEvent;
    const seen: APIGatewayProxyEvent[] = [];
    const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, LatchkeyContext>()
      .use(latchkeyPrincipal())
      .handler((received) => {
        seen.push(received);
        return Promise.resolve({ statusCode: 200, body: '' });
      });

    // Act
    await handler(event, context as LatchkeyContext);

    // Assess
    expect(seen[0]?.headers).toEqual({ accept: 'application/json' });
    expect(seen[0]?.multiValueHeaders).toEqual({ accept: ['application/json'] });
    expect(JSON.stringify(seen[0])).not.toContain('secret');
  });
});
