import { MANAGEMENT_PERMISSIONS, PERMISSION_PATTERN } from '../domain/permissions.ts';
import { KEY_ROLES, type KeyRole } from '../domain/roles.ts';
import { ROUTES, isPublicRoute } from '../http/routes.ts';
import { RouteDeclarationError, routeName } from '../http/team-routes.ts';
import type { PolicyDocument } from 'aws-lambda';
import { iamGlobMatches } from './iam-glob.ts';
import { deepFreeze, entriesPolicy } from './policies.ts';
import {
  ENTRY,
  RoutePolicyError,
  buildRoutePolicy,
  grants,
  managementRoutePolicy,
  overlaps,
  patternTokens,
  routeResourceSuffix,
  routeTokens,
  type PolicyRoute,
  type RoutePolicy,
  type Token,
} from './route-policy.ts';

/**
 * What a restricted key's policy is made of (DESIGN 14), worked out once from the route set, at
 * synth for the deployed authorizer and at start for the local runtime, so that an
 * authorization only joins lists (restricted-policy.ts): no pattern analysis per request.
 *
 * For each role and each permission `p` of a route the role may call:
 * - a grant: Allow entries that reach the role's routes of `p` and no other route the role may
 *   call, except (1) routes the role may not call, denied with them (as in the role's policy),
 *   and (2) routes of another permission `q` their `*` reaches (IAM's `*` crosses `/`), each
 *   with the Deny of that route to add when the key lacks `q`;
 * - a withhold: Deny entries that reach the role's routes of `p` and no route of another
 *   permission the role may call (absent when some route cannot be denied so).
 * A key's policy is then either its grants (those of the permissions it holds, and of the routes
 * that need none), or the role's policy with the withholds of the permissions it lacks,
 * whichever is smaller. Both allow exactly the routes the key may call.
 *
 * A Deny that would reach a route of another permission the role may call is refused at
 * declaration (RouteDeclarationError, naming both), with one exception: a greedy route
 * (`{proxy+}`) may lose the paths nested under a route of a permission the key lacks
 * (`GET /v1/api-keys/k/x` under `GET /v1/api-keys/{keyId}`), as long as the Deny does not cover
 * it whole. That refusal errs on the closed side, and it is what lets a catch-all sit beside
 * the management routes.
 */

/** A route as the permission policy sees it: its roles and its permission (absent: it needs none). */
export interface PermissionRoute extends PolicyRoute {
  readonly permission?: string | undefined;
}

/** What holding one permission adds to a key's policy, for one role. */
export interface PermissionGrant {
  /** Route-policy entries: Allows, and `!` Denies of routes the role may not call that they reach. */
  readonly entries: readonly string[];
  /** `[q, pattern]`: a route of permission `q` the Allows reach, to deny when the key lacks `q`. */
  readonly unless: readonly (readonly [string, string])[];
}

export interface RolePermissionPolicy {
  /** The role's own policy (route-policy.ts), which the withholds narrow. */
  readonly role: readonly string[];
  /** The grant of the routes that need no permission: every key of the role holds it. */
  readonly open: PermissionGrant;
  /** Per permission of a route the role may call. */
  readonly grants: Readonly<Record<string, PermissionGrant>>;
  /** Per permission: Deny patterns of exactly its routes; absent where no such Denies exist. */
  readonly withholds: Readonly<Record<string, readonly string[]>>;
}

/** Per key role. Written to the authorizer's bundle as JSON (its file named by LATCHKEY_PERMISSION_POLICY_FILE). */
export type PermissionPolicy = Readonly<Record<KeyRole, RolePermissionPolicy>>;

interface Analysed {
  readonly route: PermissionRoute;
  readonly tokens: Token[];
  readonly own: string;
  /** '' for a route that needs no permission. */
  readonly permission: string;
  readonly greedy: boolean;
}

function permissionOf(route: PermissionRoute): string {
  return route.permission ?? '';
}

