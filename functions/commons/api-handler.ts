import middy, { type MiddlewareObj } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { MAX_BODY_BYTES, type OperationSchemas } from '#shared/http/schemas/common.ts';
import type { Actor } from '#shared/domain/audit.ts';
import { PERMISSIONS_CONTEXT, SECRET_TAG_CONTEXT, VALID_UNTIL_CONTEXT, permissionsFromContext } from '#shared/authorization/context-entries.ts';
import { permits } from '#shared/domain/permissions.ts';
import { NotFoundError } from '#shared/domain/errors.ts';
import { isId } from '#shared/domain/ids.ts';
import { canHoldKeys } from '#shared/domain/roles.ts';
import { type PresentedSecrets, isSecretTag } from '#shared/domain/secret-tags.ts';
import type { Principal } from '#shared/domain/model.ts';
import { type FunctionGroup, type OperationId, type OperationIdOf, type Route, findRoute, routesOfGroup } from '#shared/http/routes.ts';
import type { HandlerDeps, OperationGroup, OperationRequest } from './operations.ts';
import { type ProxyEvent, proxyEventV1Of } from './proxy-event.ts';
import { FAULT_DETAIL, type FieldError, HttpProblemError, problemFor, problemResponse, unauthorizedResponse } from './problems.ts';

