import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluatePolicy } from '#local/gateway/policy-evaluator.ts';
import { RouteMatcher } from '#local/gateway/route-matcher.ts';
import { iamGlobMatches } from '#shared/authorization/iam-glob.ts';
import {
  buildPermissionPolicy,
  managementPermissionPolicy,
  parsePermissionPolicy,
  restrictedEntries,
  restrictedPolicy,
  type PermissionPolicy,
  type PermissionRoute,
} from '#shared/authorization/permission-policy.ts';
import { RoutePolicyError, buildRoutePolicy, grants, routeResourceSuffix } from '#shared/authorization/route-policy.ts';
import { MANAGEMENT_PERMISSIONS, permits } from '#shared/domain/permissions.ts';
import { KEY_ROLES, type KeyRole } from '#shared/domain/roles.ts';
import { ROUTES, isPublicRoute } from '#shared/http/routes.ts';
import { RouteDeclarationError, resolveDownstreamRoutes, type DownstreamRoute } from '#shared/http/team-routes.ts';
import { realisticRoutes } from '#test/support/route-sets.ts';

const API_BASE = 'arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod';
const backend = { url: 'https://api.internal.example.com' };

const MANAGEMENT: readonly PermissionRoute[] = ROUTES.filter((route) => !isPublicRoute(route));

/** Requests API Gateway routes by the template: each parameter one segment, a greedy one one or more. */
function samplePaths(path: string): string[] {
  const one = path.replace(/\{\w+\+\}/g, 'p').replace(/\{\w+\}/g, 'p1');
  const deep = path.replace(/\{\w+\+\}/g, 'p/q/r').replace(/\{\w+\}/g, 'p2');
  return [...new Set([one, deep])];
}

/**
 * Every sample request of every declared route, with the route API Gateway routes it to (the
 * local matcher's choice), against what a key holding `held` under `role` may call: exactly
 * that route's callability. `tolerated` names the refusals the design accepts (a greedy route's
 * paths nested under a route of a permission the key lacks, IAM's `*` crossing `/`).
 */
function wrongDecisions(routes: readonly PermissionRoute[], policy: PermissionPolicy, role: KeyRole, held: readonly string[]): string[] {
  const matcher = new RouteMatcher(routes);
  const document = restrictedPolicy(role, held, API_BASE, policy);
  const callable = (route: PermissionRoute): boolean => route.roles.includes(role) && permits(held, route.permission);
  const wrong: string[] = [];
  for (const declared of routes) {
    for (const path of samplePaths(declared.path)) {
      const route = matcher.match(declared.method, path)?.route;
      if (route === undefined) continue;
      const allowed = evaluatePolicy(document, `${API_BASE}/${declared.method}${path}`) === 'allow';
      if (allowed === callable(route)) continue;
      const tolerated =
        !allowed &&
        route.path.includes('+}') &&
        routes.some((other) => other.roles.includes(role) && !callable(other) && iamGlobMatches(routeResourceSuffix(other), `${declared.method}${path}`));
      if (!tolerated) wrong.push(`${role} [${held.join(' ')}] ${allowed ? 'allowed' : 'refused'} ${declared.method} ${path} (${route.method} ${route.path})`);
    }
  }
  return wrong;
}

function teamPolicy(teamRoutes: readonly DownstreamRoute[]): { routes: readonly PermissionRoute[]; policy: PermissionPolicy } {
  const resolved = resolveDownstreamRoutes(teamRoutes);
  return { routes: [...MANAGEMENT, ...resolved], policy: buildPermissionPolicy(resolved, buildRoutePolicy(resolved)) };
}

