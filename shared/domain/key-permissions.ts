import { PermissionEscalationError, PermissionNotGrantedError, ValidationError } from './errors.ts';
import { MAX_KEY_PERMISSIONS, PERMISSION_PATTERN, roleGrants } from './permissions.ts';
import type { KeyRole } from './roles.ts';

/**
 * A restricted key's list of permissions (DESIGN 14), as the API, the console and the admin
 * CLI take it: the same rules wherever it is set, each refusal naming the rule and the value.
 */

/** One permission of a deployment: the routes that need it, the key roles that grant it. */
export interface PermissionEntry {
  readonly name: string;
  /** `<METHOD> <path>`, management routes and team routes alike. */
  readonly routes: readonly string[];
  readonly roles: readonly KeyRole[];
}

/** Every permission of a deployment (management routes and team routes), sorted by name. */
export type PermissionCatalog = readonly PermissionEntry[];

/**
 * A key's permissions to store: `null` (unrestricted) stays null; a list must hold 1 to
 * MAX_KEY_PERMISSIONS distinct, well-formed names, each a permission of this deployment (a name
 * no route needs would be a restriction that silently grants nothing, or a typo that does).
 * Kept in the order given.
 */
export function validateKeyPermissions(
  value: readonly string[] | null,
  known: ReadonlySet<string>,
  field = 'permissions',
): readonly string[] | null {
  if (value === null) return null;
  if (value.length === 0) {
    throw new ValidationError(field, 'empty', `${field} must name at least one permission; null (or no field when creating) means all of the role's`);
  }
  if (value.length > MAX_KEY_PERMISSIONS) {
    throw new ValidationError(field, 'max-items', `${field} may name at most ${MAX_KEY_PERMISSIONS} permissions (got ${value.length})`);
  }
  const seen = new Set<string>();
  for (const name of value) {
    if (!PERMISSION_PATTERN.test(name)) {
      throw new ValidationError(field, 'pattern', `${field}: '${printable(name)}' is not a permission name (<resource>:<action>, e.g. api-keys:read)`);
    }
    if (seen.has(name)) throw new ValidationError(field, 'duplicate', `${field}: '${name}' is named more than once`);
    seen.add(name);
    if (!known.has(name)) {
      throw new ValidationError(field, 'unknown', `${field}: '${name}' is not a permission of this deployment (GET /v1/permissions lists them)`);
    }
  }
  return [...value];
}

/** Refuses a list with a permission the holder's role does not grant (a restriction only narrows). */
export function assertRoleGrants(role: KeyRole, permissions: readonly string[] | null): void {
  if (permissions === null) return;
  const refused = permissions.find((permission) => !roleGrants(role, permission));
  if (refused !== undefined) throw new PermissionNotGrantedError(role, refused);
}

/**
 * A restricted key hands out no more than it holds (`held`: its effective list; null or
 * undefined: an unrestricted key or the system, which may hand out anything its role allows).
 * `permissions` is what the key it creates, restricts or rolls would then have.
 */
export function assertWithinHeld(held: readonly string[] | null | undefined, permissions: readonly string[] | null): void {
  if (held === null || held === undefined) return;
  if (permissions === null) throw new PermissionEscalationError(null);
  const beyond = permissions.find((permission) => !held.includes(permission));
  if (beyond !== undefined) throw new PermissionEscalationError(beyond);
}

/** The names of a catalog, for validateKeyPermissions. */
export function permissionNames(catalog: PermissionCatalog): ReadonlySet<string> {
  return new Set(catalog.map((entry) => entry.name));
}

/** A value quoted back to the caller: bounded, and without control characters. */
function printable(value: string): string {
  let clean = '';
  for (const char of value) clean += char < ' ' || char === '\u007f' ? '?' : char;
  return clean.length > 60 ? `${clean.slice(0, 60)}…` : clean;
}
