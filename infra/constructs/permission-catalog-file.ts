import { PERMISSION_CATALOG_DIRECTORY, PERMISSION_CATALOG_FILE, type PermissionedRoute, buildPermissionCatalog } from '#shared/http/permission-catalog.ts';
import { bundledJson } from './latchkey-function.ts';

/**
 * Writes this deployment's permission catalog (management routes and the team's) into a fresh
 * directory at synth, for LatchkeyFunction's `bundledDirectory`: the functions that list the
 * permissions or check a key's restriction read it once per container
 * (functions/commons/permission-catalog-file.ts). A file, not a variable: the Lambda
 * environment's 4 KB would not hold a large team's routes.
 */
export function writePermissionCatalog(teamRoutes: readonly PermissionedRoute[]): { readonly from: string; readonly to: string } {
  return bundledJson(PERMISSION_CATALOG_DIRECTORY, PERMISSION_CATALOG_FILE, { items: buildPermissionCatalog(teamRoutes) });
}
