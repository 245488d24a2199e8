import { randomUUID } from 'node:crypto';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { isApiSwitchRoute } from '#shared/authorization/api-switch.ts';
import { ACCOUNT_KEY_HEADER, USER_KEY_HEADER } from '#shared/authorization/decision.ts';
import { ROUTES, type FunctionGroup, type Route } from '#shared/http/routes.ts';
import { isCanonicalPath } from '#shared/http/request-path.ts';
import type { ResolvedDownstreamRoute } from '#shared/http/team-routes.ts';
import type { MethodThrottle, RequestLimiter } from './account-limiter.ts';
import { type CachedPolicy, LocalAuthorizerCache } from './authorizer-cache.ts';
import { type GatewayErrorKind, type GatewayResponse, gatewayError, proxyResponse } from './gateway-responses.ts';
import { LOCAL_AWS_ACCOUNT_ID, LOCAL_REGION, lambdaContext } from './lambda-context.ts';
import { evaluatePolicy } from './policy-evaluator.ts';
import { type RawHeaders, headerMaps, queryMaps, requestIdentity } from './proxy-event.ts';
import { RouteMatcher } from './route-matcher.ts';

/**
 * An in-process stand-in for API Gateway REST in front of the same Lambda handlers: route
 * matching from the one route table, the REQUEST authorizer with its identity sources and
 * policy cache (authorizer-cache.ts), IAM policy evaluation (policy-evaluator.ts), and the
 * gateway's own error responses (gateway-responses.ts), so that the local runtime refuses
 * exactly what the deployed stack refuses.
 */

export type AuthorizerFunction = (event: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;
export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** API Gateway's payload limit. */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
export const DEFAULT_STAGE = 'local';
const API_ID = 'local';

export interface GatewayRequest {
  readonly method: string;
  /** The raw path, as on the request line, without the query string. */
  readonly path: string;
  /** The raw query string, without `?`. */
  readonly query?: string | undefined;
  readonly headers: RawHeaders;
  readonly body?: string | undefined;
  /** The connection's peer address: the only source of `sourceIp`. */
  readonly sourceIp: string;
  /** The body's bytes, for backends that take them as sent (HTTP backends). */
  readonly rawBody?: Buffer | undefined;
}

export interface Gateway {
  readonly stage: string;
  readonly maxBodyBytes: number;
  handle(request: GatewayRequest): Promise<GatewayResponse>;
}

export interface GatewayOptions {
  readonly authorizer: AuthorizerFunction;
  readonly handlers: Readonly<Record<FunctionGroup, ProxyHandler>>;
  readonly authorizerCache: LocalAuthorizerCache;
  /** @default 'local' */
  readonly stage?: string;
  /** @default 10 MiB, like API Gateway */
  readonly maxBodyBytes?: number;
  /** Each account's plan, applied after the authorizer as API Gateway's usage plans are. @default none */
  readonly limiter?: RequestLimiter | undefined;
  /** The method throttle of the routes that need no keys (API Gateway's method throttling). @default none */
  readonly publicRouteThrottle?: MethodThrottle | undefined;
  /** The team's own routes behind the same authorizer (downstream.ts). @default none */
  readonly downstream?: DownstreamInvoker;
}

/** Serves the team's routes once the gateway has authorized a request for one of them. */
export interface DownstreamInvoker {
  readonly routes: readonly ResolvedDownstreamRoute[];
  invoke(route: ResolvedDownstreamRoute, event: APIGatewayProxyEvent, request: GatewayRequest, context: Context): Promise<GatewayResponse>;
}

// ---------------------------------------------------------------------------------------------
// Routes and authorizer results

type GatewayTarget =
  | { readonly method: string; readonly path: string; readonly kind: 'management'; readonly route: Route }
  | { readonly method: string; readonly path: string; readonly kind: 'team'; readonly route: ResolvedDownstreamRoute };

/** Management and team routes in one matcher, with API Gateway's precedence between them. */
function routeMatcher(teamRoutes: readonly ResolvedDownstreamRoute[]): RouteMatcher<GatewayTarget> {
  return new RouteMatcher<GatewayTarget>([
    ...ROUTES.map((route) => ({ method: route.method, path: route.path, kind: 'management' as const, route })),
    ...teamRoutes.map((route) => ({ method: route.method, path: route.path, kind: 'team' as const, route })),
  ]);
}

/**
 * API Gateway coerces context values to strings, and refuses a policy whose context holds
 * anything but strings, numbers and booleans (a 500, like any malformed authorizer result).
 */
function validatedResult(result: unknown): CachedPolicy | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const { principalId, policyDocument, context } = result as Partial<APIGatewayAuthorizerResult>;
  if (typeof principalId !== 'string' || principalId === '') return undefined;
  if (typeof policyDocument !== 'object' || !Array.isArray(policyDocument.Statement)) return undefined;
  const stringContext: Record<string, string> = {};
  for (const [name, value] of Object.entries(context ?? {})) {
    if (value === null || value === undefined) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') stringContext[name] = String(value);
    else return undefined;
  }
  return { principalId, policyDocument, context: stringContext };
}