function describe(entry: Analysed): string {
  return `${routeName(entry.route)} (${entry.permission === '' ? 'no permission' : entry.permission})`;
}

/** Prefix patterns of a route, most general first: its method and a prefix of its path, up to the whole path. */
function prefixPatterns(route: PermissionRoute): string[] {
  const segments = route.path.split('/').slice(1).map((s) => (s.startsWith('{') ? '*' : s));
  const found: string[] = [];
  for (let length = 1; length <= segments.length; length += 1) {
    const prefix = `/${segments.slice(0, length).join('/')}`;
    found.push(`${route.method}${prefix.endsWith('*') ? prefix : `${prefix}*`}`);
  }
  return found;
}

/** Drops the patterns another one of the list matches as a whole. */
function withoutCovered(patterns: readonly string[]): string[] {
  const unique = [...new Set(patterns)];
  return unique.filter((pattern) => !unique.some((other) => other !== pattern && iamGlobMatches(other, pattern)));
}

/** Which declared routes' requests a pattern can match; shared by the roles of one build. */
class Reach {
  readonly #all: readonly Analysed[];
  readonly #cache = new Map<string, readonly Analysed[]>();

  constructor(all: readonly Analysed[]) {
    this.#all = all;
  }

  /**
   * The routes whose requests the pattern may match. A pattern without `*` is a route's own
   * literal path, which API Gateway routes to that route alone.
   */
  of(pattern: string): readonly Analysed[] {
    let found = this.#cache.get(pattern);
    if (found === undefined) {
      if (!pattern.includes('*')) found = this.#all.filter((entry) => entry.own === pattern);
      else {
        const tokens = patternTokens(pattern);
        found = this.#all.filter((entry) => overlaps(tokens, entry.tokens));
      }
      this.#cache.set(pattern, found);
    }
    return found;
  }
}

function rolePermissionPolicy(all: readonly Analysed[], reach: Reach, role: KeyRole, rolePolicy: readonly string[]): RolePermissionPolicy {
  const callable = new Set(all.filter((entry) => entry.route.roles.includes(role)));
  // A route the role may not call is denied by its own resource, if that reaches no route it may.
  const deniable = (entry: Analysed): boolean => !entry.own.includes('*') || reach.of(entry.own).every((other) => !callable.has(other));
  // The Deny of a route of a permission the key lacks: it must spare every callable route of
  // another permission, but for the nested paths of a greedy route it does not cover whole.
  const checkWithheld = (entry: Analysed): void => {
    for (const other of reach.of(entry.own)) {
      if (!callable.has(other) || other.permission === entry.permission) continue;
      if (other.greedy && !iamGlobMatches(entry.own, other.own)) continue;
      throw new RouteDeclarationError(
        `route ${describe(entry)} and route ${describe(other)}, which ${role} may both call, cannot be told apart by an IAM policy ` +
          '(a pattern for one matches paths of the other): give them the same permission or distinct literal paths',
      );
    }
  };
  const byPermission = new Map<string, Analysed[]>();
  for (const entry of callable) byPermission.set(entry.permission, [...(byPermission.get(entry.permission) ?? []), entry]);

  const grantOf = (permission: string, targets: readonly Analysed[]): PermissionGrant => {
    const fits = (pattern: string): boolean =>
      reach.of(pattern).every((other) => (callable.has(other) ? other.permission === permission : deniable(other)));
    const allows: string[] = [];
    for (const target of targets) {
      if (allows.some((pattern) => iamGlobMatches(pattern, target.own))) continue;
      allows.push(prefixPatterns(target.route).find(fits) ?? target.own);
    }
    const kept = withoutCovered(allows);
    const denies: string[] = [];
    const unless: [string, string][] = [];
    for (const other of new Set(kept.flatMap((pattern) => reach.of(pattern)))) {
      if (!callable.has(other)) {
        if (!deniable(other)) {
          throw new RouteDeclarationError(
            `route ${routeName(other.route)} (${role} may not call it) cannot be told apart from the routes of ${permission || 'no permission'} ${role} may call by an IAM policy: ` +
              'give them the same roles or distinct literal paths',
          );
        }
        denies.push(other.own);
      } else if (other.permission !== permission && other.permission !== '') {
        checkWithheld(other);
        unless.push([other.permission, other.own]);
      }
    }
    return { entries: [...kept, ...withoutCovered(denies).map((pattern) => `!${pattern}`)], unless };
  };

  const withholdOf = (permission: string, targets: readonly Analysed[]): readonly string[] | undefined => {
    const spares = (pattern: string): boolean =>
      reach.of(pattern).every((other) => !callable.has(other) || other.permission === permission);
    const denies: string[] = [];
    for (const target of targets) {
      if (denies.some((pattern) => iamGlobMatches(pattern, target.own))) continue;
      if (!spares(target.own)) return undefined;
      denies.push(prefixPatterns(target.route).find(spares) ?? target.own);
    }
    return withoutCovered(denies);
  };

  const grantsByPermission: Record<string, PermissionGrant> = {};
  const withholds: Record<string, readonly string[]> = {};
  for (const [permission, targets] of [...byPermission].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (permission === '') continue;
    grantsByPermission[permission] = grantOf(permission, targets);
    const withhold = withholdOf(permission, targets);
    if (withhold !== undefined) withholds[permission] = withhold;
  }
  return { role: rolePolicy, open: grantOf('', byPermission.get('') ?? []), grants: grantsByPermission, withholds };
}

