import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { ProxyEventV2 } from '#functions/commons/proxy-event.ts';
import { type HttpApiRequestFacts, httpApiAuthorizedEvent, httpApiPublicEvent } from '#local/gateway/http-api-event.ts';

/**
 * A test bed's proxy event (payload 1.0, `support/api-events.ts`) as HTTP API sends the same
 * request with payload format 2.0, built by the local gateway's own 2.0 builder
 * (local/gateway/http-api-event.ts): lower-cased headers with repeats joined by commas, cookies
 * apart, the raw query string and its comma-joined values, the route key, the connection's
 * address at `requestContext.http.sourceIp`, the authorizer's context under `lambda`, and the
 * stage's segment in `rawPath` unless the stage is `$default`.
 */
export function httpApiEventOf(event: APIGatewayProxyEvent, stage = '$default'): ProxyEventV2 {
  const context = event.requestContext;
  const query = new URLSearchParams();
  for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {})) for (const value of values ?? []) query.append(name, value);
  const facts: HttpApiRequestFacts = {
    awsAccountId: context.accountId,
    apiId: context.apiId,
    stage,
    requestId: context.requestId,
    startedAt: context.requestTimeEpoch,
    method: event.httpMethod,
    path: event.path,
    routePath: event.resource,
    pathParameters: event.pathParameters === null ? null : Object.fromEntries(Object.entries(event.pathParameters).flatMap(([name, value]) => (value === undefined ? [] : [[name, value]]))),
    query: query.toString(),
    headers: { host: `${context.apiId}.execute-api.eu-west-1.amazonaws.com`, ...event.headers },
    sourceIp: context.identity.sourceIp,
  };
  const body = event.body;
  if (context.authorizer == null) return { ...httpApiPublicEvent(facts, body), isBase64Encoded: event.isBase64Encoded };
  const { principalId: _principalId, ...lambda } = context.authorizer as Record<string, string>;
  return { ...httpApiAuthorizedEvent(facts, body, lambda), isBase64Encoded: event.isBase64Encoded };
}