function isUnauthorized(error: unknown): boolean {
  return error instanceof Error && error.message === 'Unauthorized';
}

// ---------------------------------------------------------------------------------------------

export function createGateway(options: GatewayOptions): Gateway {
  const stage = options.stage ?? DEFAULT_STAGE;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const cache = options.authorizerCache;
  const apiArn = `arn:aws:execute-api:${LOCAL_REGION}:${LOCAL_AWS_ACCOUNT_ID}:${API_ID}`;
  const matcher = routeMatcher(options.downstream?.routes ?? []);

  async function authorize(
    authorizerEvent: () => APIGatewayRequestAuthorizerEvent,
    cacheKey: string,
  ): Promise<{ ok: true; policy: CachedPolicy } | { ok: false; response: GatewayErrorKind }> {
    const cached = cache.get(cacheKey);
    if (cached !== undefined) return { ok: true, policy: cached };
    const generation = cache.generation;
    let result: unknown;
    try {
      // Built only when the authorizer runs: a cached decision needs no event.
      result = await options.authorizer(authorizerEvent());
    } catch (error) {
      return { ok: false, response: isUnauthorized(error) ? 'unauthorized' : 'authorizer-failure' };
    }
    const policy = validatedResult(result);
    if (policy === undefined) return { ok: false, response: 'authorizer-failure' };
    cache.put(cacheKey, policy, generation);
    return { ok: true, policy };
  }

  async function handle(request: GatewayRequest): Promise<GatewayResponse> {
    const requestId = randomUUID();
    const startedAt = Date.now();
    const body = request.body === undefined || request.body === '' ? null : request.body;
    if (body !== null && Buffer.byteLength(body, 'utf8') > maxBodyBytes) return gatewayError('request-too-large', requestId);

    const method = request.method.toUpperCase();
    // Before any route is matched: the route, the policy and the backend must all read one path.
    if (!isCanonicalPath(request.path)) return gatewayError('non-canonical-path', requestId);
    const matched = matcher.match(method, request.path);
    if (matched === undefined) return gatewayError('missing-authentication-token', requestId);
    const { route: target, pathParameters } = matched;
    const resourcePath = target.path;

    const { headers, multiValueHeaders } = headerMaps(request.headers);
    const accountKey = multiValueHeaders[ACCOUNT_KEY_HEADER] ?? [];
    const userKey = multiValueHeaders[USER_KEY_HEADER] ?? [];
    // A management route that needs no keys (the route table says so): no authorizer in front of it.
    const publicRoute = target.kind === 'management' && target.route.public === true ? target.route : undefined;
    const isPublic = publicRoute !== undefined;
    // Like API Gateway: without every identity source the authorizer is not even called.
    if (!isPublic && (accountKey.every((v) => v === '') || userKey.every((v) => v === ''))) return gatewayError('unauthorized', requestId);

    const { queryStringParameters, multiValueQueryStringParameters } = queryMaps(request.query);
    const methodArn = `${apiArn}/${stage}/${method}/${request.path.replace(/^\//, '')}`;
    const requestContextBase = {
      accountId: LOCAL_AWS_ACCOUNT_ID,
      apiId: API_ID,
      protocol: 'HTTP/1.1',
      httpMethod: method,
      identity: requestIdentity(request.sourceIp, headers['user-agent']),
      path: `/${stage}${request.path}`,
      stage,
      requestId,
      requestTimeEpoch: startedAt,
      resourceId: target.kind === 'management' ? target.route.operationId : `${method} ${resourcePath}`,
      resourcePath,
    };
    const common = {
      resource: resourcePath,
      path: request.path,
      httpMethod: method,
      headers,
      multiValueHeaders,
      pathParameters,
      queryStringParameters,
      multiValueQueryStringParameters,
      stageVariables: null,
    };

    // A route without an authorizer: no keys, no policy, no authorizer context, as in API Gateway.
    if (publicRoute !== undefined) {
      // Its own throttle, for every caller together: over it, API Gateway's 429 and no invocation.
      if (options.publicRouteThrottle?.admit(method, resourcePath) === 'throttled') return gatewayError('throttled', requestId);
      return invoke(publicRoute.group, { ...common, body, isBase64Encoded: false, requestContext: { ...requestContextBase, authorizer: null } }, requestId, startedAt);
    }

    const authorization = await authorize(
      () => ({ type: 'REQUEST', methodArn, ...common, requestContext: { ...requestContextBase, authorizer: undefined } }),
      // The switch routes have an authorizer, and so a cache, of their own (shared/authorization/api-switch.ts).
      (target.kind === 'management' && isApiSwitchRoute(target.route) ? 'api-switch:' : '') + LocalAuthorizerCache.key(accountKey, userKey, request.sourceIp),
    );
    if (!authorization.ok) return gatewayError(authorization.response, requestId);
    const { policy } = authorization;

    let evaluation: ReturnType<typeof evaluatePolicy>;
    try {
      evaluation = evaluatePolicy(policy.policyDocument, methodArn);
    } catch {
      return gatewayError('authorizer-failure', requestId);
    }
    switch (evaluation) {
      case 'explicit-deny':
        return gatewayError('explicit-deny', requestId);
      case 'implicit-deny':
        return gatewayError('implicit-deny', requestId);
      case 'allow':
        break;
    }
    const verdict = options.limiter?.admit(policy.context) ?? 'allow';
    if (verdict !== 'allow') return gatewayError(verdict, requestId);

    const event: APIGatewayProxyEvent = {
      ...common,
      body,
      isBase64Encoded: false,
      requestContext: {
        ...requestContextBase,
        authorizer: { ...policy.context, principalId: policy.principalId, integrationLatency: Date.now() - startedAt },
      },
    };
    if (target.kind === 'team') {
      const { downstream } = options;
      if (downstream === undefined) return gatewayError('integration-failure', requestId);
      try {
        return await downstream.invoke(target.route, event, request, lambdaContext('downstream', requestId, startedAt));
      } catch {
        return gatewayError('integration-failure', requestId);
      }
    }
    return invoke(target.route.group, event, requestId, startedAt);
  }

  async function invoke(group: FunctionGroup, event: APIGatewayProxyEvent, requestId: string, startedAt: number): Promise<GatewayResponse> {
    try {
      const result = await options.handlers[group](event, lambdaContext(group, requestId, startedAt));
      return proxyResponse(result, requestId);
    } catch {
      // A function error: API Gateway hides it behind a 502 (the handler has logged it).
      return gatewayError('integration-failure', requestId);
    }
  }

  return { stage, maxBodyBytes, handle };
}
