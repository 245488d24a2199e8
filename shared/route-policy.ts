import { KEY_ROLES, type KeyRole } from './domain/roles.ts';
import type { ResolvedDownstreamRoute } from './downstream-routes.ts';

/**
 * What the authorizer needs to know about a team's routes: for each role, the resource
 * suffixes (`METHOD/path`, parameters as `*`) it may call. The CDK construct sets it as the
 * value of one environment variable (`ENV.routePolicy`), so the authorizer's code never
 * changes with the routes.
 */
export type RoutePolicy = Readonly<Record<KeyRole, readonly string[]>>;

/** `{param}` and `{proxy+}` match any run of characters in an execute-api ARN. */
function resourceSuffix(route: ResolvedDownstreamRoute): string {
  return `${route.method}${route.path.replace(/\{\w+\+?\}/g, '*')}`;
}

export function routePolicyEnvironment(routes: readonly ResolvedDownstreamRoute[]): string {
  const policy = Object.fromEntries(
    KEY_ROLES.map((role) => [role, [...new Set(routes.filter((r) => r.roles.includes(role)).map(resourceSuffix))]]),
  ) as Record<KeyRole, string[]>;
  return JSON.stringify(policy);
}