describe('restricted policies over the management routes', () => {
  it.each(KEY_ROLES)('give a %s key exactly the routes of each single permission, and none', (role) => {
    for (const held of [[], ...MANAGEMENT_PERMISSIONS.map((p) => [p]), [...MANAGEMENT_PERMISSIONS]]) {
      expect(wrongDecisions(MANAGEMENT, managementPermissionPolicy(), role, held)).toEqual([]);
    }
  });

  it('leaves whoami to every key, restricted to nothing or not', () => {
    const document = restrictedPolicy('viewer', [], API_BASE);
    expect(evaluatePolicy(document, `${API_BASE}/GET/v1/whoami`)).toBe('allow');
    expect(evaluatePolicy(document, `${API_BASE}/GET/v1/users`)).toBe('implicit-deny');
  });

  it('is built once per role, list and stage', () => {
    expect(restrictedPolicy('owner', ['users:read'], API_BASE)).toBe(restrictedPolicy('owner', ['users:read'], API_BASE));
    expect(restrictedPolicy('owner', ['users:read'], API_BASE)).not.toBe(restrictedPolicy('viewer', ['users:read'], API_BASE));
  });
});

describe('restricted policies over team routes', () => {
  it('give a key with one permission exactly its routes among 300 realistic ones, and one with half of them', () => {
    const { routes, policy } = teamPolicy(realisticRoutes(300));
    const names = Object.keys(policy.owner.grants);
    for (const role of KEY_ROLES) {
      expect(wrongDecisions(routes, policy, role, ['subscriptions:read'])).toEqual([]);
      expect(wrongDecisions(routes, policy, role, names.filter((_name, index) => index % 2 === 0))).toEqual([]);
    }
  });

  it('keeps the largest response for 300 routes under 8 KB', () => {
    const { policy } = teamPolicy(realisticRoutes(300));
    const names = Object.keys(policy.owner.grants);
    let largest = 0;
    for (let seed = 0; seed < 200; seed += 1) {
      const held = names.filter((_name, index) => ((index * 7919 + seed * 104729) % 97) % (2 + (seed % 5)) === 0);
      for (const role of KEY_ROLES) largest = Math.max(largest, JSON.stringify(restrictedPolicy(role, held, API_BASE, policy)).length);
    }
    expect(largest).toBeLessThan(8 * 1024 - 512);
  });

  it('denies a nested route of another permission by name when the key lacks it', () => {
    const { routes, policy } = teamPolicy([
      { method: 'GET', path: '/v1/things/{thingId}', backend },
      { method: 'GET', path: '/v1/things/{thingId}/secret', permission: 'secrets:read', backend },
    ]);
    const entries = restrictedEntries(policy, 'viewer', ['things:read']);
    expect(entries).toContain('!GET/v1/things/*/secret');
    expect(grants(entries, 'GET/v1/things/a')).toBe(true);
    expect(grants(entries, 'GET/v1/things/a/secret')).toBe(false);
    expect(grants(restrictedEntries(policy, 'viewer', ['secrets:read']), 'GET/v1/things/a')).toBe(false);
    for (const held of [[], ['things:read'], ['secrets:read'], ['things:read', 'secrets:read']]) expect(wrongDecisions(routes, policy, 'viewer', held)).toEqual([]);
  });

  it('refuses two routes of different permissions one role may call and no pattern can tell apart, naming both', () => {
    // A things:read key's Allow of GET/v2/things/* reaches the catch-all's GET /v2/things/a/b,
    // and the catch-all's own resource GET/v2/* covers every thing: no Deny refuses one alone.
    const declare = (): unknown =>
      teamPolicy([
        { method: 'GET', path: '/v2/things/{thingId}', backend },
        { method: 'GET', path: '/v2/{proxy+}', permission: 'files:read', backend },
      ]);
    expect(declare).toThrow(RouteDeclarationError);
    expect(declare).toThrow(/GET \/v2\/\{proxy\+\} \(files:read\).*GET \/v2\/things\/\{thingId\} \(things:read\)/);
    // One permission for both: nothing to tell apart.
    expect(() =>
      teamPolicy([
        { method: 'GET', path: '/v2/things/{thingId}', backend },
        { method: 'GET', path: '/v2/{proxy+}', permission: 'things:read', backend },
      ]),
    ).not.toThrow();
  });

  it('serves a catch-all that needs no permission beside the management routes (the shape of --upstream)', () => {
    const { routes, policy } = teamPolicy((['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const).map((method) => ({ method, path: '/{proxy+}', permission: null, backend })));
    for (const role of KEY_ROLES) {
      for (const held of [[], ['users:read'], ['api-keys:read', 'logs:read']]) expect(wrongDecisions(routes, policy, role, held)).toEqual([]);
    }
    // The catch-all's paths nested under a route the key lacks are refused too (IAM's `*` crosses `/`).
    expect(grants(restrictedEntries(policy, 'owner', []), 'GET/v1/api-keys/k/anything')).toBe(false);
    expect(grants(restrictedEntries(policy, 'owner', []), 'GET/anything/else')).toBe(true);
  });
});

describe('a restricted key reaches exactly the routes of its role whose permission it holds (property)', () => {
  const segment = fc.constantFrom('alpha', 'beta', 'gamma');
  const tail = fc.constantFrom('', '/{id}', '/{id}/x', '/{id}/y', '/x', '/{rest+}', '/{id}/{rest+}');
  const route = fc.record({
    method: fc.constantFrom('GET' as const, 'POST' as const),
    path: fc.tuple(fc.boolean(), segment, tail).map(([versioned, first, rest]) => `${versioned ? '/v1' : ''}/${first}${rest}`),
    roles: fc.subarray([...KEY_ROLES], { minLength: 1 }),
    permission: fc.option(fc.constantFrom('alpha:read', 'beta:write', 'users:read', 'api-keys:read', 'logs:read'), { nil: undefined }),
  });
  const permissionList = fc.subarray(['alpha:read', 'alpha:write', 'beta:read', 'beta:write', 'gamma:read', 'gamma:write', ...MANAGEMENT_PERMISSIONS]);

  it('for generated route sets, roles and permission lists, by the policy evaluator', () => {
    let checked = 0;
    fc.assert(
      fc.property(fc.uniqueArray(route, { maxLength: 7, selector: (r) => `${r.method} ${r.path.replace(/\{[^}]+\}/g, '{}')}` }), fc.array(permissionList, { minLength: 1, maxLength: 4 }), (declared, lists) => {
        let built: { routes: readonly PermissionRoute[]; policy: PermissionPolicy };
        try {
          built = teamPolicy(declared.map((r) => ({ ...r, backend })));
        } catch (error) {
          // Declarations refused at synth (roles or permissions no policy tells apart) serve nobody.
          if (error instanceof RouteDeclarationError) return;
          throw error;
        }
        checked += 1;
        for (const role of KEY_ROLES) for (const held of lists) expect(wrongDecisions(built.routes, built.policy, role, held)).toEqual([]);
      }),
      { numRuns: 300 },
    );
    // Most generated sets are servable: the property is not checked on a handful only.
    expect(checked).toBeGreaterThan(150);
  });
});

describe('parsePermissionPolicy', () => {
  const good = JSON.stringify(managementPermissionPolicy());

  it('reads back what the build wrote, for management and team routes', () => {
    expect(parsePermissionPolicy(good)).toEqual(managementPermissionPolicy());
    const { policy } = teamPolicy(realisticRoutes(50));
    expect(parsePermissionPolicy(JSON.stringify(policy))).toEqual(policy);
  });

  const management = managementPermissionPolicy();
  const widenedGrant = {
    ...management,
    viewer: { ...management.viewer, grants: { ...management.viewer.grants, 'logs:read': { entries: ['GET/v1/*'], unless: [] } } },
  };
  const droppedWithhold = { ...management, owner: { ...management.owner, withholds: { ...management.owner.withholds, 'users:write': [] } } };
  const { viewer: _viewer, ...missingRole } = management;
  it.each([
    ['not JSON', '{'],
    ['a missing role', JSON.stringify(missingRole)],
    ['a malformed entry', JSON.stringify({ ...management, owner: { ...management.owner, role: ['arn:aws:*'] } })],
    ['an unknown permission name', JSON.stringify({ ...management, owner: { ...management.owner, grants: { Users: management.owner.open } } })],
    ['an inherited name', JSON.stringify({ ...management, owner: { ...management.owner, grants: { constructor: management.owner.open } } })],
    ['a grant that widens a management permission', JSON.stringify(widenedGrant)],
    ['a withhold that no longer withholds', JSON.stringify(droppedWithhold)],
  ])('refuses %s', (_name, raw) => {
    expect(() => parsePermissionPolicy(raw)).toThrow(RoutePolicyError);
  });
});