/** Takes either payload (REST's 1.0, HTTP API's 2.0) and answers `{statusCode, headers, body}`, valid for both. */
export type ApiHandler = (event: ProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** `lastUsedAt` is written at most this often per key and container: it is informative, not an audit trail. */
export const KEY_USE_INTERVAL_MS = 60_000;
const MAX_TRACKED_KEYS = 10_000;

const JSON_HEADERS = {
  'content-type': 'application/json',
  // Responses carry account data and, from two routes, secrets: no cache may keep them.
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

/** Which resource a malformed path id fails to name: such an id is simply not found. */
const PATH_RESOURCES: Readonly<Record<string, string>> = { userId: 'user', keyId: 'API key', ruleId: 'CIDR rule' };

/**
 * The Lambda handler of one function group: normalises headers, finds the route, re-checks
 * the caller's role, validates the request against the operation's schemas, runs its one use
 * case and answers JSON, or an RFC 9457 problem document for anything refused. It knows only
 * the group's own operations and schemas, so a function bundles no other route's code.
 */
export function createGroupHandler<G extends FunctionGroup, D extends HandlerDeps>(group: OperationGroup<G, D>, deps: D): ApiHandler {
  const routes = routesOfGroup(group.group);
  const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(httpHeaderNormalizer())
    .use(requestLog(deps))
    .use(keyUseRecording(deps))
    .use(problemResponses(deps))
    .handler(async (event) => {
      const route = routes.find((r) => r.method === event.httpMethod && r.path === event.resource);
      if (route === undefined) throw new HttpProblemError('not-found', 'no such route');
      const principal = route.public === true ? undefined : principalOf(event);
      const presentedSecrets = route.public === true ? undefined : presentedSecretsOf(event);
      if (route.public !== true) {
        // The authorizer always passes a principal; without one the request never was authorized.
        if (principal === undefined || presentedSecrets === null) return unauthorizedResponse();
        // A cached Allow outlives neither the key's expiry nor a rolled secret's grace period.
        if (authorizationLapsed(event, deps.now())) return unauthorizedResponse();
        // Defence in depth: the authorizer's policy already refuses this, unless it is misconfigured.
        if (!(route.roles as readonly string[]).includes(principal.role)) {
          throw new HttpProblemError('forbidden', `a key of a user with role '${principal.role}' may not call this route`);
        }
        if (!permits(principal.permissions ?? null, route.permission)) {
          throw new HttpProblemError('forbidden', `this key is restricted and does not hold '${route.permission ?? ''}'`);
        }
      }
      // Every route of routesOfGroup is one of the group's operations.
      const operationId = route.operationId as OperationIdOf<G>;
      const schemas: OperationSchemas = group.schemas[operationId];
      const sourceIp = event.requestContext.identity.sourceIp;
      const request: OperationRequest<OperationId> = {
        principal,
        actor: {
          userId: principal?.userId ?? null,
          keyId: principal?.keyId ?? null,
          sourceIp,
          presentedSecrets: presentedSecrets ?? undefined,
          ...(principal?.permissions === undefined ? {} : { permissions: principal.permissions }),
        } satisfies Actor,
        sourceIp,
        params: parsePathParameters(schemas, event),
        query: parseQuery(schemas, event),
        body: parseBody(schemas, event),
        rawBody: rawBodyOf(event),
        headers: event.headers,
      } as OperationRequest<OperationId>;
      // The request parts were validated with this operation's own schemas just above, which is
      // the correlation the type system cannot see through the union of operation ids.
      const operation = group.operations[operationId] as (deps: D, request: OperationRequest<OperationId>) => Promise<unknown>;
      const result = await operation(deps, request);
      if (schemas.response === undefined) return { statusCode: route.status, headers: { 'cache-control': 'no-store' }, body: '' };
      // A response that does not match its schema is a fault, not something to send.
      return { statusCode: route.status, headers: { ...JSON_HEADERS }, body: JSON.stringify(schemas.response.parse(result)) };
    });
  // HTTP API's payload 2.0 is read as REST's 1.0 (./proxy-event.ts): one shape for every step above.
  return (event, context) => handler(proxyEventV1Of(event), context);
}

/**
 * For the Lambda entry points: the dependencies are built on the first invocation, so that
 * importing a handler module needs no environment and a cold start pays for them once.
 */
export function lazyGroupHandler<G extends FunctionGroup, D extends HandlerDeps>(group: OperationGroup<G, D>, buildDeps: () => D): ApiHandler {
  let handler: ApiHandler | undefined;
  return (event, context) => {
    handler ??= createGroupHandler(group, buildDeps());
    return handler(event, context);
  };
}

/** The principal the authorizer established; anything malformed counts as none. */
export function principalOf(event: APIGatewayProxyEvent): Principal | undefined {
  const context: unknown = event.requestContext.authorizer;
  if (typeof context !== 'object' || context === null) return undefined;
  const { accountId, userId, role, keyId } = context as Record<string, unknown>;
  if (typeof accountId !== 'string' || typeof userId !== 'string' || typeof keyId !== 'string' || typeof role !== 'string') {
    return undefined;
  }
  if (!isId(accountId) || !isId(userId) || !isId(keyId) || !canHoldKeys(role)) return undefined;
  const permissions = permissionsFromContext((context as Record<string, unknown>)[PERMISSIONS_CONTEXT]);
  if (permissions === undefined) return undefined;
  return { accountId, userId, role, keyId, permissions };
}

/**
 * The tags of the secrets the authorizer's Allow was made for, which every write checks are
 * still live. Undefined when the context has none (an Allow cached by an authorizer from
 * before tags, which lapses with the cache's TTL): the writes then check the key alone.
 * Null for anything else that is not a pair of tags: the request is refused.
 */
export function presentedSecretsOf(event: APIGatewayProxyEvent): PresentedSecrets | undefined | null {
  const context: unknown = event.requestContext.authorizer;
  if (typeof context !== 'object' || context === null) return undefined;
  const accountKey = (context as Record<string, unknown>)[SECRET_TAG_CONTEXT.accountKey];
  const userKey = (context as Record<string, unknown>)[SECRET_TAG_CONTEXT.userKey];
  if (accountKey === undefined && userKey === undefined) return undefined;
  if (typeof accountKey !== 'string' || typeof userKey !== 'string' || !isSecretTag(accountKey) || !isSecretTag(userKey)) return null;
  return { accountKey, userKey };
}

/**
 * Whether the authorizer's Allow carried a deadline (the key's expiry, or the end of a rolled
 * secret's grace period) that has passed. API Gateway may serve a cached Allow for the whole
 * cache TTL; this makes the deadline exact on every route these handlers serve.
 */
export function authorizationLapsed(event: APIGatewayProxyEvent, now: Date): boolean {
  const context: unknown = event.requestContext.authorizer;
  if (typeof context !== 'object' || context === null) return false;
  const validUntil = (context as Record<string, unknown>)[VALID_UNTIL_CONTEXT];
  if (validUntil === undefined) return false;
  // Anything but a readable time counts as lapsed: fail closed.
  const deadline = typeof validUntil === 'string' ? Date.parse(validUntil) : Number.NaN;
  return Number.isNaN(deadline) || now.getTime() >= deadline;
}

// ---------------------------------------------------------------------------------------------
// Request parsing

function parsePathParameters(schemas: OperationSchemas, event: APIGatewayProxyEvent): unknown {
  if (schemas.params === undefined) return undefined;
  const parsed = schemas.params.safeParse(event.pathParameters ?? {});
  if (parsed.success) return parsed.data;
  const name = parsed.error.issues[0]?.path[0];
  throw new NotFoundError(typeof name === 'string' ? (PATH_RESOURCES[name] ?? 'resource') : 'resource');
}

function parseQuery(schemas: OperationSchemas, event: APIGatewayProxyEvent): unknown {
  const query = event.queryStringParameters ?? {};
  if (schemas.query === undefined) {
    // A parameter a route does not take is refused rather than ignored: a misspelt filter
    // silently ignored would list more than the caller meant to see.
    const names = Object.keys(query);
    if (names.length === 0) return undefined;
    throw new HttpProblemError('validation', 'the request has query parameters this route does not take', names.map(unknownField));
  }
  for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {})) {
    if (values !== undefined && values.length > 1) {
      throw new HttpProblemError('validation', `the query parameter ${name} is given more than once`, [
        { field: name, rule: 'single', message: `${name} may be given only once` },
      ]);
    }
  }
  return validated(schemas.query, query, 'query');
}

