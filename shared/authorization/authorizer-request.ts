import type { APIGatewayRequestAuthorizerEvent, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { isApiSwitchMethodArn } from './api-switch.ts';
import { ACCOUNT_KEY_HEADER, USER_KEY_HEADER, headerValues } from './decision.ts';
import { apiBaseArn } from './policies.ts';

/**
 * One authorizer function serves both front doors (DESIGN 15): API Gateway REST sends its
 * REQUEST authorizer event (payload 1.0: `methodArn`, `headers` and `multiValueHeaders`,
 * `requestContext.identity.sourceIp`), HTTP API payload 2.0 (`routeArn`, lower-cased `headers`
 * whose repeated values are joined with commas, `requestContext.http.sourceIp`). Both are read
 * here into the one request the decision takes, so the same keys from the same address reach
 * the same decision whichever gateway asks.
 */
export type AuthorizerEvent = APIGatewayRequestAuthorizerEvent | APIGatewayRequestAuthorizerEventV2;

export type AuthorizerPayload = '1.0' | '2.0';

export interface AuthorizerRequest {
  /** Which payload the gateway sent; the answer differs only in what 2.0 does not take (`usageIdentifierKey`). */
  readonly payload: AuthorizerPayload;
  /** Every value the request carries for each key header (more than one is refused as malformed). */
  readonly accountKey: string[];
  readonly userKey: string[];
  /** The connection's address as the gateway saw it: never a header (X-Forwarded-For is the caller's to set). */
  readonly sourceIp: string;
  /** The ARN of the method (REST) or route (HTTP API) asked for: `arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/<METHOD>/<path>`. */
  readonly routeArn: string;
  /** `…:<apiId>/<stage>`, the base every policy resource is built on (the stage may be HTTP API's `$default`). */
  readonly apiBase: string;
  /** Whether the route asked for is one of the API switch's (shared/authorization/api-switch.ts). */
  readonly apiSwitchRoute: boolean;
}

export function isPayloadV2(event: AuthorizerEvent): event is APIGatewayRequestAuthorizerEventV2 {
  return 'version' in event && event.version === '2.0';
}

/**
 * HTTP API joins a header sent more than once into one value, separated by commas; REST lists
 * each in `multiValueHeaders`. Split back, a key sent twice is two values under either gateway,
 * and is refused the same way. No key can hold a comma (base62 and `_`), so nothing valid is cut.
 */
function joinedHeaderValues(headers: APIGatewayRequestAuthorizerEventV2['headers'], name: string): string[] {
  return headerValues(headers, undefined, name).flatMap((value) => value.split(',').map((part) => part.trim()));
}

/** The parts of either payload the decision reads. Throws for an event that is neither (a deployment fault: fail closed). */
export function readAuthorizerEvent(event: AuthorizerEvent): AuthorizerRequest {
  if (isPayloadV2(event)) {
    const apiBase = apiBaseArn(event.routeArn);
    return {
      payload: '2.0',
      accountKey: joinedHeaderValues(event.headers, ACCOUNT_KEY_HEADER),
      userKey: joinedHeaderValues(event.headers, USER_KEY_HEADER),
      sourceIp: event.requestContext.http.sourceIp,
      routeArn: event.routeArn,
      apiBase,
      apiSwitchRoute: isApiSwitchMethodArn(apiBase, event.routeArn),
    };
  }
  const apiBase = apiBaseArn(event.methodArn);
  return {
    payload: '1.0',
    accountKey: headerValues(event.headers, event.multiValueHeaders, ACCOUNT_KEY_HEADER),
    userKey: headerValues(event.headers, event.multiValueHeaders, USER_KEY_HEADER),
    sourceIp: event.requestContext.identity.sourceIp,
    routeArn: event.methodArn,
    apiBase,
    apiSwitchRoute: isApiSwitchMethodArn(apiBase, event.methodArn),
  };
}
