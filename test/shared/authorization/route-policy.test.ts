import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allowPolicy } from '#shared/authorization/policies.ts';
import { evaluatePolicy } from '#local/gateway/policy-evaluator.ts';
import { KEY_ROLES, type KeyRole } from '#shared/domain/roles.ts';
import { RouteDeclarationError, resolveDownstreamRoutes, type DownstreamRoute } from '#shared/http/team-routes.ts';
import {
  ROUTE_POLICY_ENV_BUDGET_BYTES,
  RoutePolicyError,
  buildRoutePolicy,
  managementRoutePolicy,
  parseRoutePolicy,
  grants,
  policyResources,
  routePolicyEnvironment,
  routePolicyFromEnv,
  type PolicyRoute,
} from '#shared/authorization/route-policy.ts';
import { ROUTES, isPublicRoute } from '#shared/http/routes.ts';
import { realisticRoutes } from '#test/support/route-sets.ts';

const API_BASE = 'arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod';
const backend = { url: 'https://api.internal.example.com' };

/** A request API Gateway would route to this route: each parameter one segment, a greedy one two. */
function methodArnOf(route: { method: string; path: string }): string {
  return `${API_BASE}/${route.method}${route.path.replace(/\{\w+\+\}/g, 'p/q').replace(/\{\w+\}/g, 'p1')}`;
}

/** The decision API Gateway makes from the policy for every declared route, against the route's own roles. */
function expectExactlyTheRolesRoutes(teamRoutes: readonly DownstreamRoute[]): void {
  const resolved = resolveDownstreamRoutes(teamRoutes);
  const policy = buildRoutePolicy(resolved);
  const all: readonly PolicyRoute[] = [...ROUTES, ...resolved];
  for (const role of KEY_ROLES) {
    const document = allowPolicy(role, API_BASE, policy);
    const wrong = all.filter((route) => (evaluatePolicy(document, methodArnOf(route)) === 'allow') !== route.roles.includes(role));
    expect(wrong.map((r) => `${role}: ${r.method} ${r.path}`)).toEqual([]);
  }
}