/**
 * The permission policy over the management routes and the given team routes (resolved: each
 * with its permission). Throws RouteDeclarationError for routes no policy can tell apart.
 */
export function buildPermissionPolicy(teamRoutes: readonly PermissionRoute[] = [], routePolicy?: RoutePolicy): PermissionPolicy {
  const routes: readonly PermissionRoute[] = [...ROUTES, ...teamRoutes];
  const all = routes.map((route) => ({
    route,
    tokens: routeTokens(route),
    own: routeResourceSuffix(route),
    permission: permissionOf(route),
    greedy: route.path.includes('+}'),
  }));
  const reach = new Reach(all);
  const rolePolicy = routePolicy ?? buildRoutePolicy(teamRoutes);
  return Object.fromEntries(KEY_ROLES.map((role) => [role, rolePermissionPolicy(all, reach, role, rolePolicy[role])])) as Record<KeyRole, RolePermissionPolicy>;
}

let managementPolicy: PermissionPolicy | undefined;

/** Management routes only: the permission policy when no team route is declared. */
export function managementPermissionPolicy(): PermissionPolicy {
  managementPolicy ??= buildPermissionPolicy([], managementRoutePolicy());
  return managementPolicy;
}

// ---------------------------------------------------------------------------------------------
// A key's policy

/**
 * The two ways to a restricted key's policy, as route-policy entries: its grants, and the role's
 * policy less the withholds of what it lacks (undefined when one of those does not exist).
 */
function restrictedOptions(policy: PermissionPolicy, role: KeyRole, held: readonly string[]): { granted: Set<string>; withheld: Set<string> | undefined } {
  const own = policy[role];
  const holds = new Set(held);
  const granted = new Set<string>();
  const grant = (item: PermissionGrant): void => {
    for (const entry of item.entries) granted.add(entry);
    for (const [permission, pattern] of item.unless) if (!holds.has(permission)) granted.add(`!${pattern}`);
  };
  grant(own.open);
  for (const permission of holds) {
    const item = Object.hasOwn(own.grants, permission) ? own.grants[permission] : undefined;
    if (item !== undefined) grant(item);
  }
  let withheld: Set<string> | undefined = new Set(own.role);
  for (const permission of Object.keys(own.grants)) {
    if (holds.has(permission)) continue;
    const denies = Object.hasOwn(own.withholds, permission) ? own.withholds[permission] : undefined;
    if (denies === undefined) {
      withheld = undefined;
      break;
    }
    for (const pattern of denies) withheld.add(`!${pattern}`);
  }
  return { granted, withheld };
}

