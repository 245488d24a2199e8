import { randomUUID } from 'node:crypto';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
  Context,
} from 'aws-lambda';
import type { ApiFlavor } from '#shared/adapters/environment.ts';
import { isApiSwitchRoute } from '#shared/authorization/api-switch.ts';
import { ACCOUNT_KEY_HEADER, USER_KEY_HEADER } from '#shared/authorization/decision.ts';
import { ROUTES, type FunctionGroup, type Route } from '#shared/http/routes.ts';
import { isCanonicalPath } from '#shared/http/request-path.ts';
import type { ResolvedDownstreamRoute } from '#shared/http/team-routes.ts';
import type { MethodThrottle, RequestLimiter } from './account-limiter.ts';
import { type CachedPolicy, LocalAuthorizerCache } from './authorizer-cache.ts';
import { type GatewayErrorKind, type GatewayResponse, gatewayError, proxyResponse } from './gateway-responses.ts';
import { LOCAL_AWS_ACCOUNT_ID, LOCAL_REGION, lambdaContext } from './lambda-context.ts';
import { type HttpApiAuthorizedEvent, type HttpApiProxyEvent, type HttpApiRequestFacts, httpApiAuthorizedEvent, httpApiAuthorizerEvent, httpApiPublicEvent } from './http-api-event.ts';
import { httpApiError, httpApiProxyResponse } from './http-api-responses.ts';
import { evaluatePolicy } from './policy-evaluator.ts';
import { requestIdentity } from '#shared/http/request-identity.ts';
import { type RawHeaders, headerMaps, queryMaps } from './proxy-event.ts';
import { RouteMatcher } from './route-matcher.ts';

/**
 * An in-process stand-in for API Gateway in front of the same Lambda handlers: route matching
 * from the one route table, the REQUEST authorizer with its identity sources and policy cache
 * (authorizer-cache.ts), IAM policy evaluation (policy-evaluator.ts), and the gateway's own
 * error responses, so that the local runtime refuses exactly what the deployed stack refuses.
 * Two flavors (DESIGN 15): `rest`, API Gateway REST (payload 1.0, gateway-responses.ts, usage
 * plans), and `http`, API Gateway's HTTP API (payload 2.0 to the authorizer and the Lambda
 * integrations, http-api-event.ts; its own answers, http-api-responses.ts; route throttles and
 * no usage plans).
 */

export type AuthorizerFunction = (event: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;
export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
/** The authorizer of the `http` flavor: payload format 2.0, answering with an IAM policy. */
export type HttpApiAuthorizerFunction = (event: APIGatewayRequestAuthorizerEventV2) => Promise<unknown>;
/** A Lambda integration of the `http` flavor: payload format 2.0 in, a 2.0 response out. */
export type HttpApiProxyHandler = (event: HttpApiProxyEvent, context: Context) => Promise<unknown>;

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
  /** The front door emulated, whose own answers the server gives too (a body over the limit). @default 'rest' */
  readonly flavor?: ApiFlavor;
  readonly stage: string;
  readonly maxBodyBytes: number;
  handle(request: GatewayRequest): Promise<GatewayResponse>;
}

interface CommonGatewayOptions {
  readonly authorizerCache: LocalAuthorizerCache;
  /** @default 'local' */
  readonly stage?: string;
  /** @default 10 MiB, like API Gateway */
  readonly maxBodyBytes?: number;
  /** The throttle of the routes that need no keys (REST's method throttle, HTTP API's route throttle). @default none */
  readonly publicRouteThrottle?: MethodThrottle | undefined;
  /** The team's own routes behind the same authorizer (downstream.ts). @default none */
  readonly downstream?: DownstreamInvoker;
}

/** API Gateway REST. */
export interface RestGatewayOptions extends CommonGatewayOptions {
  /** @default 'rest' */
  readonly flavor?: 'rest';
  readonly authorizer: AuthorizerFunction;
  readonly handlers: Readonly<Record<FunctionGroup, ProxyHandler>>;
  /** Each account's plan, applied after the authorizer as API Gateway's usage plans are. @default none */
  readonly limiter?: RequestLimiter | undefined;
}