describe('policyResources', () => {
  it('keeps the management policy a plain list of the routes each role may call', () => {
    expect(managementRoutePolicy()['logs-viewer']).toEqual(['GET/v1/whoami', 'GET/v1/logs']);
    expect(managementRoutePolicy().viewer).not.toContain('POST/v1/users');
    // Every route but those that need no keys (no authorizer, so no policy, stands in front of them).
    expect(managementRoutePolicy().owner).toHaveLength(ROUTES.filter((route) => !isPublicRoute(route)).length);
    expect(managementRoutePolicy().owner).not.toContain('POST/v1/leaked-keys');
  });

  it.each([10, 100, 300])('gives each role exactly its routes among %i realistic team routes and the management routes', (count) => {
    expectExactlyTheRolesRoutes(realisticRoutes(count));
  });

  it('compresses a large route set into patterns (the policy of 300 routes stays small)', () => {
    const policy = buildRoutePolicy(resolveDownstreamRoutes(realisticRoutes(300)));
    for (const role of KEY_ROLES) expect(policy[role].length).toBeLessThan(60);
    expect(policy.owner.length).toBeLessThan(5);
  });

  it('denies a deeper route that the wildcard of a shallower one would reach', () => {
    const routes: DownstreamRoute[] = [
      { method: 'GET', path: '/v1/things/{thingId}', backend },
      { method: 'GET', path: '/v1/things/{thingId}/secret', roles: ['owner'], backend },
    ];
    const policy = buildRoutePolicy(resolveDownstreamRoutes(routes));
    expect(policy.viewer).toContain('!GET/v1/things/*/secret');
    expectExactlyTheRolesRoutes(routes);
  });

  it('serves a catch-all greedy route beside the management routes (the shape of --upstream)', () => {
    expectExactlyTheRolesRoutes((['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const).map((method) => ({ method, path: '/{proxy+}', permission: null, backend })));
  });

  it('refuses an owner-only catch-all: a viewer pattern for /v1/api-keys/{keyId} would reach its deeper paths', () => {
    expect(() => buildRoutePolicy(resolveDownstreamRoutes([{ method: 'GET', path: '/{proxy+}', roles: ['owner'], permission: null, backend }]))).toThrow(
      /GET \/v1\/api-keys\/\{keyId\} \(viewer may call it\).*GET \/\{proxy\+\}/,
    );
  });

  it('refuses two routes no IAM policy can tell apart, naming both', () => {
    const routes = resolveDownstreamRoutes([
      { method: 'GET', path: '/v2/things/{thingId}', backend },
      { method: 'GET', path: '/v2/{proxy+}', roles: ['owner'], permission: 'things:read', backend },
    ]);
    expect(() => policyResources([...ROUTES, ...routes], 'viewer')).toThrow(RouteDeclarationError);
    expect(() => policyResources([...ROUTES, ...routes], 'viewer')).toThrow(/GET \/v2\/things\/\{thingId\}.*GET \/v2\/\{proxy\+\}/);
  });
});

describe('routePolicyEnvironment', () => {
  it('fits 300 realistic routes in the environment budget', () => {
    const value = routePolicyEnvironment(resolveDownstreamRoutes(realisticRoutes(300)));
    expect(Buffer.byteLength(value)).toBeLessThanOrEqual(ROUTE_POLICY_ENV_BUDGET_BYTES);
    expect(parseRoutePolicy(value)).toEqual(buildRoutePolicy(resolveDownstreamRoutes(realisticRoutes(300))));
  });

  it('refuses a route set whose policy cannot fit', () => {
    // Each pair alternates roles one level apart, so no prefix pattern can cover any two.
    const routes: DownstreamRoute[] = [];
    for (let i = 0; i < 120; i += 1) {
      routes.push({ method: 'GET', path: `/v1/resource-number-${i}/{id}`, roles: ['owner'], backend });
      routes.push({ method: 'GET', path: `/v1/resource-number-${i}/{id}/logs`, roles: ['logs-viewer'], backend });
    }
    expect(() => routePolicyEnvironment(resolveDownstreamRoutes(routes))).toThrow(/4 KB environment/);
  });
});

describe('parseRoutePolicy', () => {
  const good = JSON.stringify(managementRoutePolicy());

  it('reads back what the environment holds', () => {
    expect(parseRoutePolicy(good)).toEqual(managementRoutePolicy());
    expect(routePolicyFromEnv(undefined)).toBe(managementRoutePolicy());
    expect(routePolicyFromEnv('')).toBe(managementRoutePolicy());
  });

  const widened = { ...managementRoutePolicy(), viewer: [...managementRoutePolicy().viewer, 'POST/v1/users'] };
  const narrowed = { ...managementRoutePolicy(), owner: managementRoutePolicy().owner.slice(1) };
  const { 'logs-viewer': _dropped, ...missingRole } = managementRoutePolicy();
  it.each([
    ['not JSON', '{'],
    ['an array', '[]'],
    ['a missing role', JSON.stringify(missingRole)],
    ['an extra role', JSON.stringify({ ...managementRoutePolicy(), admin: [] })],
    ['a non-list', JSON.stringify({ ...managementRoutePolicy(), viewer: 'GET/v1/users' })],
    ['a malformed entry', JSON.stringify({ ...managementRoutePolicy(), viewer: ['arn:aws:execute-api:*'] })],
    ['an unknown method', JSON.stringify({ ...managementRoutePolicy(), viewer: ['TRACE/v1/users'] })],
    ['a management route widened', JSON.stringify(widened)],
    ['a management route narrowed', JSON.stringify(narrowed)],
    ['a wildcard over everything for the viewer', JSON.stringify({ ...managementRoutePolicy(), viewer: ['*'] })],
  ])('refuses %s', (_name, raw) => {
    expect(() => parseRoutePolicy(raw)).toThrow(RoutePolicyError);
  });
});

describe('allowPolicy over a route policy', () => {
  it('puts denies in their own statement', () => {
    const policy = buildRoutePolicy(
      resolveDownstreamRoutes([
        { method: 'GET', path: '/v1/things/{thingId}', backend },
        { method: 'GET', path: '/v1/things/{thingId}/secret', roles: ['owner'], backend },
      ]),
    );
    const document = allowPolicy('viewer', API_BASE, policy);
    expect(document.Statement).toHaveLength(2);
    expect(document.Statement[1]).toEqual({ Effect: 'Deny', Action: 'execute-api:Invoke', Resource: [`${API_BASE}/GET/v1/things/*/secret`] });
    expect(evaluatePolicy(document, `${API_BASE}/GET/v1/things/abc/secret`)).toBe('explicit-deny');
    expect(evaluatePolicy(document, `${API_BASE}/GET/v1/things/abc`)).toBe('allow');
  });

  it('is built once per route policy, role and stage', () => {
    const policy = buildRoutePolicy([]);
    expect(allowPolicy('owner', API_BASE, policy)).toBe(allowPolicy('owner', API_BASE, policy));
    const roles: readonly KeyRole[] = KEY_ROLES;
    expect(new Set(roles.map((role) => allowPolicy(role, API_BASE, policy))).size).toBe(3);
  });
});

describe('grants', () => {
  it('reads entries as API Gateway reads the policy made of them (one IAM glob: `*` any run, `?` one character)', () => {
    const resource = fc.string({ unit: fc.constantFrom('G', 'E', 'T', '/', 'a'), maxLength: 8 });
    const entry = fc.tuple(fc.boolean(), fc.string({ unit: fc.constantFrom('G', 'E', 'T', '/', 'a', '*', '?'), maxLength: 6 }));
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 4 }), resource, (pairs, suffix) => {
        const entries = pairs.map(([deny, pattern]) => (deny ? `!${pattern}` : pattern));
        const document = allowPolicy('owner', API_BASE, { owner: entries, viewer: [], 'logs-viewer': [] });
        expect(grants(entries, suffix)).toBe(evaluatePolicy(document, `${API_BASE}/${suffix}`) === 'allow');
      }),
      { numRuns: 2_000 },
    );
  });
});
