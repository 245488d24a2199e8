import { PERMISSION_PATTERN, defaultPermission } from '../domain/permissions.ts';
import { KEY_ROLES, type KeyRole } from '../domain/roles.ts';
import { ROUTES } from './routes.ts';

/**
 * A team's own routes, put behind the same authorizer as the management routes. One
 * declaration feeds the CDK construct (API Gateway resources, methods and integrations), the
 * authorizer's policy, the local runtime's routing and the OpenAPI document.
 */

export const DOWNSTREAM_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type DownstreamMethod = (typeof DOWNSTREAM_METHODS)[number];

/** A Lambda handler written by the team: bundled like the project's functions, run in-process locally. */
export interface LambdaBackend {
  /** The handler's source file (TypeScript or JavaScript); a relative path is resolved against the current directory. */
  readonly lambda: string;
  /** @default 'handler' */
  readonly handler?: string;
}

/**
 * An existing HTTP service: the request's path (with its parameters) and query are appended to
 * this base URL, e.g. `https://internal.example.com` + `/v1/subscriptions/42`.
 */
export interface HttpBackend {
  readonly url: string;
}

export type DownstreamBackend = LambdaBackend | HttpBackend;

export { PRINCIPAL_HEADERS } from './backend-headers.ts';


export interface DownstreamRoute {
  readonly method: DownstreamMethod;
  /** API Gateway resource path: `/v1/subscriptions/{subscriptionId}`, or greedy `/files/{proxy+}` as the last segment. */
  readonly path: string;
  /**
   * Who may call it.
   * @default GET and HEAD: owner and viewer; every other method: owner
   */
  readonly roles?: readonly KeyRole[];
  readonly backend: DownstreamBackend;
  /** For the OpenAPI document. @default `<METHOD> <path>` */
  readonly summary?: string;
  /**
   * What a restricted key must hold to call it (DESIGN 14), `<resource>:<action>`; `null`: none,
   * every key of the route's roles may call it, restricted or not. Roles apply on top.
   * @default `<resource>:read` for GET and HEAD, `<resource>:write` otherwise, `<resource>` being
   * the path's first literal segment that is not a version (a path without one must name it)
   */
  readonly permission?: string | null;
}

/** A declared route after validation, with its roles resolved. */
export interface ResolvedDownstreamRoute {
  readonly method: DownstreamMethod;
  readonly path: string;
  readonly roles: readonly KeyRole[];
  readonly backend: DownstreamBackend;
  readonly summary: string;
  /** Its permission, the default resolved; absent: it needs none (declared `null`). */
  readonly permission?: string;
}

/** A declaration that cannot be served; the message names the route. */
export class RouteDeclarationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RouteDeclarationError';
  }
}

/** The seed's model: an owner reads and writes, a viewer reads, a logs viewer only what names it. */
export function defaultRoles(method: DownstreamMethod): readonly KeyRole[] {
  return method === 'GET' || method === 'HEAD' ? ['owner', 'viewer'] : ['owner'];
}

export function isLambdaBackend(backend: DownstreamBackend): backend is LambdaBackend {
  return 'lambda' in backend;
}

export function routeName(route: { readonly method: string; readonly path: string }): string {
  return `${route.method} ${route.path}`;
}

/** The console's public paths (`/` leads to it); no team route may sit on them. */
export const CONSOLE_PATH = '/console';
/** Browsers ask for it on their own; the console answers it with its icon. */
export const FAVICON_PATH = '/favicon.ico';

const PARAMETER = /^\{[A-Za-z_][A-Za-z0-9_]*\}$/;
const GREEDY = /^\{[A-Za-z_][A-Za-z0-9_]*\+\}$/;
/** API Gateway's resource path characters (RFC 3986 unreserved plus a few), parameters aside. */
const LITERAL = /^[A-Za-z0-9._~:@!$&'()*,;=-]+$/;

/**
 * The shape API Gateway matches on: parameter names do not matter, so `/a/{x}` and `/a/{y}` are
 * the same resource (and API Gateway refuses two sibling parameters with different names).
 */
export function pathShape(path: string): string {
  return path.replace(/\{[^}/]+\+\}/g, '{+}').replace(/\{[^}/+]+\}/g, '{}');
}

function checkPath(route: DownstreamRoute, name: string): void {
  const { path } = route;
  if (typeof path !== 'string' || !path.startsWith('/') || path.length > 512) {
    throw new RouteDeclarationError(`route ${name}: the path must start with '/' (an API Gateway resource path, at most 512 characters)`);
  }
  if (path.includes('?') || path.includes('#')) throw new RouteDeclarationError(`route ${name}: the path must not hold a query or fragment`);
  const segments = path.split('/').slice(1);
  if (path !== '/' && segments.some((s) => s === '')) throw new RouteDeclarationError(`route ${name}: the path has an empty segment`);
  const names = new Set<string>();
  segments.forEach((segment, index) => {
    if (segment === '' && path === '/') return;
    if (GREEDY.test(segment)) {
      if (index !== segments.length - 1) throw new RouteDeclarationError(`route ${name}: a greedy parameter ({name+}) must be the last segment`);
    } else if (!PARAMETER.test(segment) && !LITERAL.test(segment)) {
      throw new RouteDeclarationError(`route ${name}: '${segment}' is neither a literal segment nor a {parameter}`);
    }
    const parameter = /^\{(\w+)\+?\}$/.exec(segment)?.[1];
    if (parameter !== undefined) {
      if (names.has(parameter)) throw new RouteDeclarationError(`route ${name}: the parameter {${parameter}} appears twice`);
      names.add(parameter);
    }
  });
}

