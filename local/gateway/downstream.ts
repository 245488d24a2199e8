import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { MissingPrincipalError, principalFromEvent } from '#functions/principal.ts';
import {
  DOWNSTREAM_METHODS,
  RouteDeclarationError,
  isLambdaBackend,
  resolveDownstreamRoutes,
  routeName,
  type DownstreamRoute,
  type ResolvedDownstreamRoute,
} from '#shared/http/team-routes.ts';
import { buildRoutePolicy } from '#shared/authorization/route-policy.ts';
import { buildPermissionPolicy } from '#shared/authorization/permission-policy.ts';
import { withoutWithheldHeaders } from '#shared/http/backend-headers.ts';
import { pathFromTemplate } from '#shared/http/request-path.ts';
import type { DownstreamCall, DownstreamInvoker, GatewayRequest } from './gateway.ts';
import { type GatewayResponse, proxyResponse } from './gateway-responses.ts';
import type { HttpApiAuthorizedEvent } from './http-api-event.ts';
import { httpApiIntegrationFailure, httpApiProxyResponse } from './http-api-responses.ts';
import { INTEGRATION_TIMEOUT_MS, sendToHttpBackend } from './http-backend.ts';

/**
 * The team's routes in the local runtime: `--routes FILE` (Lambda backends imported and run
 * in this process, HTTP backends proxied) and `--upstream URL` (everything that matches no
 * management route goes to one HTTP service, under the default role rule).
 */

/** What a routes module may export besides its routes: a hook run once before serving. */
export interface RoutesModuleSetupContext {
  /** DynamoDB Local's endpoint, for a backend that keeps its own table there. */
  readonly dynamodbEndpoint: string;
}

export interface RoutesModule {
  readonly routes: readonly DownstreamRoute[];
  readonly setup?: (context: RoutesModuleSetupContext) => Promise<void> | void;
}

/**
 * `--upstream URL`: a greedy route per method, so the default role rule applies to every path.
 * They need no permission (DESIGN 14 derives one from a path's first literal segment, and a
 * catch-all has none): a restricted key reaches them as its role allows, and is refused only the
 * paths nested under management routes whose permission it lacks.
 */
export function upstreamRoutes(url: string): DownstreamRoute[] {
  return DOWNSTREAM_METHODS.filter((method) => method !== 'OPTIONS').map((method) => ({
    method,
    path: '/{proxy+}',
    permission: null,
    backend: { url },
    summary: `Anything else, sent to ${url}`,
  }));
}

/** Reads a routes module: its default export or `routes`, and an optional `setup`. */
export async function loadRoutesModule(file: string): Promise<RoutesModule> {
  const loaded = (await import(pathToFileURL(resolvePath(file)).href)) as Record<string, unknown>;
  const routes = loaded.default ?? loaded.routes;
  if (!Array.isArray(routes)) throw new RouteDeclarationError(`${file} exports no routes (a default export or \`routes\`, an array of routes)`);
  const setup = loaded.setup;
  if (setup !== undefined && typeof setup !== 'function') throw new RouteDeclarationError(`${file}: \`setup\` must be a function`);
  return { routes: routes as DownstreamRoute[], ...(setup === undefined ? {} : { setup: setup as RoutesModule['setup'] }) };
}

export interface LocalDownstreamOptions {
  /** @default 29 s, API Gateway's integration timeout */
  readonly integrationTimeoutMs?: number;
}

/** A team's Lambda handler: it gets the event of the gateway's flavor (payload 1.0 on REST, 2.0 on HTTP API). */
type TeamHandler = (event: APIGatewayProxyEvent | HttpApiAuthorizedEvent, context: Context) => Promise<unknown>;

async function loadHandler(route: ResolvedDownstreamRoute): Promise<TeamHandler | undefined> {
  const { backend } = route;
  if (!isLambdaBackend(backend)) return undefined;
  const name = backend.handler ?? 'handler';
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(resolvePath(backend.lambda)).href)) as Record<string, unknown>;
  } catch (error) {
    throw new RouteDeclarationError(`route ${routeName(route)}: cannot load ${backend.lambda}`, { cause: error });
  }
  const handler = module[name];
  if (typeof handler !== 'function') throw new RouteDeclarationError(`route ${routeName(route)}: ${backend.lambda} exports no function '${name}'`);
  return handler as TeamHandler;
}

function jsonError(status: number, message: string, requestId: string): GatewayResponse {
  return { status, headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId }, body: JSON.stringify({ message }), isBase64Encoded: false };
}

/**
 * Validates the declaration (refusing a collision with a management route, naming both)
 * and loads every Lambda backend before the first request, so a broken entry fails the start.
 */
export async function createLocalDownstream(
  declared: readonly DownstreamRoute[],
  options: LocalDownstreamOptions = {},
): Promise<DownstreamInvoker> {
  const routes = resolveDownstreamRoutes(declared);
  // Refuses, naming both, two routes no IAM policy can tell apart, by role or by permission.
  buildPermissionPolicy(routes, buildRoutePolicy(routes));
  const handlers = new Map<ResolvedDownstreamRoute, TeamHandler>();
  for (const route of routes) {
    const handler = await loadHandler(route);
    if (handler !== undefined) handlers.set(route, handler);
  }
  const timeoutMs = options.integrationTimeoutMs ?? INTEGRATION_TIMEOUT_MS;

  async function invoke(route: ResolvedDownstreamRoute, call: DownstreamCall, request: GatewayRequest, context: Context): Promise<GatewayResponse> {
    const requestId = context.awsRequestId;
    const handler = handlers.get(route);
    if (handler !== undefined) {
      // A handler that logs its event must not log the caller's keys: they stop at the gateway.
      if (call.flavor === 'http') return httpApiProxyResponse(await handler(withoutWithheldHeaders(call.event), context), requestId);
      return proxyResponse(await handler(withoutWithheldHeaders(call.event), context), requestId);
    }
    const { backend } = route;
    if (isLambdaBackend(backend)) return jsonError(502, 'Internal server error', requestId);
    let principal;
    try {
      principal = principalFromEvent(call.event);
    } catch (error) {
      // The gateway always passes the authorizer's context; without it nothing may be forwarded.
      if (error instanceof MissingPrincipalError) return jsonError(500, 'Internal server error', requestId);
      throw error;
    }
    const result = await sendToHttpBackend(
      backend.url,
      // The route's template, not the path as sent: the backend serves the route that was authorized.
      { method: call.method, path: pathFromTemplate(route.path, call.pathParameters), query: request.query, headers: request.headers, body: request.rawBody },
      principal,
      timeoutMs,
    );
    if (!result.ok) return call.flavor === 'http' ? httpApiIntegrationFailure(result.status === 504, requestId) : jsonError(result.status, result.message, requestId);
    const requestIdHeader = call.flavor === 'http' ? 'apigw-requestid' : 'x-amzn-requestid';
    return { status: result.status, headers: { ...result.headers, [requestIdHeader]: requestId }, body: '', isBase64Encoded: false, stream: result.body };
  }

  return { routes, invoke };
}