/** What the entries weigh in the policy document: each is a resource ARN of about this many more characters. */
const ENTRY_WEIGHT = 80;

/**
 * The route-policy entries of a restricted key whose holder has `role` and who holds `held`
 * (its effective permissions): its grants, or the role's policy less the withholds of what it
 * lacks, whichever is shorter. Only lists are joined here: this runs when a policy is not cached.
 */
export function restrictedEntries(policy: PermissionPolicy, role: KeyRole, held: readonly string[]): readonly string[] {
  const { granted, withheld } = restrictedOptions(policy, role, held);
  const size = (entries: Set<string>): number => [...entries].reduce((sum, entry) => sum + entry.length + ENTRY_WEIGHT, 0);
  return [...(withheld !== undefined && size(withheld) < size(granted) ? withheld : granted)];
}

/** A restricted key's Allow and its list as the authorizer context carries it (comma-joined). */
export interface RestrictedAllow {
  readonly policyDocument: PolicyDocument;
  readonly permissions: string;
}

/**
 * Built once per permission policy, role, stage and list, and found again by walking the list
 * (a tree of maps, one level per permission): a warm authorization builds no string from the
 * list, which at 30 permissions would cost more than the lookup itself.
 */
interface ListNode {
  readonly next: Map<string, ListNode>;
  allow?: RestrictedAllow;
}
const restrictedAllows = new WeakMap<PermissionPolicy, { roots: Map<string, ListNode>; nodes: number }>();
/** Keys share few distinct lists; the bound only keeps a container's memory flat. */
const RESTRICTED_NODES_MAX = 8192;

/**
 * The Allow of a restricted key: exactly the routes its holder's role may call whose
 * permission it holds, and those that need none. `held` is its effective list
 * (domain/permissions.ts: its own list less what the role no longer grants).
 */
export function restrictedAllow(role: KeyRole, held: readonly string[], apiBase: string, policy: PermissionPolicy = managementPermissionPolicy()): RestrictedAllow {
  let cache = restrictedAllows.get(policy);
  if (cache === undefined || cache.nodes >= RESTRICTED_NODES_MAX) {
    cache = { roots: new Map(), nodes: 0 };
    restrictedAllows.set(policy, cache);
  }
  const rootKey = `${role} ${apiBase}`;
  let node: ListNode | undefined = cache.roots.get(rootKey);
  if (node === undefined) {
    node = { next: new Map() };
    cache.roots.set(rootKey, node);
  }
  for (const permission of held) {
    let child: ListNode | undefined = node.next.get(permission);
    if (child === undefined) {
      child = { next: new Map() };
      node.next.set(permission, child);
      cache.nodes += 1;
    }
    node = child;
  }
  node.allow ??= deepFreeze({ policyDocument: entriesPolicy(apiBase, restrictedEntries(policy, role, held)), permissions: held.join(',') });
  return node.allow;
}

/** The policy document alone (restrictedAllow). */
export function restrictedPolicy(role: KeyRole, held: readonly string[], apiBase: string, policy: PermissionPolicy = managementPermissionPolicy()): PolicyDocument {
  return restrictedAllow(role, held, apiBase, policy).policyDocument;
}

// ---------------------------------------------------------------------------------------------
// Reading a deployed permission policy

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Entries (`!` allowed) or, for `patterns`, bare resource patterns. */
function entryList(value: unknown, patterns: boolean, where: string): readonly string[] {
  if (!Array.isArray(value) || !value.every((e): e is string => typeof e === 'string' && e.length <= 1024 && ENTRY.test(e) && !(patterns && e.startsWith('!')))) {
    throw new RoutePolicyError(`the permission policy's ${where} must be a list of resource patterns`);
  }
  return Object.freeze([...value]);
}

function permissionName(value: unknown, where: string): string {
  if (typeof value !== 'string' || !PERMISSION_PATTERN.test(value)) throw new RoutePolicyError(`the permission policy names '${String(value)}' in ${where}: no permission`);
  return value;
}