/** API Gateway's HTTP API: no usage plans, so no per-account limiter. */
export interface HttpGatewayOptions extends CommonGatewayOptions {
  readonly flavor: 'http';
  readonly authorizer: HttpApiAuthorizerFunction;
  readonly handlers: Readonly<Record<FunctionGroup, HttpApiProxyHandler>>;
}

export type GatewayOptions = RestGatewayOptions | HttpGatewayOptions;

/** An authorized request for a team route, in the event its flavor sends a Lambda backend. */
export type DownstreamCall =
  | { readonly flavor: 'rest'; readonly event: APIGatewayProxyEvent; readonly method: string; readonly pathParameters: Record<string, string> | null }
  | { readonly flavor: 'http'; readonly event: HttpApiAuthorizedEvent; readonly method: string; readonly pathParameters: Record<string, string> | null };

/** Serves the team's routes once the gateway has authorized a request for one of them. */
export interface DownstreamInvoker {
  readonly routes: readonly ResolvedDownstreamRoute[];
  invoke(route: ResolvedDownstreamRoute, call: DownstreamCall, request: GatewayRequest, context: Context): Promise<GatewayResponse>;
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
  const error = options.flavor === 'http' ? httpApiError : gatewayError;

  async function authorize(
    callAuthorizer: () => Promise<unknown>,
    cacheKey: string,
  ): Promise<{ ok: true; policy: CachedPolicy } | { ok: false; response: GatewayErrorKind }> {
    const cached = cache.get(cacheKey);
    if (cached !== undefined) return { ok: true, policy: cached };
    const generation = cache.generation;
    let result: unknown;
    try {
      // The event is built only when the authorizer runs: a cached decision needs none.
      result = await callAuthorizer();
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
    if (body !== null && Buffer.byteLength(body, 'utf8') > maxBodyBytes) return error('request-too-large', requestId);

    const method = request.method.toUpperCase();
    // Before any route is matched: the route, the policy and the backend must all read one path.
    if (!isCanonicalPath(request.path)) return error('non-canonical-path', requestId);
    const matched = matcher.match(method, request.path);
    if (matched === undefined) return error('missing-authentication-token', requestId);
    const { route: target, pathParameters } = matched;
    const resourcePath = target.path;

    const { headers, multiValueHeaders } = headerMaps(request.headers);
    const accountKey = multiValueHeaders[ACCOUNT_KEY_HEADER] ?? [];
    const userKey = multiValueHeaders[USER_KEY_HEADER] ?? [];
    // A management route that needs no keys (the route table says so): no authorizer in front of it.
    const publicRoute = target.kind === 'management' && target.route.public === true ? target.route : undefined;
    // Like API Gateway (both flavors): without every identity source the authorizer is not even called.
    if (publicRoute === undefined && (accountKey.every((v) => v === '') || userKey.every((v) => v === ''))) return error('unauthorized', requestId);
    // REST's method ARN and HTTP API's route ARN: the same form, the path as sent.
    const methodArn = `${apiArn}/${stage}/${method}/${request.path.replace(/^\//, '')}`;
    // The switch routes have an authorizer, and so a cache, of their own (shared/authorization/api-switch.ts).
    const cacheKey =
      (target.kind === 'management' && isApiSwitchRoute(target.route) ? 'api-switch:' : '') + LocalAuthorizerCache.key(accountKey, userKey, request.sourceIp);
    const facts: RequestFacts = { request, requestId, startedAt, method, target, pathParameters, stage };

    if (options.flavor === 'http') {
      const httpFacts = httpApiFacts(facts);
      const invokeV2 = async (group: FunctionGroup, event: HttpApiProxyEvent): Promise<GatewayResponse> => {
        try {
          return httpApiProxyResponse(await options.handlers[group](event, lambdaContext(group, requestId, startedAt)), requestId);
        } catch {
          // A function error: HTTP API hides it behind its 500 (the handler has logged it).
          return httpApiError('integration-failure', requestId);
        }
      };
      // A route without an authorizer, under its route throttle: no keys, no policy, no `authorizer` in the event.
      if (publicRoute !== undefined) {
        if (options.publicRouteThrottle?.admit(method, resourcePath) === 'throttled') return httpApiError('throttled', requestId);
        return invokeV2(publicRoute.group, httpApiPublicEvent(httpFacts, body));
      }
      const identitySource = [accountKey.join(','), userKey.join(','), request.sourceIp];
      const authorization = await authorize(() => options.authorizer(httpApiAuthorizerEvent(httpFacts, methodArn, identitySource)), cacheKey);
      if (!authorization.ok) return httpApiError(authorization.response, requestId);
      const refusal = policyRefusal(authorization.policy, methodArn);
      if (refusal !== undefined) return httpApiError(refusal, requestId);
      // No usage plans on HTTP API: nothing stands between the policy and the integration.
      const event = httpApiAuthorizedEvent(httpFacts, body, authorization.policy.context);
      if (target.kind === 'team') {
        return invokeTeam(target.route, { flavor: 'http', event, method, pathParameters }, facts);
      }
      return invokeV2(target.route.group, event);
    }

    const { queryStringParameters, multiValueQueryStringParameters } = queryMaps(request.query);
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
    const restHandlers = options.handlers;
    const invoke = async (group: FunctionGroup, event: APIGatewayProxyEvent): Promise<GatewayResponse> => {
      try {
        return proxyResponse(await restHandlers[group](event, lambdaContext(group, requestId, startedAt)), requestId);
      } catch {
        // A function error: API Gateway hides it behind a 502 (the handler has logged it).
        return gatewayError('integration-failure', requestId);
      }
    };

    // A route without an authorizer: no keys, no policy, no authorizer context, as in API Gateway.
    if (publicRoute !== undefined) {
      // Its own throttle, for every caller together: over it, API Gateway's 429 and no invocation.
      if (options.publicRouteThrottle?.admit(method, resourcePath) === 'throttled') return gatewayError('throttled', requestId);
      return invoke(publicRoute.group, { ...common, body, isBase64Encoded: false, requestContext: { ...requestContextBase, authorizer: null } });
    }

    const authorizer = options.authorizer;
    const authorization = await authorize(
      () => authorizer({ type: 'REQUEST', methodArn, ...common, requestContext: { ...requestContextBase, authorizer: undefined } }),
      cacheKey,
    );
    if (!authorization.ok) return gatewayError(authorization.response, requestId);
    const { policy } = authorization;
    const refusal = policyRefusal(policy, methodArn);
    if (refusal !== undefined) return gatewayError(refusal, requestId);
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
      return invokeTeam(target.route, { flavor: 'rest', event, method, pathParameters }, facts);
    }
    return invoke(target.route.group, event);
  }

