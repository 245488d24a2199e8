import { KEY_ROLES, type KeyRole } from '../domain/roles.ts';
import { RouteDeclarationError, routeName, type ResolvedDownstreamRoute } from '../http/team-routes.ts';
import { ROUTES } from '../http/routes.ts';
import { iamGlobMatches } from './iam-glob.ts';

/**
 * The authorizer's Allow policy over the whole route set, management and team routes alike.
 *
 * API Gateway caches one policy per identity and applies it to every route of the stage, so
 * the policy of a role must allow every route the role may call and nothing the role may
 * not. Resources are suffixes of the stage's ARN (`GET/v1/users`, `GET/v1/users/*`); an
 * entry starting with `!` is a Deny. In IAM patterns `*` matches any run of characters,
 * `/` included, so a route's own resource (`GET/v1/api-keys/*`) can also match a deeper
 * route (`GET/v1/api-keys/{keyId}/secret`); every pattern is checked against the whole
 * declared route set and such a route is denied explicitly. API Gateway only calls the
 * authorizer for declared resources, so a pattern need only stay clear of declared routes
 * the role may not call.
 *
 * A long plain list is compressed into prefix patterns (`GET/v1/subscriptions*`), each
 * accepted only if it can match no declared route the role may not call, so a policy for
 * hundreds of routes stays well under API Gateway's and Lambda's size limits.
 */

/** What the policy needs of a route: management routes and resolved team routes both fit. */
export interface PolicyRoute {
  readonly method: string;
  readonly path: string;
  readonly roles: readonly KeyRole[];
}

/** Resource suffixes per role; `!` marks a Deny. The value of `LATCHKEY_ROUTE_POLICY`. */
export type RoutePolicy = Readonly<Record<KeyRole, readonly string[]>>;

/** Faults in a deployed route policy: the authorizer fails closed on them. */
export class RoutePolicyError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RoutePolicyError';
  }
}

/** Above this many entries a role's plain list is compressed into prefix patterns. */
export const PLAIN_POLICY_MAX_ENTRIES = 24;
/**
 * Lambda allows 4 KB for all of a function's environment variables together; the
 * authorizer's others (table, key, region settings) take a few hundred bytes.
 */
export const ROUTE_POLICY_ENV_BUDGET_BYTES = 3 * 1024;

// ---------------------------------------------------------------------------------------------
// Glob overlap: can one string match both patterns?

/** A pattern token: one literal character, `*` (any run), or a route parameter (a run without `/`). */
export type Token = { readonly char: string } | { readonly star: 'any' | 'segment' };

/**
 * An IAM resource pattern: `*` matches any run of characters. IAM's `?` (one character) is
 * left out on purpose: no entry holds one (route paths refuse `?`, and so does ENTRY below).
 */
export function patternTokens(pattern: string): Token[] {
  return Array.from(pattern).map((char) => (char === '*' ? { star: 'any' } : { char }));
}

/** A route as the requests that reach it: `{param}` is one non-empty segment, `{proxy+}` any run. */
export function routeTokens(route: { readonly method: string; readonly path: string }): Token[] {
  const tokens: Token[] = Array.from(route.method).map((char) => ({ char }));
  for (const part of route.path.split(/(\{[^}]+\})/)) {
    if (part === '') continue;
    if (part.startsWith('{')) tokens.push(part.endsWith('+}') ? { star: 'any' } : { star: 'segment' });
    else for (const char of part) tokens.push({ char });
  }
  return tokens;
}

function closure(tokens: readonly Token[], from: number): number[] {
  const states = [from];
  let at = from;
  while (at < tokens.length && 'star' in (tokens[at] as Token)) states.push((at += 1));
  return states;
}

function step(tokens: readonly Token[], state: number, char: string): number[] {
  const token = tokens[state];
  if (token === undefined) return [];
  if ('char' in token) return token.char === char ? closure(tokens, state + 1) : [];
  if (token.star === 'segment' && char === '/') return [];
  return closure(tokens, state);
}

/**
 * Whether some string matches both token lists: a walk over the product of the two
 * automata. The alphabet that matters is every literal character of either, `/`, and one
 * character neither names.
 */