function parseGrant(value: unknown, where: string): PermissionGrant {
  if (!isRecord(value) || !Array.isArray(value.unless)) throw new RoutePolicyError(`the permission policy's ${where} must be a grant ({entries, unless})`);
  const unless = value.unless.map((pair: unknown) => {
    if (!Array.isArray(pair) || pair.length !== 2) throw new RoutePolicyError(`the permission policy's ${where}.unless must hold pairs`);
    const [permission, pattern] = pair as [unknown, unknown];
    const [checked = ''] = entryList([pattern], true, `${where}.unless`);
    return Object.freeze([permissionName(permission, `${where}.unless`), checked] as const);
  });
  return Object.freeze({ entries: entryList(value.entries, false, `${where}.entries`), unless: Object.freeze(unless) });
}

function parseRecord<T>(value: unknown, where: string, read: (item: unknown, where: string) => T): Readonly<Record<string, T>> {
  if (!isRecord(value)) throw new RoutePolicyError(`the permission policy's ${where} must be an object`);
  // No prototype: a key's permission is looked up here, and no name may find an inherited property.
  const result = Object.create(null) as Record<string, T>;
  for (const [name, item] of Object.entries(value)) result[permissionName(name, where)] = read(item, `${where}.${name}`);
  return Object.freeze(result);
}

/**
 * Reads a deployed permission policy. It must name exactly the key roles with well-formed
 * entries and give each management route to a key holding
 * one management permission (or none) exactly when its role may call the route and the route
 * needs that permission or none: a file that would widen the management API is a deployment fault.
 */
export function parsePermissionPolicy(raw: string): PermissionPolicy {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new RoutePolicyError('the permission policy is not JSON', { cause: error });
  }
  if (!isRecord(value)) throw new RoutePolicyError('the permission policy must be an object of roles');
  const keys = Object.keys(value);
  if (keys.length !== KEY_ROLES.length || !KEY_ROLES.every((role) => keys.includes(role))) {
    throw new RoutePolicyError(`the permission policy must name exactly the roles ${KEY_ROLES.join(', ')}`);
  }
  const policy: Partial<Record<KeyRole, RolePermissionPolicy>> = {};
  for (const role of KEY_ROLES) {
    const item = value[role];
    if (!isRecord(item)) throw new RoutePolicyError(`the permission policy of ${role} must be an object`);
    policy[role] = Object.freeze({
      role: entryList(item.role, false, `${role}.role`),
      open: parseGrant(item.open, `${role}.open`),
      grants: parseRecord(item.grants, `${role}.grants`, parseGrant),
      withholds: parseRecord(item.withholds, `${role}.withholds`, (list, where) => entryList(list, true, where)),
    });
  }
  const parsed = Object.freeze(policy as Record<KeyRole, RolePermissionPolicy>);
  // Each management permission alone, all but it, and none; both ways to a policy for each.
  const lists: readonly (readonly string[])[] = [
    [],
    ...MANAGEMENT_PERMISSIONS.map((p) => [p]),
    ...MANAGEMENT_PERMISSIONS.map((p) => MANAGEMENT_PERMISSIONS.filter((other) => other !== p)),
  ];
  for (const role of KEY_ROLES) {
    for (const held of lists) {
      const { granted, withheld } = restrictedOptions(parsed, role, held);
      for (const entries of withheld === undefined ? [granted] : [granted, withheld]) {
        for (const route of ROUTES) {
          if (isPublicRoute(route)) continue;
          const permission: string | undefined = 'permission' in route ? route.permission : undefined;
          const expected = (route.roles as readonly KeyRole[]).includes(role) && (permission === undefined || held.includes(permission));
          if (grants([...entries], routeResourceSuffix(route)) !== expected) {
            throw new RoutePolicyError(`the permission policy ${expected ? 'refuses' : 'grants'} ${role} holding [${held.join(', ')}] the management route ${routeName(route)}`);
          }
        }
      }
    }
  }
  return parsed;
}
