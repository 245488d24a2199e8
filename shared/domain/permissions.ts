import { KEY_ROLES, type KeyRole } from './roles.ts';

/**
 * Permissions (DESIGN 14): every route has one, `<resource>:<action>`; a role grants a set of
 * them; a key may be restricted to a list of them. A route is open to a key when the key's
 * holder's role may call it (the route's own `roles`) and, for a restricted key, when its
 * permission is in the key's list and still granted by the holder's role.
 */

/** One part of a permission name: `account`, `api-keys`, `read`. */
const PART = '[a-z][a-z0-9-]{0,39}';
export const PERMISSION_PATTERN = new RegExp(`^${PART}:${PART}$`);

/** How many permissions one key may be restricted to. */
export const MAX_KEY_PERMISSIONS = 50;

/** The permissions of the management routes, each with what it covers (for docs and the console). */
export const MANAGEMENT_PERMISSIONS = [
  'account:read',
  'account:write',
  'account-key:read',
  'account-key:write',
  'api-keys:read',
  'api-keys:write',
  'logs:read',
  'users:read',
  'users:write',
] as const;
export type ManagementPermission = (typeof MANAGEMENT_PERMISSIONS)[number];

export function isPermissionName(value: string): boolean {
  return PERMISSION_PATTERN.test(value);
}

/** A version segment (`v1`, `v2`, ...) names no resource. */
const VERSION_SEGMENT = /^v\d+$/;

/**
 * A team route's permission when it names none: `<resource>:read` for GET and HEAD,
 * `<resource>:write` otherwise, the resource being the path's first literal segment that is
 * not a version. Undefined when the path has no such segment or it is no valid part (the
 * route must then name its permission).
 */
export function defaultPermission(method: string, path: string): string | undefined {
  const resource = path
    .split('/')
    .find((segment) => segment !== '' && !segment.startsWith('{') && !VERSION_SEGMENT.test(segment));
  if (resource === undefined) return undefined;
  const name = `${resource}:${method === 'GET' || method === 'HEAD' ? 'read' : 'write'}`;
  return isPermissionName(name) ? name : undefined;
}

/** Whether a role grants a permission: owner all; viewer every `*:read` but `account-key:read`; logs viewer `logs:read`. */
export function roleGrants(role: KeyRole, permission: string): boolean {
  switch (role) {
    case 'owner':
      return true;
    case 'viewer':
      return permission.endsWith(':read') && permission !== 'account-key:read';
    case 'logs-viewer':
      return permission === 'logs:read';
  }
}

/** The key roles that grant a permission. */
export function rolesGranting(permission: string): KeyRole[] {
  return KEY_ROLES.filter((role) => roleGrants(role, permission));
}

/**
 * What a key may use now: `null` for an unrestricted key (all its holder's role grants),
 * otherwise its list less what the holder's current role no longer grants (a demotion
 * narrows a restricted key at once, with nothing rewritten).
 */
export function effectivePermissions(role: KeyRole, keyPermissions: readonly string[] | null | undefined): readonly string[] | null {
  if (keyPermissions === null || keyPermissions === undefined) return null;
  return keyPermissions.filter((permission) => roleGrants(role, permission));
}

/**
 * Whether a route with this permission (undefined: it needs none) is open to a key with these
 * effective permissions, the route's roles aside.
 */
export function permits(effective: readonly string[] | null, permission: string | undefined): boolean {
  return effective === null || permission === undefined || effective.includes(permission);
}