export function overlaps(a: readonly Token[], b: readonly Token[]): boolean {
  // Most pairs already differ in a literal prefix or suffix (the method, the last segment).
  for (let i = 0; i < a.length && i < b.length; i += 1) {
    const [x, y] = [a[i] as Token, b[i] as Token];
    if (!('char' in x) || !('char' in y)) break;
    if (x.char !== y.char) return false;
  }
  for (let i = 1; i <= a.length && i <= b.length; i += 1) {
    const [x, y] = [a[a.length - i] as Token, b[b.length - i] as Token];
    if (!('char' in x) || !('char' in y)) break;
    if (x.char !== y.char) return false;
  }
  const alphabet = new Set<string>(['/', '\u0000']);
  for (const token of a) if ('char' in token) alphabet.add(token.char);
  for (const token of b) if ('char' in token) alphabet.add(token.char);
  const chars = [...alphabet];
  const width = b.length + 1;
  const seen = new Uint8Array((a.length + 1) * width);
  const queue: number[] = [];
  for (const i of closure(a, 0)) for (const j of closure(b, 0)) queue.push(i * width + j);
  while (queue.length > 0) {
    const state = queue.pop() as number;
    if (seen[state] === 1) continue;
    seen[state] = 1;
    const i = Math.floor(state / width);
    const j = state % width;
    if (i === a.length && j === b.length) return true;
    for (const char of chars) {
      const nextA = step(a, i, char);
      if (nextA.length === 0) continue;
      for (const nj of step(b, j, char)) for (const ni of nextA) queue.push(ni * width + nj);
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------

/** A route's own resource suffix: every parameter, greedy or not, becomes `*`. */
export function routeResourceSuffix(route: { readonly method: string; readonly path: string }): string {
  return `${route.method}${route.path.replace(/\{[^}/]+\}/g, '*')}`;
}

/** Candidate patterns for a route, most general first: its method (or any) and a prefix of its path. */
function candidates(route: PolicyRoute): string[] {
  const segments = route.path.split('/').slice(1).map((s) => (s.startsWith('{') ? '*' : s));
  const found: string[] = [];
  for (let length = 1; length < segments.length; length += 1) {
    const prefix = `/${segments.slice(0, length).join('/')}`;
    const pattern = prefix.endsWith('*') ? prefix : `${prefix}*`;
    found.push(`*${pattern}`, `${route.method}${pattern}`);
  }
  return found;
}

/**
 * The resource suffixes of `role`'s policy over `routes` (the whole declared set). Throws
 * RouteDeclarationError when no IAM policy can tell a route the role may call from one it
 * may not (an Allow pattern for the first would match the second, and a Deny for the second
 * would match the first).
 */
export function policyResources(routes: readonly PolicyRoute[], role: KeyRole): readonly string[] {
  const allowed = routes.filter((r) => r.roles.includes(role)).map((route) => ({ route, tokens: routeTokens(route) }));
  const forbidden = routes.filter((r) => !r.roles.includes(role)).map((route) => ({ route, tokens: routeTokens(route) }));
  const compress = allowed.length > PLAIN_POLICY_MAX_ENTRIES;
  const touched = new Map<string, boolean>();
  const touchesAllowed = (pattern: string): boolean => {
    let known = touched.get(pattern);
    if (known === undefined) {
      const tokens = patternTokens(pattern);
      known = allowed.some((a) => overlaps(tokens, a.tokens));
      touched.set(pattern, known);
    }
    return known;
  };
  // A forbidden route can be denied if its own resource matches no allowed route; a literal
  // resource matches only its own path, which API Gateway routes to that route alone.
  const deniable = new Map<PolicyRoute, boolean>();
  const canDeny = (route: PolicyRoute): boolean => {
    let known = deniable.get(route);
    if (known === undefined) {
      const own = routeResourceSuffix(route);
      known = !own.includes('*') || !touchesAllowed(own);
      deniable.set(route, known);
    }
    return known;
  };

  const fitting = new Map<string, boolean>();
  const fits = (pattern: string): boolean => {
    let known = fitting.get(pattern);
    if (known === undefined) {
      const tokens = patternTokens(pattern);
      known = forbidden.every((f) => !overlaps(tokens, f.tokens) || canDeny(f.route));
      fitting.set(pattern, known);
    }
    return known;
  };
  const allow: string[] = [];
  for (const { route } of allowed) {
    const own = routeResourceSuffix(route);
    if (!compress) {
      allow.push(own);
      continue;
    }
    if (allow.some((pattern) => iamGlobMatches(pattern, own))) continue;
    allow.push(candidates(route).find(fits) ?? own);
  }

  // Any allow pattern with a `*` may also match deeper paths (IAM's `*` crosses `/`): the
  // declared routes the role may not call among them are denied explicitly.
  const denied: PolicyRoute[] = [];
  const wide = allow.filter((pattern) => pattern.includes('*')).map(patternTokens);
  for (const f of forbidden) if (wide.some((tokens) => overlaps(tokens, f.tokens))) denied.push(f.route);
  for (const f of denied) {
    if (canDeny(f)) continue;
    const own = patternTokens(routeResourceSuffix(f));
    const leaking = allowed.find((a) => routeResourceSuffix(a.route).includes('*') && overlaps(patternTokens(routeResourceSuffix(a.route)), routeTokens(f)));
    const victim = (leaking ?? allowed.find((a) => overlaps(own, a.tokens)))?.route;
    throw new RouteDeclarationError(
      `route ${victim === undefined ? '?' : routeName(victim)} (${role} may call it) and route ${routeName(f)} (${role} may not) cannot be told apart ` +
        'by an IAM policy (a pattern for one matches paths of the other): give them the same roles or distinct literal paths',
    );
  }
  let deny = denied.map((route) => routeResourceSuffix(route));
  if (compress) deny = generalize(deny, touchesAllowed);
  return [...new Set(allow), ...new Set(deny.map((pattern) => `!${pattern}`))];
}

/**
 * Widens Deny patterns segment by segment (a literal segment after the first becomes `*`) as
 * long as they match no route the role may call, then drops those another one covers.
 */
function generalize(patterns: readonly string[], touchesAllowed: (pattern: string) => boolean): string[] {
  const widened = patterns.map((pattern) => {
    const slash = pattern.indexOf('/');
    const method = pattern.slice(0, slash);
    const segments = pattern.slice(slash + 1).split('/');
    for (let index = 1; index < segments.length; index += 1) {
      if (segments[index] === '*') continue;
      const trial = [...segments];
      trial[index] = '*';
      const candidate = `${method}/${trial.join('/')}`;
      if (!touchesAllowed(candidate)) segments[index] = '*';
    }
    return `${method}/${segments.join('/')}`;
  });
  const unique = [...new Set(widened)];
  return unique.filter((pattern) => !unique.some((other) => other !== pattern && iamGlobMatches(other, pattern)));
}

/** The policy of every role over management routes and the given team routes. */
export function buildRoutePolicy(teamRoutes: readonly PolicyRoute[] = []): RoutePolicy {
  const routes: readonly PolicyRoute[] = [...ROUTES, ...teamRoutes];
  const entries = KEY_ROLES.map((role) => [role, policyResources(routes, role)] as const);
  return Object.fromEntries(entries) as Record<KeyRole, readonly string[]>;
}

let managementPolicy: RoutePolicy | undefined;

/** Management routes only: the policy when no team route is declared. */
export function managementRoutePolicy(): RoutePolicy {
  managementPolicy ??= Object.freeze(buildRoutePolicy());
  return managementPolicy;
}

/**
 * The value of `LATCHKEY_ROUTE_POLICY` for the deployed authorizer, computed at synth from
 * the resolved team routes. Refuses a value that would not fit Lambda's environment.
 */
export function routePolicyEnvironment(resolvedRoutes: readonly ResolvedDownstreamRoute[]): string {
  const value = JSON.stringify(buildRoutePolicy(resolvedRoutes));
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > ROUTE_POLICY_ENV_BUDGET_BYTES) {
    throw new RouteDeclarationError(
      `the authorizer's route policy for these ${resolvedRoutes.length} routes takes ${bytes} bytes, more than the ${ROUTE_POLICY_ENV_BUDGET_BYTES} ` +
        "bytes left in Lambda's 4 KB environment: group the routes under fewer path prefixes",
    );
  }
  return value;
}

/** A well-formed entry of a deployed policy: `!` (a Deny) or not, a method or `*`, a resource path pattern. */
export const ENTRY = /^!?(\*|GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)\/[A-Za-z0-9._~:@!$&'()*,;=/+-]*$/;

/**
 * Reads a deployed route policy. It must name exactly the three key roles with well-formed
 * entries, and grant every management route to exactly the roles the route table names:
 * a value that would widen or narrow the management API is a deployment fault.
 */
export function parseRoutePolicy(raw: string): RoutePolicy {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new RoutePolicyError('the route policy is not JSON', { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RoutePolicyError('the route policy must be an object of roles');
  const keys = Object.keys(value);
  if (keys.length !== KEY_ROLES.length || !KEY_ROLES.every((role) => keys.includes(role))) {
    throw new RoutePolicyError(`the route policy must name exactly the roles ${KEY_ROLES.join(', ')}`);
  }
  const policy: Partial<Record<KeyRole, readonly string[]>> = {};
  for (const role of KEY_ROLES) {
    const entries: unknown = (value as Record<string, unknown>)[role];
    if (!Array.isArray(entries) || !entries.every((e): e is string => typeof e === 'string' && e.length <= 1024 && ENTRY.test(e))) {
      throw new RoutePolicyError(`the route policy of ${role} must be a list of resource patterns`);
    }
    policy[role] = Object.freeze([...entries]);
  }
  const parsed = Object.freeze(policy as Record<KeyRole, readonly string[]>);
  for (const route of ROUTES) {
    for (const role of KEY_ROLES) {
      const expected = (route.roles as readonly KeyRole[]).includes(role);
      if (grants(parsed[role], routeResourceSuffix(route)) !== expected) {
        throw new RoutePolicyError(`the route policy ${expected ? 'refuses' : 'grants'} ${role} the management route ${routeName(route)}`);
      }
    }
  }
  return parsed;
}

/** Whether entries allow a resource (a Deny wins), as IAM evaluates them. */
export function grants(entries: readonly string[], resource: string): boolean {
  let allowed = false;
  for (const entry of entries) {
    if (entry.startsWith('!')) {
      if (iamGlobMatches(entry.slice(1), resource)) return false;
    } else if (!allowed && iamGlobMatches(entry, resource)) allowed = true;
  }
  return allowed;
}

/**
 * The route policy a deployed authorizer was given, read once per container. Absent:
 * management routes only. Malformed: RoutePolicyError, so the container serves nobody (a
 * 500 from API Gateway, nothing cached) rather than guess who may call what.
 */
export function routePolicyFromEnv(raw: string | undefined): RoutePolicy {
  return raw === undefined || raw === '' ? managementRoutePolicy() : parseRoutePolicy(raw);
}
