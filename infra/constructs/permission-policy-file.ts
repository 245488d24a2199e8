import path from 'node:path';
import { ENV } from '#shared/adapters/environment.ts';
import { buildPermissionPolicy, type PermissionRoute } from '#shared/authorization/permission-policy.ts';
import type { RoutePolicy } from '#shared/authorization/route-policy.ts';
import { bundledJson } from './latchkey-function.ts';

/** Where the authorizer's bundle holds its permission policy: the folder, and the file LATCHKEY_PERMISSION_POLICY_FILE names. */
export const PERMISSION_POLICY_DIRECTORY = 'permission-policy';
export const PERMISSION_POLICY_FILE = `${PERMISSION_POLICY_DIRECTORY}/permission-policy.json`;

/** What the authorizer function gets: a folder copied into its bundle and the variable naming the file in it. */
export interface PermissionPolicyBundle {
  readonly bundledDirectory: { readonly from: string; readonly to: string };
  readonly environment: Readonly<Record<string, string>>;
}

/**
 * Writes the authorizer's permission policy (restricted keys, DESIGN 14) for the management and
 * the team's routes into a fresh directory at synth, for LatchkeyFunction's `bundledDirectory`:
 * the authorizer reads it once per container. A file, not a variable: per permission, the
 * policies of 300 routes take tens of kilobytes, and Lambda's environment holds 4 KB. Without
 * team routes there is nothing to write: the authorizer builds the management routes' own.
 * Throws RouteDeclarationError for routes no policy can tell apart by permission.
 */
export function writePermissionPolicy(teamRoutes: readonly PermissionRoute[], routePolicy: RoutePolicy): PermissionPolicyBundle | undefined {
  if (teamRoutes.length === 0) return undefined;
  return {
    bundledDirectory: bundledJson(PERMISSION_POLICY_DIRECTORY, path.basename(PERMISSION_POLICY_FILE), buildPermissionPolicy(teamRoutes, routePolicy)),
    environment: { [ENV.permissionPolicyFile]: PERMISSION_POLICY_FILE },
  };
}
