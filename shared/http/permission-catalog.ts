import type { PermissionCatalog } from '../domain/key-permissions.ts';
import { rolesGranting } from '../domain/permissions.ts';
import { canHoldKeys } from '../domain/roles.ts';
import { ROUTES } from './routes.ts';

/**
 * Every permission of a deployment, built from the one route table and the team's routes (like
 * the OpenAPI document): what `GET /v1/permissions` answers, and the names a key may be
 * restricted to. On AWS it is written at synth into the bundles of the functions that need it
 * (infra/constructs/permission-catalog-file.ts); locally it is built in process.
 */

/**
 * What a team route contributes, as resolveDownstreamRoutes (team-routes.ts) leaves it: its
 * permission resolved (the one it names, else its path's default); absent when it needs none.
 */
export interface PermissionedRoute {
  readonly method: string;
  readonly path: string;
  readonly permission?: string | undefined;
}

export function buildPermissionCatalog(teamRoutes: readonly PermissionedRoute[] = []): PermissionCatalog {
  const routesByName = new Map<string, string[]>();
  const add = (name: string | undefined, route: { readonly method: string; readonly path: string }): void => {
    if (name === undefined) return;
    const routes = routesByName.get(name) ?? [];
    routes.push(`${route.method} ${route.path}`);
    routesByName.set(name, routes);
  };
  for (const route of ROUTES) add('permission' in route ? route.permission : undefined, route);
  for (const route of teamRoutes) add(route.permission, route);
  return [...routesByName.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, routes]) => ({ name, routes, roles: rolesGranting(name) }));
}

/** The catalog of a deployment without team routes: the management routes' permissions. */
export const MANAGEMENT_PERMISSION_CATALOG: PermissionCatalog = buildPermissionCatalog();

/**
 * Where the catalog travels in a function's bundle: the stack writes it at synth into this
 * directory of the bundles that need it (LatchkeyFunction's `bundledDirectory`): the Lambda
 * environment's 4 KB could not hold a large team's routes.
 */
export const PERMISSION_CATALOG_DIRECTORY = 'permissions';
export const PERMISSION_CATALOG_FILE = 'catalog.json';

/** A catalog as the file holds it, checked entry by entry: a malformed file is a deployment fault. */
export function parsePermissionCatalog(json: unknown): PermissionCatalog {
  const items = typeof json === 'object' && json !== null ? (json as { items?: unknown }).items : undefined;
  if (!Array.isArray(items)) throw new Error('the permission catalog has no items');
  return items.map((entry: unknown) => {
    const { name, routes, roles } = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    if (typeof name !== 'string' || !isStringList(routes) || !isStringList(roles) || !roles.every(canHoldKeys)) {
      throw new Error('the permission catalog has a malformed entry');
    }
    return { name, routes, roles };
  });
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((entry) => typeof entry === 'string');
}
