import { describe, expect, it } from 'vitest';
import {
  MANAGEMENT_PERMISSIONS,
  defaultPermission,
  effectivePermissions,
  isPermissionName,
  permits,
  roleGrants,
  rolesGranting,
} from '#shared/domain/permissions.ts';
import { KEY_ROLES } from '#shared/domain/roles.ts';
import { ROUTES, isPublicRoute, type Route } from '#shared/http/routes.ts';

describe('permission names', () => {
  it('takes <resource>:<action>, each part a lower-case letter then up to 39 of [a-z0-9-]', () => {
    for (const name of ['account:read', 'api-keys:write', 'a:b', `a${'b'.repeat(39)}:c0-9`]) expect(isPermissionName(name)).toBe(true);
    for (const name of ['', 'account', 'Account:read', 'account:Read', 'account:', ':read', '1a:read', 'a:b:c', `a${'b'.repeat(40)}:c`, 'a_b:read', ' a:read']) {
      expect(isPermissionName(name)).toBe(false);
    }
  });

  it('defaults a team route to its first literal segment that is not a version, read for GET and HEAD, write otherwise', () => {
    expect(defaultPermission('GET', '/v1/widgets/{id}')).toBe('widgets:read');
    expect(defaultPermission('HEAD', '/v1/widgets/{id}')).toBe('widgets:read');
    expect(defaultPermission('POST', '/v2/widgets')).toBe('widgets:write');
    expect(defaultPermission('DELETE', '/widgets/{id}/parts')).toBe('widgets:write');
    expect(defaultPermission('OPTIONS', '/v10/{tenant}/orders')).toBe('orders:write');
    expect(defaultPermission('GET', '/v1/{proxy+}')).toBeUndefined();
    expect(defaultPermission('GET', '/v1/Widgets')).toBeUndefined();
  });
});

describe('what roles grant', () => {
  const every = [...MANAGEMENT_PERMISSIONS, 'widgets:read', 'widgets:write'];

  it('an owner everything, a viewer every read but the account key, a logs viewer the logs', () => {
    expect(every.filter((p) => roleGrants('owner', p))).toEqual(every);
    expect(every.filter((p) => roleGrants('viewer', p))).toEqual(['account:read', 'api-keys:read', 'logs:read', 'users:read', 'widgets:read']);
    expect(every.filter((p) => roleGrants('logs-viewer', p))).toEqual(['logs:read']);
    expect(rolesGranting('logs:read')).toEqual(['owner', 'viewer', 'logs-viewer']);
    expect(rolesGranting('account-key:read')).toEqual(['owner']);
  });

  it('reproduces the management routes: a role that may call a route grants its permission', () => {
    for (const route of ROUTES as readonly Route[]) {
      if (isPublicRoute(route) || route.permission === undefined) continue;
      for (const role of KEY_ROLES) {
        expect([route.operationId, role, roleGrants(role, route.permission)]).toEqual([route.operationId, role, route.roles.includes(role)]);
      }
    }
  });

  it('names a permission from the list for every route with keys but whoami and the permission list', () => {
    const without = (ROUTES as readonly Route[]).filter((r) => !isPublicRoute(r) && r.permission === undefined).map((r) => r.operationId);
    expect(without).toEqual(['whoami', 'listPermissions']);
    expect(new Set(ROUTES.flatMap((r: Route) => (r.permission === undefined ? [] : [r.permission])))).toEqual(new Set(MANAGEMENT_PERMISSIONS));
  });
});

describe('effective permissions', () => {
  it('are all of the role for an unrestricted key, and the list less what the role no longer grants otherwise', () => {
    expect(effectivePermissions('viewer', null)).toBeNull();
    expect(effectivePermissions('viewer', undefined)).toBeNull();
    expect(effectivePermissions('owner', ['api-keys:write', 'logs:read'])).toEqual(['api-keys:write', 'logs:read']);
    expect(effectivePermissions('viewer', ['api-keys:write', 'logs:read'])).toEqual(['logs:read']);
    expect(effectivePermissions('logs-viewer', ['users:read'])).toEqual([]);
  });

  it('open a route that needs none, or whose permission they hold', () => {
    expect(permits(null, 'users:write')).toBe(true);
    expect(permits([], undefined)).toBe(true);
    expect(permits(['users:read'], 'users:read')).toBe(true);
    expect(permits(['users:read'], 'users:write')).toBe(false);
  });
});
