import { describe, expect, it } from 'vitest';
import { MANAGEMENT_PERMISSIONS } from '#shared/domain/permissions.ts';
import { MANAGEMENT_PERMISSION_CATALOG, buildPermissionCatalog, parsePermissionCatalog } from '#shared/http/permission-catalog.ts';
import { ROUTES } from '#shared/http/routes.ts';
import { type DownstreamRoute, resolveDownstreamRoutes } from '#shared/http/team-routes.ts';

const backend = { url: 'https://internal.example.com' };
const resolved = (routes: readonly Omit<DownstreamRoute, 'backend'>[]) => resolveDownstreamRoutes(routes.map((route) => ({ ...route, backend })));

/** The permissions of a deployment, from the one route table and the team's routes. */

describe('buildPermissionCatalog', () => {
  it("holds exactly the management routes' permissions without team routes, each route under its own", () => {
    expect(MANAGEMENT_PERMISSION_CATALOG.map((entry) => entry.name)).toEqual([...MANAGEMENT_PERMISSIONS].sort());
    for (const route of ROUTES) {
      const holders = MANAGEMENT_PERMISSION_CATALOG.filter((entry) => entry.routes.includes(`${route.method} ${route.path}`));
      expect(holders.map((entry) => entry.name)).toEqual('permission' in route ? [route.permission] : []);
    }
  });

  it('adds team routes under the permission they name, else the default for their method and path, sorted by name; a route that needs none is in no entry', () => {
    const catalog = buildPermissionCatalog(resolved([
      { method: 'GET', path: '/v1/widgets/{id}' },
      { method: 'HEAD', path: '/v1/widgets' },
      { method: 'DELETE', path: '/v1/widgets/{id}' },
      { method: 'POST', path: '/v1/widgets/{id}/spin', permission: 'widgets:spin' },
      { method: 'GET', path: '/v2/zebras' },
      { method: 'GET', path: '/v1/status', permission: null },
    ]));
    const names = catalog.map((entry) => entry.name);
    expect(names).toEqual([...names].sort());
    expect(catalog.find((entry) => entry.name === 'widgets:read')).toEqual({ name: 'widgets:read', routes: ['GET /v1/widgets/{id}', 'HEAD /v1/widgets'], roles: ['owner', 'viewer'] });
    expect(catalog.find((entry) => entry.name === 'widgets:write')).toEqual({ name: 'widgets:write', routes: ['DELETE /v1/widgets/{id}'], roles: ['owner'] });
    expect(catalog.find((entry) => entry.name === 'widgets:spin')?.routes).toEqual(['POST /v1/widgets/{id}/spin']);
    expect(catalog.find((entry) => entry.name === 'zebras:read')?.routes).toEqual(['GET /v2/zebras']);
    expect(catalog.flatMap((entry) => entry.routes)).not.toContain('GET /v1/status');
  });

  it('survives the file it travels in, and a malformed file is a fault', () => {
    const catalog = buildPermissionCatalog(resolved([{ method: 'GET', path: '/v1/widgets' }]));
    expect(parsePermissionCatalog(JSON.parse(JSON.stringify({ items: catalog })))).toEqual(catalog);
    expect(() => parsePermissionCatalog({})).toThrow();
    expect(() => parsePermissionCatalog({ items: [{ name: 'a:b', routes: [], roles: ['manager'] }] })).toThrow();
  });
});
