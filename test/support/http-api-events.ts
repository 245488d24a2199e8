import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { ProxyEventV2 } from '#functions/commons/proxy-event.ts';

/**
 * A test bed's proxy event (payload 1.0, `support/api-events.ts`) as HTTP API sends the same
 * request with payload format 2.0: lower-cased headers with repeats joined by commas, cookies
 * apart, the raw query string and its comma-joined values, the route key, the connection's
 * address at `requestContext.http.sourceIp`, the authorizer's context under `lambda`, and the
 * stage's segment in `rawPath` unless the stage is `$default`.
 */
export function httpApiEventOf(event: APIGatewayProxyEvent, stage = '$default'): ProxyEventV2 {
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(event.headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (lower === 'cookie') cookies = value.split(/;\s*/);
    else headers[lower] = headers[lower] === undefined ? value : `${headers[lower]},${value}`;
  }
  const query = new URLSearchParams();
  for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {})) for (const value of values ?? []) query.append(name, value);
  const queryStringParameters = Object.fromEntries(Object.entries(event.multiValueQueryStringParameters ?? {}).map(([name, values]) => [name, (values ?? []).join(',')]));
  const rawPath = stage === '$default' ? event.path : `/${stage}${event.path}`;
  const context = event.requestContext;
  const { principalId: _principalId, ...lambda } = (context.authorizer ?? {}) as Record<string, unknown>;
  return {
    version: '2.0',
    routeKey: `${event.httpMethod} ${event.resource}`,
    rawPath,
    rawQueryString: query.toString(),
    ...(cookies === undefined ? {} : { cookies }),
    headers,
    ...(Object.keys(queryStringParameters).length === 0 ? {} : { queryStringParameters }),
    ...(event.pathParameters === null ? {} : { pathParameters: event.pathParameters }),
    ...(event.body === null ? {} : { body: event.body }),
    isBase64Encoded: event.isBase64Encoded,
    requestContext: {
      accountId: context.accountId,
      apiId: context.apiId,
      ...(context.authorizer == null ? {} : { authorizer: { lambda } }),
      domainName: `${context.apiId}.execute-api.eu-west-1.amazonaws.com`,
      domainPrefix: context.apiId,
      http: { method: event.httpMethod, path: rawPath, protocol: 'HTTP/1.1', sourceIp: context.identity.sourceIp, userAgent: context.identity.userAgent ?? '' },
      requestId: context.requestId,
      routeKey: `${event.httpMethod} ${event.resource}`,
      stage,
      time: '29/Nov/2026:08:32:10 +0000',
      timeEpoch: context.requestTimeEpoch,
    },
  };
}
