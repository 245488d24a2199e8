import { createHash, randomUUID } from 'node:crypto';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayEventIdentity,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { isApiSwitchRoute } from '#shared/authorization/api-switch.ts';
import { ACCOUNT_KEY_HEADER, USER_KEY_HEADER, VALID_UNTIL_CONTEXT } from '#shared/authorization/decision.ts';
import { evaluatePolicy } from './policy-evaluator.ts';
import type { AuthorizerCache } from '#shared/ports/authorizer-cache.ts';
import { ROUTES, type FunctionGroup, type Route } from '#shared/http/routes.ts';
import { NON_CANONICAL_PATH_MESSAGE, isCanonicalPath } from '#shared/http/request-path.ts';
import type { MethodThrottle, RequestLimiter } from './account-limiter.ts';
import type { Readable } from 'node:stream';
import type { ResolvedDownstreamRoute } from '#shared/http/team-routes.ts';
import { RouteMatcher } from './route-matcher.ts';

/**
 * An in-process stand-in for API Gateway REST in front of the same Lambda handlers: route
 * matching from the one route table, the REQUEST authorizer with its identity sources and
 * policy cache, IAM policy evaluation, and the gateway's own error responses, so that the
 * local runtime refuses exactly what the deployed stack refuses.
 */

export type AuthorizerFunction = (event: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;
export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** API Gateway's payload limit. */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
export const DEFAULT_STAGE = 'local';
const REGION = 'local';
const AWS_ACCOUNT_ID = '000000000000';
const API_ID = 'local';
/** API Gateway lowers an authorizer's TTL of more than an hour to an hour. */
const MAX_AUTHORIZER_TTL_SECONDS = 3600;
const MAX_CACHED_POLICIES = 10_000;

export interface GatewayRequest {
  readonly method: string;
  /** The raw path, as on the request line, without the query string. */
  readonly path: string;
  /** The raw query string, without `?`. */
  readonly query?: string | undefined;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body?: string | undefined;
  /** The connection's peer address: the only source of `sourceIp`. */
  readonly sourceIp: string;
  /** The body's bytes, for backends that take them as sent (HTTP backends). */
  readonly rawBody?: Buffer | undefined;
}

export interface GatewayResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  readonly body: string;
  readonly isBase64Encoded: boolean;
  /** A body streamed from an HTTP backend, sent as it arrives (then `body` is empty). */
  readonly stream?: Readable;
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

export interface CachedPolicy {
  readonly principalId: string;
  readonly policyDocument: APIGatewayAuthorizerResult['policyDocument'];
  readonly context: Readonly<Record<string, string>>;
}

/**
 * The authorizer result cache of a stage. Keyed like the deployed authorizer's identity
 * sources (both key headers and the source address), so a policy cached for one address is
 * never reused for another. Only successful authorizer results are cached, as API Gateway
 * does: a 401 or a fault always reaches the authorizer again next time.
 */
export class LocalAuthorizerCache implements AuthorizerCache {
  readonly ttlSeconds: number;
  readonly #entries = new Map<string, { readonly policy: CachedPolicy; readonly expiresAt: number }>();
  readonly #now: () => number;
  #generation = 0;

  /** @param ttlSeconds 0 turns caching off; at most 3600, like API Gateway. */
  constructor(ttlSeconds: number, now: () => number = Date.now) {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 0 || ttlSeconds > MAX_AUTHORIZER_TTL_SECONDS) {
      throw new Error(`the authorizer cache TTL must be a whole number of seconds from 0 to ${MAX_AUTHORIZER_TTL_SECONDS}`);
    }
    this.ttlSeconds = ttlSeconds;
    this.#now = now;
  }

  /** Changes on every flush; a result obtained before a flush must not be stored after it. */
  get generation(): number {
    return this.#generation;
  }

  get size(): number {
    return this.#entries.size;
  }

  static key(accountKey: readonly string[], userKey: readonly string[], sourceIp: string): string {
    // Hashed so the cache holds no usable secret; JSON keeps the three parts unambiguous.
    return createHash('sha256').update(JSON.stringify([accountKey, userKey, sourceIp])).digest('base64url');
  }

  get(key: string): CachedPolicy | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.policy;
  }

  /**
   * Stores a policy unless caching is off or the cache was flushed since `generation` was
   * read: an authorizer call that raced a revocation must not put the old decision back.
   */
  put(key: string, policy: CachedPolicy, generation: number): void {
    if (this.ttlSeconds === 0 || generation !== this.#generation) return;
    if (this.#entries.size >= MAX_CACHED_POLICIES && !this.#entries.has(key)) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.delete(key);
    // An Allow with a deadline (a key's expiry, a rolled secret's grace) is never served past it.
    const validUntil = policy.context[VALID_UNTIL_CONTEXT];
    const deadline = validUntil === undefined ? Number.POSITIVE_INFINITY : Date.parse(validUntil);
    if (Number.isNaN(deadline)) return;
    this.#entries.set(key, { policy, expiresAt: Math.min(this.#now() + this.ttlSeconds * 1000, deadline) });
  }

  flush(): Promise<void> {
    this.#generation += 1;
    this.#entries.clear();
    return Promise.resolve();
  }
}

// ---------------------------------------------------------------------------------------------
// API Gateway's own responses (its default gateway responses)

type GatewayErrorKind =
  | 'non-canonical-path'
  | 'missing-authentication-token'
  | 'unauthorized'
  | 'explicit-deny'
  | 'implicit-deny'
  | 'authorizer-failure'
  | 'request-too-large'
  | 'integration-failure'
  | 'throttled'
  | 'quota-exceeded';

const GATEWAY_ERRORS: Record<GatewayErrorKind, { status: number; message: string | null; type: string }> = {
  'non-canonical-path': { status: 400, message: NON_CANONICAL_PATH_MESSAGE, type: 'BadRequestException' },
  'missing-authentication-token': { status: 403, message: 'Missing Authentication Token', type: 'MissingAuthenticationTokenException' },
  unauthorized: { status: 401, message: 'Unauthorized', type: 'UnauthorizedException' },
  'explicit-deny': {
    status: 403,
    message: 'User is not authorized to access this resource with an explicit deny',
    type: 'AccessDeniedException',
  },
  'implicit-deny': { status: 403, message: 'User is not authorized to access this resource', type: 'AccessDeniedException' },
  'authorizer-failure': { status: 500, message: null, type: 'AuthorizerConfigurationException' },
  'request-too-large': { status: 413, message: 'Request Entity Too Large', type: 'RequestTooLargeException' },
  'integration-failure': { status: 502, message: 'Internal server error', type: 'InternalServerErrorException' },
  // A usage plan's answers: over the rate (THROTTLED) and over the quota (QUOTA_EXCEEDED).
  throttled: { status: 429, message: 'Too Many Requests', type: 'TooManyRequestsException' },
  'quota-exceeded': { status: 429, message: 'Limit Exceeded', type: 'LimitExceededException' },
};

export function gatewayError(kind: GatewayErrorKind, requestId: string = randomUUID()): GatewayResponse {
  const { status, message, type } = GATEWAY_ERRORS[kind];
  return {
    status,
    headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId, 'x-amzn-errortype': type },
    body: JSON.stringify({ message }),
    isBase64Encoded: false,
  };
}

