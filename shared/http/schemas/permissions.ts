import * as z from 'zod/mini';
import { MAX_KEY_PERMISSIONS, PERMISSION_PATTERN } from '../../domain/permissions.ts';
import { KEY_ROLES } from '../../domain/roles.ts';
import { API_COMPONENTS } from './common.ts';

/** One permission's name (DESIGN 14); the refusal quotes the value. */
export const PermissionName = z
  .string()
  .check(
    z.regex(PERMISSION_PATTERN, { error: (issue) => `'${String(issue.input).slice(0, 60)}' is not a permission name (<resource>:<action>, e.g. api-keys:read)` }),
    z.describe('`<resource>:<action>`, each part `[a-z][a-z0-9-]{0,39}`, e.g. `api-keys:read`'),
  );

/**
 * A key's restriction as a request sends it. The shape is checked here; that the names are
 * distinct, known to this deployment and granted by the holder's role is the use case's
 * (domain/key-permissions.ts), which names the rule and the value.
 */
export const PermissionList = z
  .array(PermissionName)
  .check(
    z.minLength(1, "must name at least one permission; null (or no field when creating) means all of the role's"),
    z.maxLength(MAX_KEY_PERMISSIONS, `may name at most ${MAX_KEY_PERMISSIONS} permissions`),
    z.describe(
      `1-${MAX_KEY_PERMISSIONS} distinct permissions of this deployment (GET /v1/permissions), each granted by the holder's role: the key may call only the routes that need one of them (and those that need none)`,
    ),
  );

export const PermissionEntryView = z
  .strictObject({
    name: z.string().check(z.describe('`<resource>:<action>`')),
    routes: z.array(z.string()).check(z.describe('The routes that need it, as `<METHOD> <path>`: management routes and team routes')),
    roles: z.array(z.enum(KEY_ROLES)).check(z.describe('The key roles that grant it')),
  })
  .register(API_COMPONENTS, { id: 'Permission' });

export const PermissionListView = z
  .strictObject({ items: z.array(PermissionEntryView).check(z.describe('Every permission of this deployment, sorted by name')) })
  .register(API_COMPONENTS, { id: 'PermissionList' });
