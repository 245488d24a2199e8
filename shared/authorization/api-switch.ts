import type { PolicyDocument } from 'aws-lambda';
import { iamGlobMatches } from './iam-glob.ts';
import { permits } from '../domain/permissions.ts';
import { INVOKE_ACTION, deepFreeze, routeResource } from './policies.ts';
import { ROUTES, type OperationId, type Route } from '../http/routes.ts';

/**
 * The API switch (DESIGN 9). While an account's API is off, its owners' keys still reach the
 * two routes that read and flip the switch, so that a console can show `Enable API` and turn
 * it back on; every other request of the account is 401.
 *
 * API Gateway caches one policy per identity (both keys and the source address) per authorizer
 * and evaluates it against every route that authorizer guards. A restricted policy for an owner
 * of a disabled account, cached while they read the account, would answer the next request to
 * another route with the policy's implicit deny, a 403, where the contract says 401. So the
 * switch routes are guarded by an authorizer of their own (same function, same identity
 * sources, a cache of its own): the function learns from the method ARN which one calls it,
 * gives the restricted Allow only there, and throws `Unauthorized` everywhere else. The
 * deployed stack and the local gateway both attach the switch routes to it.
 */
export const API_SWITCH_OPERATIONS: readonly OperationId[] = ['getAccount', 'updateAccount'];

export function isApiSwitchRoute(route: Pick<Route, 'operationId'>): boolean {
  return API_SWITCH_OPERATIONS.includes(route.operationId as OperationId);
}

const API_SWITCH_ROUTES: readonly Route[] = ROUTES.filter(isApiSwitchRoute);

/**
 * The resources of the switch routes under a stage's base ARN, and the Allow of them. Every
 * authorization asks which authorizer calls it, so both are built once per stage, as the
 * role policies are (a container serves one stage; the bound is only a backstop).
 */
interface StageSwitch {
  readonly resources: readonly string[];
  readonly policy: PolicyDocument;
}
const perStage = new Map<string, StageSwitch>();

function switchOf(apiBase: string): StageSwitch {
  let entry = perStage.get(apiBase);
  if (entry === undefined) {
    const resources = API_SWITCH_ROUTES.map((route) => routeResource(apiBase, route.method, route.path));
    const policy: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: INVOKE_ACTION, Resource: [...resources] }] };
    entry = deepFreeze<StageSwitch>({ resources, policy });
    if (perStage.size >= 64) perStage.clear();
    perStage.set(apiBase, entry);
  }
  return entry;
}

/** Whether a method ARN names one of the switch routes (the authorizer's view of which route asks). */
export function isApiSwitchMethodArn(apiBase: string, methodArn: string): boolean {
  return switchOf(apiBase).resources.some((resource) => iamGlobMatches(resource, methodArn));
}

/**
 * The Allow of an owner whose account's API is off: the switch routes and nothing else; for a
 * restricted key (DESIGN 14), those of them whose permission it holds.
 */
export function apiSwitchPolicy(apiBase: string, permissions: readonly string[] | null = null): PolicyDocument {
  if (permissions === null) return switchOf(apiBase).policy;
  const resources = API_SWITCH_ROUTES.filter((route) => permits(permissions, 'permission' in route ? route.permission : undefined)).map((route) =>
    routeResource(apiBase, route.method, route.path),
  );
  // Refused both: an Allow of nothing is not a valid statement, and an explicit Deny would be
  // another 403's body; this resource names no route, so every route stays implicitly denied.
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: INVOKE_ACTION, Resource: resources.length > 0 ? resources : [`${apiBase}/NONE/`] }] };
}