// ---------------------------------------------------------------------------------------------
// Request shaping

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

interface HeaderMaps {
  readonly headers: Record<string, string>;
  readonly multiValueHeaders: Record<string, string[]>;
}

/** API Gateway's two views of the headers: the last value of each, and every value. */
function headerMaps(raw: GatewayRequest['headers']): HeaderMaps {
  // Maps, not object literals: a client's 'constructor' or '__proto__' header would otherwise
  // be read from Object.prototype and throw (a 500 for anyone who sends one).
  const headers = new Map<string, string>();
  const multiValueHeaders = new Map<string, string[]>();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const values = typeof value === 'string' ? [value] : [...value];
    const last = values.at(-1);
    if (last === undefined) continue;
    const key = name.toLowerCase();
    multiValueHeaders.set(key, [...(multiValueHeaders.get(key) ?? []), ...values]);
    headers.set(key, last);
  }
  return { headers: Object.fromEntries(headers), multiValueHeaders: Object.fromEntries(multiValueHeaders) };
}

function queryMaps(query: string | undefined): {
  queryStringParameters: Record<string, string> | null;
  multiValueQueryStringParameters: Record<string, string[]> | null;
} {
  if (query === undefined || query === '') return { queryStringParameters: null, multiValueQueryStringParameters: null };
  // Maps for the same reason as the headers: '?constructor=' or '?valueOf=' must not reach Object.prototype.
  const single = new Map<string, string>();
  const multi = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(query)) {
    single.set(name, value);
    multi.set(name, [...(multi.get(name) ?? []), value]);
  }
  if (single.size === 0) return { queryStringParameters: null, multiValueQueryStringParameters: null };
  return { queryStringParameters: Object.fromEntries(single), multiValueQueryStringParameters: Object.fromEntries(multi) };
}