  async function invokeTeam(route: ResolvedDownstreamRoute, call: DownstreamCall, facts: RequestFacts): Promise<GatewayResponse> {
    const { downstream } = options;
    if (downstream === undefined) return error('integration-failure', facts.requestId);
    try {
      return await downstream.invoke(route, call, facts.request, lambdaContext('downstream', facts.requestId, facts.startedAt));
    } catch {
      return error('integration-failure', facts.requestId);
    }
  }

  return { flavor: options.flavor ?? 'rest', stage, maxBodyBytes, handle };
}

/** What one request is once routed, for either flavor's events. */
interface RequestFacts {
  readonly request: GatewayRequest;
  readonly requestId: string;
  readonly startedAt: number;
  readonly method: string;
  readonly target: GatewayTarget;
  readonly pathParameters: Record<string, string> | null;
  readonly stage: string;
}

function httpApiFacts(facts: RequestFacts): HttpApiRequestFacts {
  return {
    awsAccountId: LOCAL_AWS_ACCOUNT_ID,
    apiId: API_ID,
    stage: facts.stage,
    requestId: facts.requestId,
    startedAt: facts.startedAt,
    method: facts.method,
    path: facts.request.path,
    routePath: facts.target.path,
    pathParameters: facts.pathParameters,
    query: facts.request.query,
    headers: facts.request.headers,
    sourceIp: facts.request.sourceIp,
  };
}

/** The policy's verdict on the route, as either flavor evaluates it; a policy it cannot read is the authorizer's fault. */
function policyRefusal(policy: CachedPolicy, arn: string): GatewayErrorKind | undefined {
  let evaluation: ReturnType<typeof evaluatePolicy>;
  try {
    evaluation = evaluatePolicy(policy.policyDocument, arn);
  } catch {
    return 'authorizer-failure';
  }
  switch (evaluation) {
    case 'explicit-deny':
      return 'explicit-deny';
    case 'implicit-deny':
      return 'implicit-deny';
    case 'allow':
      return undefined;
  }
}
