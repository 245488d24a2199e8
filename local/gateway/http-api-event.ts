import type {
  APIGatewayEventRequestContextV2,
  APIGatewayProxyEventV2,
  APIGatewayProxyEventV2WithLambdaAuthorizer,
  APIGatewayRequestAuthorizerEventV2,
} from 'aws-lambda';
import type { RawHeaders } from './proxy-event.ts';

/**
 * The events API Gateway's HTTP API sends with payload format 2.0, for the local gateway's
 * `http` flavor: the Lambda REQUEST authorizer's event and the Lambda proxy integration's event,
 * shaped as AWS documents them (http-api-lambda-authorizer.html and
 * http-api-develop-integrations-lambda.html): header names lower case, a header or query
 * parameter sent more than once joined with commas, cookies in `cookies` (not in `headers`),
 * the raw path and query as sent, and the caller's address in `requestContext.http.sourceIp`.
 */

/** The authorizer's context as an integration reads it: `requestContext.authorizer.lambda`. */
export type AuthorizerContextV2 = Readonly<Record<string, string>>;

/** A proxy event behind the Lambda authorizer. */
export type HttpApiAuthorizedEvent = APIGatewayProxyEventV2WithLambdaAuthorizer<AuthorizerContextV2>;
/** What a Lambda integration gets: behind the authorizer, or on a route without one (no `authorizer`). */
export type HttpApiProxyEvent = HttpApiAuthorizedEvent | APIGatewayProxyEventV2;

export interface HttpApiHeaders {
  readonly headers: Record<string, string>;
  /** The `cookie` header's cookies, one per entry; absent when none was sent. */
  readonly cookies: string[] | undefined;
}

/** Headers as format 2.0 carries them: lower-case names, repeated headers joined with commas, cookies apart. */
export function httpApiHeaders(raw: RawHeaders): HttpApiHeaders {
  // A Map, not an object literal: a client's '__proto__' or 'constructor' header must stay data.
  const joined = new Map<string, string[]>();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const values = typeof value === 'string' ? [value] : [...value];
    if (values.length === 0) continue;
    const key = name.toLowerCase();
    joined.set(key, [...(joined.get(key) ?? []), ...values]);
  }
  const cookieHeaders = joined.get('cookie');
  joined.delete('cookie');
  const cookies = cookieHeaders
    ?.flatMap((line) => line.split(';'))
    .map((cookie) => cookie.trim())
    .filter((cookie) => cookie !== '');
  const headers = Object.fromEntries([...joined].map(([name, values]) => [name, values.join(',')]));
  return { headers, cookies: cookies === undefined || cookies.length === 0 ? undefined : cookies };
}

export interface HttpApiQuery {
  /** As sent, without `?`; empty when there is none. */
  readonly rawQueryString: string;
  /** Decoded, repeated names joined with commas; absent when there is none. */
  readonly queryStringParameters: Record<string, string> | undefined;
}

export function httpApiQuery(query: string | undefined): HttpApiQuery {
  const rawQueryString = query ?? '';
  const joined = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(rawQueryString)) joined.set(name, [...(joined.get(name) ?? []), value]);
  if (joined.size === 0) return { rawQueryString, queryStringParameters: undefined };
  return { rawQueryString, queryStringParameters: Object.fromEntries([...joined].map(([name, values]) => [name, values.join(',')])) };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/** `requestContext.time`: the CLF form, `06/Dec/2026:12:03:58 +0000`. */
export function clfTime(epochMs: number): string {
  const at = new Date(epochMs);
  const two = (n: number): string => String(n).padStart(2, '0');
  const month = MONTHS[at.getUTCMonth()] ?? 'Jan';
  return `${two(at.getUTCDate())}/${month}/${String(at.getUTCFullYear())}:${two(at.getUTCHours())}:${two(at.getUTCMinutes())}:${two(at.getUTCSeconds())} +0000`;
}