/** The caller's identity as API Gateway REST puts it in events: only the source address and user agent are known. */
export function requestIdentity(sourceIp: string, userAgent: string | undefined): APIGatewayEventIdentity {
  return {
    accessKey: null,
    accountId: null,
    apiKey: null,
    apiKeyId: null,
    caller: null,
    clientCert: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    sourceIp,
    user: null,
    userAgent: userAgent ?? null,
    userArn: null,
  };
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

export function lambdaContext(name: string, requestId: string, startedAt: number): Context {
  const functionName = `latchkey-${name}`;
  const timeoutMs = 29_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${AWS_ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, startedAt + timeoutMs - Date.now()),
    // The Context type still requires the callback-era methods; no handler here uses them.
    /* eslint-disable @typescript-eslint/no-deprecated */
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
    /* eslint-enable @typescript-eslint/no-deprecated */
  };
}

/** A handler's result as the client sees it; a malformed one is API Gateway's 502. */
export function proxyResponse(result: unknown, requestId: string): GatewayResponse {
  if (typeof result !== 'object' || result === null) return gatewayError('integration-failure', requestId);
  const { statusCode, headers, multiValueHeaders, isBase64Encoded } = result as Partial<APIGatewayProxyResult>;
  const body: unknown = (result as { body?: unknown }).body;
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    return gatewayError('integration-failure', requestId);
  }
  if (body !== undefined && body !== null && typeof body !== 'string') return gatewayError('integration-failure', requestId);
  const merged = new Map<string, string | string[]>();
  for (const [name, value] of Object.entries(headers ?? {})) merged.set(name.toLowerCase(), String(value));
  for (const [name, values] of Object.entries(multiValueHeaders ?? {})) {
    const key = name.toLowerCase();
    const previous = merged.get(key);
    const list = previous === undefined ? [] : typeof previous === 'string' ? [previous] : previous;
    merged.set(key, [...list, ...values.map(String)]);
  }
  merged.set('x-amzn-requestid', requestId);
  return { status: statusCode, headers: Object.fromEntries(merged), body: typeof body === 'string' ? body : '', isBase64Encoded: isBase64Encoded === true };
}

// ---------------------------------------------------------------------------------------------

export function createGateway(options: GatewayOptions): Gateway {
  const stage = options.stage ?? DEFAULT_STAGE;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const cache = options.authorizerCache;
  const apiArn = `arn:aws:execute-api:${REGION}:${AWS_ACCOUNT_ID}:${API_ID}`;
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
      accountId: AWS_ACCOUNT_ID,
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