/**
 * The body's bytes: API Gateway REST's proxy integration passes a JSON body as the string it
 * received (base64 only for binary media types, which this API declares none of), the local
 * gateway alike; HTTP API (payload 2.0) may base64-encode a body, and says so in the same flag.
 */
function rawBodyOf(event: APIGatewayProxyEvent): Buffer {
  if (event.body === null) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

function parseBody(schemas: OperationSchemas, event: APIGatewayProxyEvent): unknown {
  if (schemas.body === undefined) return undefined;
  const raw = event.body === null ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (raw === '') {
    throw new HttpProblemError('validation', 'this route takes a JSON body', [{ field: 'body', rule: 'required', message: 'a JSON body is required' }]);
  }
  // Refused before anything else looks at it: no parser runs on an oversized body.
  if (Buffer.byteLength(raw, 'utf8') > MAX_BODY_BYTES) {
    throw new HttpProblemError('content-too-large', `the body must be at most ${MAX_BODY_BYTES} bytes`);
  }
  if (!isJsonContentType(event.headers['content-type'])) {
    throw new HttpProblemError('unsupported-media-type', "the body must be JSON, sent with 'Content-Type: application/json'");
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new HttpProblemError('malformed-json', 'the body is not valid JSON', undefined, { cause: error });
  }
  return validated(schemas.body, json, 'body');
}

function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const [mediaType, ...parameters] = header.split(';').map((part) => part.trim().toLowerCase());
  if (mediaType !== 'application/json') return false;
  // JSON is UTF-8 (RFC 8259); a body declared in another charset would be misread.
  return parameters.every((p) => !p.startsWith('charset=') || p === 'charset=utf-8' || p === 'charset="utf-8"');
}

function validated(schema: z.ZodMiniType, input: unknown, part: 'query' | 'body'): unknown {
  const parsed = schema.safeParse(input, { reportInput: true });
  if (parsed.success) return parsed.data;
  const errors = parsed.error.issues.flatMap((issue) => fieldErrors(issue, part));
  const unknown = errors.filter((e) => e.rule === 'unknown-field').map((e) => e.field);
  const detail =
    unknown.length > 0 ? `the ${part} has fields this route does not take: ${unknown.join(', ')}` : `the ${part} is not valid: ${errors.map((e) => e.message).join('; ')}`;
  throw new HttpProblemError('validation', detail, errors);
}