/** What the local gateway knows of one request, for both events. */
export interface HttpApiRequestFacts {
  readonly awsAccountId: string;
  readonly apiId: string;
  readonly stage: string;
  readonly requestId: string;
  readonly startedAt: number;
  readonly method: string;
  /** The path as sent, below the stage (the route matched it). */
  readonly path: string;
  /** The matched route's template, e.g. `/v1/api-keys/{keyId}`. */
  readonly routePath: string;
  readonly pathParameters: Record<string, string> | null;
  readonly query: string | undefined;
  readonly headers: RawHeaders;
  /** The TCP peer: the only source of `sourceIp`. */
  readonly sourceIp: string;
}

/**
 * The path as HTTP API reports it in `rawPath` and `requestContext.http.path`: a named stage's
 * segment first (`/local/v1/whoami`, as on the stage's invoke URL); the `$default` stage has none.
 */
export function stagedPath(stage: string, path: string): string {
  return stage === '$default' ? path : `/${stage}${path}`;
}

function requestContext(facts: HttpApiRequestFacts, headers: Record<string, string>): APIGatewayEventRequestContextV2 {
  const domainName = headers.host ?? `${facts.apiId}.execute-api.localhost`;
  return {
    accountId: facts.awsAccountId,
    apiId: facts.apiId,
    domainName,
    domainPrefix: domainName.split('.')[0] ?? domainName,
    http: {
      method: facts.method,
      path: stagedPath(facts.stage, facts.path),
      protocol: 'HTTP/1.1',
      sourceIp: facts.sourceIp,
      userAgent: headers['user-agent'] ?? '',
    },
    requestId: facts.requestId,
    routeKey: routeKey(facts),
    stage: facts.stage,
    time: clfTime(facts.startedAt),
    timeEpoch: facts.startedAt,
  };
}

function routeKey(facts: Pick<HttpApiRequestFacts, 'method' | 'routePath'>): string {
  return `${facts.method} ${facts.routePath}`;
}

/** The parts both events share, in AWS's field order. */
function common(facts: HttpApiRequestFacts) {
  const { headers, cookies } = httpApiHeaders(facts.headers);
  const { rawQueryString, queryStringParameters } = httpApiQuery(facts.query);
  return {
    version: '2.0',
    routeKey: routeKey(facts),
    rawPath: stagedPath(facts.stage, facts.path),
    rawQueryString,
    ...(cookies === undefined ? {} : { cookies }),
    headers,
    ...(queryStringParameters === undefined ? {} : { queryStringParameters }),
    requestContext: requestContext(facts, headers),
    ...(facts.pathParameters === null ? {} : { pathParameters: facts.pathParameters }),
  };
}

/**
 * The authorizer's event. `identitySource` holds the values of the authorizer's identity
 * sources, in their order: `$request.header.x-api-key`, `$request.header.x-api-secret-key`,
 * `$context.identity.sourceIp` (the caller sends the first two, the connection gives the third).
 */
export function httpApiAuthorizerEvent(facts: HttpApiRequestFacts, routeArn: string, identitySource: readonly string[]): APIGatewayRequestAuthorizerEventV2 {
  const { cookies, ...rest } = common(facts);
  return { ...rest, type: 'REQUEST', routeArn, identitySource: [...identitySource], cookies: cookies ?? [] };
}

/** The Lambda integration's event on a route without an authorizer: no `authorizer` at all. */
export function httpApiPublicEvent(facts: HttpApiRequestFacts, body: string | null): APIGatewayProxyEventV2 {
  return { ...common(facts), ...(body === null ? {} : { body }), isBase64Encoded: false };
}

/** The Lambda integration's event behind the authorizer: its context at `requestContext.authorizer.lambda`. */
export function httpApiAuthorizedEvent(facts: HttpApiRequestFacts, body: string | null, authorizer: AuthorizerContextV2): HttpApiAuthorizedEvent {
  const event = httpApiPublicEvent(facts, body);
  return { ...event, requestContext: { ...event.requestContext, authorizer: { lambda: { ...authorizer } } } };
}