function checkBackend(route: DownstreamRoute, name: string): void {
  const backend = route.backend as unknown;
  if (typeof backend !== 'object' || backend === null) throw new RouteDeclarationError(`route ${name}: a backend is required ({ lambda } or { url })`);
  if ('lambda' in backend) {
    const { lambda, handler } = backend as { lambda: unknown; handler?: unknown };
    if (typeof lambda !== 'string' || lambda === '') throw new RouteDeclarationError(`route ${name}: backend.lambda must name the handler's file`);
    if (handler !== undefined && (typeof handler !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(handler))) {
      throw new RouteDeclarationError(`route ${name}: backend.handler must be the name of an exported function`);
    }
    return;
  }
  if ('url' in backend) {
    const { url } = backend;
    let parsed: URL;
    try {
      parsed = new URL(String(url));
    } catch {
      throw new RouteDeclarationError(`route ${name}: backend.url '${String(url)}' is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new RouteDeclarationError(`route ${name}: backend.url must be http: or https: (got '${parsed.protocol}')`);
    }
    if (parsed.search !== '' || parsed.hash !== '' || parsed.username !== '' || parsed.password !== '') {
      throw new RouteDeclarationError(`route ${name}: backend.url must be a base URL without query, fragment or credentials`);
    }
    return;
  }
  throw new RouteDeclarationError(`route ${name}: a backend is { lambda: 'file' } or { url: 'https://…' }`);
}

/**
 * Validates a declaration and resolves default roles. Refuses, naming the route: an unknown
 * method or role, a malformed path, an unusable backend, a route declared twice (parameter
 * names aside), and a route that collides with a management route.
 */
export function resolveDownstreamRoutes(routes: readonly DownstreamRoute[]): readonly ResolvedDownstreamRoute[] {
  const management = new Map(ROUTES.map((r) => [`${r.method} ${pathShape(r.path)}`, r]));
  const seen = new Map<string, DownstreamRoute>();
  const parameterNames = new Map<string, { readonly parameter: string; readonly route: string }>();
  for (const route of ROUTES) checkParameterNames(route, `${routeName(route)} (${route.operationId})`, parameterNames);
  return routes.map((route) => {
    const name = routeName(route);
    if (!(DOWNSTREAM_METHODS as readonly string[]).includes(route.method)) {
      throw new RouteDeclarationError(`route ${name}: the method must be one of ${DOWNSTREAM_METHODS.join(', ')}`);
    }
    checkPath(route, name);
    const roles: readonly unknown[] = route.roles ?? defaultRoles(route.method);
    if (!Array.isArray(roles) || roles.length === 0) throw new RouteDeclarationError(`route ${name}: roles must name at least one role`);
    for (const role of roles) {
      if (!(KEY_ROLES as readonly unknown[]).includes(role)) {
        throw new RouteDeclarationError(`route ${name}: unknown role '${String(role)}' (roles that hold keys: ${KEY_ROLES.join(', ')})`);
      }
    }
    checkBackend(route, name);
    if (route.path === '/' || route.path === FAVICON_PATH || route.path === CONSOLE_PATH || route.path.startsWith(`${CONSOLE_PATH}/`)) {
      throw new RouteDeclarationError(`route ${name} collides with the console, served without keys at GET /, GET ${FAVICON_PATH} and GET ${CONSOLE_PATH}/…`);
    }
    const shape = `${route.method} ${pathShape(route.path)}`;
    const clash = management.get(shape);
    if (clash !== undefined) {
      throw new RouteDeclarationError(`route ${name} collides with the management route ${routeName(clash)} (${clash.operationId})`);
    }
    const twin = seen.get(shape);
    if (twin !== undefined) throw new RouteDeclarationError(`route ${name} is declared twice (also as ${routeName(twin)})`);
    seen.set(shape, route);
    checkParameterNames(route, name, parameterNames);
    const permission = resolvePermission(route, name);
    return {
      method: route.method,
      path: route.path,
      roles: [...new Set(roles as readonly KeyRole[])],
      backend: route.backend,
      summary: route.summary ?? name,
      ...(permission === undefined ? {} : { permission }),
    };
  });
}

/** The route's own permission, else the default of its method and path; a path without one must name it. */
function resolvePermission(route: DownstreamRoute, name: string): string | undefined {
  const declared: unknown = route.permission;
  if (declared === null) return undefined;
  if (declared === undefined) {
    const fallback = defaultPermission(route.method, route.path);
    if (fallback === undefined) {
      throw new RouteDeclarationError(
        `route ${name}: its path has no literal segment to name a default permission after: give it one (permission: '<resource>:<action>', or null for none)`,
      );
    }
    return fallback;
  }
  if (typeof declared !== 'string' || !PERMISSION_PATTERN.test(declared)) {
    throw new RouteDeclarationError(`route ${name}: the permission ${JSON.stringify(declared)} is not <resource>:<action> (each part [a-z][a-z0-9-]{0,39})`);
  }
  return declared;
}

/**
 * API Gateway keeps one resource per path: two routes that put a parameter at the same place
 * must give it the same name (`/v1/api-keys/{keyId}` and `/v1/api-keys/{id}` cannot both exist).
 */
function checkParameterNames(
  route: { readonly path: string },
  name: string,
  known: Map<string, { readonly parameter: string; readonly route: string }>,
): void {
  const segments = route.path.split('/');
  segments.forEach((segment, index) => {
    const parameter = /^\{(\w+\+?)\}$/.exec(segment)?.[1];
    if (parameter === undefined) return;
    const at = pathShape(segments.slice(0, index).join('/'));
    const previous = known.get(at);
    if (previous === undefined) known.set(at, { parameter, route: name });
    else if (previous.parameter !== parameter) {
      throw new RouteDeclarationError(
        `route ${name} names the parameter {${parameter}} where ${previous.route} names it {${previous.parameter}}: API Gateway needs one name per path`,
      );
    }
  });
}