function unknownField(name: string): FieldError {
  return { field: name, rule: 'unknown-field', message: `${name} is not a field this route takes` };
}

function fieldErrors(issue: z.core.$ZodIssue, part: 'query' | 'body'): FieldError[] {
  const field = issue.path.length === 0 ? part : issue.path.map(String).join('.');
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => unknownField(issue.path.length === 0 ? key : `${field}.${key}`));
    case 'invalid_type':
      return issue.input === undefined
        ? [{ field, rule: 'required', message: `${field} is required` }]
        : [{ field, rule: 'type', message: `${field} must be ${article(issue.expected)}` }];
    case 'invalid_value':
      return [{ field, rule: 'enum', message: `${field} must be one of ${issue.values.map(String).join(', ')}` }];
    case 'too_small':
      return [{ field, rule: 'minimum', message: `${field} ${issue.message}` }];
    case 'too_big':
      return [{ field, rule: 'maximum', message: `${field} ${issue.message}` }];
    case 'invalid_format':
      return [{ field, rule: issue.format === 'regex' ? 'pattern' : issue.format, message: `${field} ${issue.message}` }];
    default:
      return [{ field, rule: issue.code, message: `${field} ${issue.message}` }];
  }
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

// ---------------------------------------------------------------------------------------------
// Middlewares

type ApiMiddleware = MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult>;

function requestIdOf(event: APIGatewayProxyEvent, context: Context | undefined): string | undefined {
  return event.requestContext.requestId || context?.awsRequestId;
}

/** Errors become problem documents; a fault becomes a generic 500 and is logged with the request id. */
function problemResponses(deps: HandlerDeps): ApiMiddleware {
  return {
    onError: (request) => {
      const context = { instance: request.event.path, requestId: requestIdOf(request.event, request.context) };
      const problem = problemFor(request.error);
      if (problem !== undefined) {
        request.response = problemResponse(problem.kind, problem.detail, context, problem.errors);
        return;
      }
      deps.logger.error('request failed', {
        requestId: context.requestId,
        operationId: findRoute(request.event.httpMethod, request.event.resource)?.operationId,
        error: request.error ?? undefined,
      });
      request.response = problemResponse('internal', FAULT_DETAIL, context);
    },
  };
}

/** One structured line per request: ids and outcome only, never a header or a body. */
function requestLog(deps: HandlerDeps): ApiMiddleware {
  const log = (request: middy.Request<APIGatewayProxyEvent, APIGatewayProxyResult>): void => {
    const route: Route | undefined = findRoute(request.event.httpMethod, request.event.resource);
    const status = request.response?.statusCode ?? 500;
    const principal = principalOf(request.event);
    deps.logger.info('request', {
      requestId: requestIdOf(request.event, request.context),
      operationId: route?.operationId,
      accountId: principal?.accountId,
      keyId: principal?.keyId,
      status,
      outcome: status < 400 ? 'success' : status < 500 ? 'refused' : 'fault',
    });
  };
  return { after: log, onError: log };
}

/**
 * Records when a key was last used, at most once per key per interval and container, after
 * a successful request. Best effort: a failure is logged and never fails the request.
 */
function keyUseRecording(deps: HandlerDeps): ApiMiddleware {
  const lastRecorded = new Map<string, number>();
  return {
    after: async (request) => {
      const status = request.response?.statusCode;
      if (status === undefined || status >= 400) return;
      const principal = principalOf(request.event);
      if (principal === undefined) return;
      const now = deps.now();
      const trackingKey = `${principal.accountId}/${principal.keyId}`;
      const previous = lastRecorded.get(trackingKey);
      if (previous !== undefined && now.getTime() - previous < KEY_USE_INTERVAL_MS) return;
      if (lastRecorded.size >= MAX_TRACKED_KEYS) lastRecorded.clear();
      lastRecorded.set(trackingKey, now.getTime());
      try {
        await deps.store.recordKeyUse(principal.accountId, principal.keyId, now.toISOString());
      } catch (error) {
        deps.logger.warn('could not record key use', { keyId: principal.keyId, error });
      }
    },
  };
}
