import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2WithLambdaAuthorizer, APIGatewayProxyResult, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { isId } from '#shared/domain/ids.ts';
import { canHoldKeys, type KeyRole } from '#shared/domain/roles.ts';
import { PERMISSIONS_CONTEXT, permissionsFromContext } from '#shared/authorization/context-entries.ts';
import { withoutWithheldHeaders } from '#shared/http/backend-headers.ts';

/**
 * For a team's own Lambda handlers behind Latchkey: who is calling, as the authorizer
 * established it. Deliberately light (no schema library, no SDK) because it is bundled into
 * the team's functions.
 */

/** The caller of a request that passed the authorizer: the account, the user, the user's role and the key used. */
export interface LatchkeyPrincipal {
  readonly accountId: string;
  readonly userId: string;
  readonly role: KeyRole;
  readonly keyId: string;
  /**
   * What the key may use (DESIGN 14): the permissions it is restricted to that its holder's role
   * still grants; null for an unrestricted key (every permission of its role). The gateway has
   * already refused every route outside them; a backend may check finer with it.
   */
  readonly permissions: readonly string[] | null;
}

/**
 * The event did not come through the Latchkey authorizer (an integration wired without it, a
 * test event, a direct invocation). It is a deployment fault, never the caller's doing: the
 * authorizer refuses every request it cannot attribute before any backend sees it.
 */
export class MissingPrincipalError extends Error {
  constructor(message = 'the event carries no Latchkey principal: was the route deployed behind the Latchkey authorizer?', options?: ErrorOptions) {
    super(message, options);
    this.name = 'MissingPrincipalError';
  }
}

/**
 * The principal from `requestContext.authorizer.{accountId,userId,role,keyId}`, and
 * `permissions` for a restricted key (comma-joined; absent: unrestricted). Every value
 * is checked (ids of the right shape, a role that may hold keys), so a handler can trust the
 * result as much as it trusts the gateway. Throws MissingPrincipalError otherwise.
 */
export function principalFromEvent(event: Pick<LatchkeyEvent, 'requestContext'>): LatchkeyPrincipal {
  const context = authorizerContextOf(event);
  if (typeof context !== 'object' || context === null) throw new MissingPrincipalError();
  const { accountId, userId, role, keyId } = context as Record<string, unknown>;
  if (typeof accountId !== 'string' || typeof userId !== 'string' || typeof keyId !== 'string' || typeof role !== 'string') {
    throw new MissingPrincipalError('the event carries an incomplete Latchkey principal (accountId, userId, role and keyId are all required)');
  }
  if (!isId(accountId) || !isId(userId) || !isId(keyId)) throw new MissingPrincipalError('the event carries a malformed Latchkey principal');
  if (!canHoldKeys(role)) throw new MissingPrincipalError(`the event carries the role '${role}', which holds no keys`);
  return { accountId, userId, role, keyId, permissions: restrictionOf((context as Record<string, unknown>)[PERMISSIONS_CONTEXT]) };
}

/** The context's comma-joined list (empty: none); absent: unrestricted. Anything else is no principal. */
function restrictionOf(value: unknown): readonly string[] | null {
  const permissions = permissionsFromContext(value);
  if (permissions === undefined) throw new MissingPrincipalError('the event carries malformed Latchkey permissions');
  return permissions;
}

/**
 * A Lambda proxy integration's event: REST's (payload 1.0) or HTTP API's (payload 2.0, the
 * `http` flavor of DESIGN 15).
 */
export type LatchkeyEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2WithLambdaAuthorizer<Record<string, unknown>>;

/**
 * Where the authorizer's context is: `requestContext.authorizer` in payload 1.0,
 * `requestContext.authorizer.lambda` in payload 2.0 (told apart by 2.0's `requestContext.http`,
 * which only the gateway sets). Nothing else under a 2.0 authorizer (a JWT's claims) counts.
 */
function authorizerContextOf(event: Pick<LatchkeyEvent, 'requestContext'>): unknown {
  const requestContext = (event as { requestContext?: { authorizer?: unknown; http?: unknown } }).requestContext;
  const authorizer = requestContext?.authorizer;
  if (typeof requestContext?.http !== 'object' || requestContext.http === null) return authorizer;
  return typeof authorizer === 'object' && authorizer !== null ? (authorizer as { lambda?: unknown }).lambda : undefined;
}

/** The Lambda context of a handler behind `latchkeyPrincipal()`: the principal is `context.principal`. */
export type LatchkeyContext = Context & { principal: LatchkeyPrincipal };

const MISCONFIGURED: APIGatewayProxyResult = {
  statusCode: 500,
  headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store' },
  body: JSON.stringify({
    type: 'urn:latchkey:problem:internal',
    title: 'Internal server error',
    status: 500,
    detail: 'The request could not be completed. If this persists, report it with the request id.',
  }),
};

export interface LatchkeyPrincipalOptions {
  /** Told why an event was refused (the refusal's message holds no secret). @default console.error */
  readonly onMissingPrincipal?: (error: MissingPrincipalError) => void;
}

/**
 * middy middleware: puts the principal on `request.context.principal` before the handler runs.
 * An event without one means the integration is misconfigured (the authorizer would have
 * answered 401 to a caller without keys), so it answers a 500 problem document and the
 * handler never runs: nothing is served to a caller nobody has identified.
 *
 * It also takes `x-api-key`, `x-api-secret-key` and every would-be `x-latchkey-*` header
 * (any case, `_` for `-`) out of the event's `headers` and `multiValueHeaders`: a Lambda proxy
 * integration hands the function the request's headers as sent, the caller's two secrets
 * included, and a handler that logs its event would write them to its logs. Use it first, before
 * any middleware that logs the event.
 *
 * Either payload: `middy<APIGatewayProxyEventV2WithLambdaAuthorizer<…>, APIGatewayProxyResultV2>()`
 * takes `latchkeyPrincipal<APIGatewayProxyEventV2WithLambdaAuthorizer<…>, APIGatewayProxyResultV2>()`.
 */
export function latchkeyPrincipal<TEvent extends LatchkeyEvent = APIGatewayProxyEvent, TResult extends APIGatewayProxyResultV2 = APIGatewayProxyResult>(
  options: LatchkeyPrincipalOptions = {},
): MiddlewareObj<TEvent, TResult, Error, LatchkeyContext> {
  const report = options.onMissingPrincipal ?? ((error: MissingPrincipalError) => {
    console.error(error.message);
  });
  return {
    before: (request) => {
      request.event = withoutWithheldHeaders(request.event);
      try {
        request.context.principal = principalFromEvent(request.event);
        return undefined;
      } catch (error) {
        if (!(error instanceof MissingPrincipalError)) throw error;
        report(error);
        return { ...MISCONFIGURED, headers: { ...MISCONFIGURED.headers } };
      }
    },
  };
}
