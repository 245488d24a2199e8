import { requestIdentity } from '#shared/http/request-identity.ts';
import type { APIGatewayEventRequestContextV2, APIGatewayProxyEvent, APIGatewayProxyEventV2WithRequestContext } from 'aws-lambda';

/**
 * The HTTP API flavor (DESIGN 15) integrates every function with payload format 2.0; the REST
 * flavor sends 1.0. The handlers read one shape, 1.0's: this turns a 2.0 event into it, field by
 * field, and hands a 1.0 event back as it came. Responses need nothing: `{statusCode, headers,
 * body}` is a valid answer to either.
 */

/** What payload 2.0 puts under `requestContext.authorizer`: a Lambda authorizer's context sits under `lambda`. */
interface AuthorizerOfV2 {
  readonly lambda?: unknown;
}

/** A payload 2.0 event, with or without an authorizer (the public routes have none). */
export type ProxyEventV2 = APIGatewayProxyEventV2WithRequestContext<APIGatewayEventRequestContextV2 & { authorizer?: AuthorizerOfV2 | null }>;

/** Either payload, as a Lambda proxy integration of either flavor hands it over. */
export type ProxyEvent = APIGatewayProxyEvent | ProxyEventV2;

export function isProxyEventV2(event: ProxyEvent): event is ProxyEventV2 {
  return 'version' in event && event.version === '2.0';
}

/**
 * The path a route sees: a named stage's segment (`/prod/v1/whoami`) is in 2.0's `rawPath`, the
 * `$default` stage's never is; 1.0's `path` leaves it out either way.
 */
function pathBelowStage(rawPath: string, stage: string): string {
  if (stage === '$default') return rawPath;
  const prefix = `/${stage}`;
  return rawPath === prefix ? '/' : rawPath.startsWith(`${prefix}/`) ? rawPath.slice(prefix.length) : rawPath;
}

/**
 * 2.0 joins a repeated query parameter's values with commas; 1.0 lists them. How often each is
 * given is read from the raw query string, so a parameter given twice is seen as twice (and
 * refused) as on REST; the values are API Gateway's own decoding where it gave them.
 */
function queryOf(event: ProxyEventV2): Pick<APIGatewayProxyEvent, 'queryStringParameters' | 'multiValueQueryStringParameters'> {
  const multi: Record<string, string[]> = {};
  for (const [name, value] of new URLSearchParams(event.rawQueryString)) (multi[name] ??= []).push(value);
  const given = Object.entries(event.queryStringParameters ?? {}).filter((entry): entry is [string, string] => entry[1] !== undefined);
  for (const [name, value] of given) multi[name] ??= [value];
  if (Object.keys(multi).length === 0) return { queryStringParameters: null, multiValueQueryStringParameters: null };
  const single: Record<string, string> = Object.fromEntries(Object.entries(multi).map(([name, values]) => [name, values.at(-1) ?? '']));
  for (const [name, value] of given) {
    if (multi[name]?.length !== 1) continue;
    single[name] = value;
    multi[name] = [value];
  }
  return { queryStringParameters: single, multiValueQueryStringParameters: multi };
}

/**
 * 2.0's headers as 1.0 has them: 2.0 takes cookies out into `cookies` (put back as one `cookie`
 * header) and joins repeated headers with commas (kept so, one value each: splitting would cut
 * values that hold commas themselves).
 */
function headersOf(event: ProxyEventV2): Pick<APIGatewayProxyEvent, 'headers' | 'multiValueHeaders'> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers)) if (value !== undefined) headers[name] = value;
  if (event.cookies !== undefined && event.cookies.length > 0) headers.cookie = event.cookies.join('; ');
  const multiValueHeaders = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]]));
  return { headers, multiValueHeaders };
}

/** The route's path template from 2.0's route key (`GET /v1/api-keys/{keyId}` -> `/v1/api-keys/{keyId}`). */
function resourceOf(routeKey: string): string {
  const space = routeKey.indexOf(' ');
  return space === -1 ? routeKey : routeKey.slice(space + 1);
}

/**
 * The event in payload 1.0's shape. Of the authorizer, only its context is carried over (what
 * 1.0 puts at `requestContext.authorizer`); a public route's event has none (null).
 */
export function proxyEventV1Of(event: ProxyEvent): APIGatewayProxyEvent {
  if (!isProxyEventV2(event)) return event;
  const context = event.requestContext;
  const path = pathBelowStage(event.rawPath, context.stage);
  const resource = resourceOf(event.routeKey);
  const lambdaContext = context.authorizer?.lambda;
  return {
    ...headersOf(event),
    ...queryOf(event),
    httpMethod: context.http.method,
    path,
    resource,
    pathParameters: event.pathParameters ?? null,
    stageVariables: event.stageVariables ?? null,
    body: event.body ?? null,
    isBase64Encoded: event.isBase64Encoded,
    requestContext: {
      accountId: context.accountId,
      apiId: context.apiId,
      authorizer: typeof lambdaContext === 'object' && lambdaContext !== null ? lambdaContext : null,
      domainName: context.domainName,
      domainPrefix: context.domainPrefix,
      httpMethod: context.http.method,
      // The browser's path, stage segment included (1.0's `requestContext.path`).
      path: event.rawPath,
      protocol: context.http.protocol,
      requestId: context.requestId,
      requestTime: context.time,
      requestTimeEpoch: context.timeEpoch,
      resourceId: event.routeKey,
      resourcePath: resource,
      stage: context.stage,
      // The connection's address, as the authorizer read it (`$context.identity.sourceIp`).
      identity: requestIdentity(context.http.sourceIp, context.http.userAgent),
    },
  };
}
