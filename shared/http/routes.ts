import type { ManagementPermission } from '../domain/permissions.ts';
import type { KeyRole } from '../domain/roles.ts';

/**
 * The one list of routes. API Gateway's resources (infra), the local server, the authorizer's
 * policy and the OpenAPI document are all derived from it; the request and response schemas
 * of each operation live in `schemas/<group>.ts`, keyed by `operationId` and checked complete by
 * the type system (kept apart so that the authorizer's bundle carries no schema library, and
 * each function's bundle only its own group's schemas).
 */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Each group is one Lambda function (`functions/<group>.ts`). */
export const FUNCTION_GROUPS = ['whoami', 'account', 'users', 'api-keys', 'cidr-allow-list', 'logs', 'leaked-keys'] as const;
export type FunctionGroup = (typeof FUNCTION_GROUPS)[number];

export interface Route {
  readonly operationId: string;
  readonly method: HttpMethod;
  /** API Gateway resource path, parameters in braces. */
  readonly path: string;
  readonly roles: readonly KeyRole[];
  /**
   * What a restricted key must hold to call it (DESIGN 14); absent: none (whoami, the
   * permissions list, and the routes that need no keys). Roles still apply on top.
   */
  readonly permission?: ManagementPermission;
  readonly group: FunctionGroup;
  readonly status: number;
  readonly summary: string;
  /** Whether the route changes state (and so may narrow access and must flush the authorizer cache). */
  readonly mutates: boolean;
  /**
   * Needs no keys: API Gateway calls no authorizer and the handler gets no principal (the
   * route's `roles` are then empty, so no authorizer policy names it either).
   */
  readonly public?: boolean;
}

const OVL = ['owner', 'viewer', 'logs-viewer'] as const;
const OV = ['owner', 'viewer'] as const;
const O = ['owner'] as const;
const NONE = [] as const;

export const ROUTES = [
  { operationId: 'whoami', method: 'GET', path: '/v1/whoami', roles: OVL, group: 'whoami', status: 200, mutates: false, summary: 'Who the keys of this request belong to' },
  { operationId: 'getAccount', permission: 'account:read', method: 'GET', path: '/v1/account', roles: OV, group: 'account', status: 200, mutates: false, summary: 'The account, with its key masked' },
  { operationId: 'revealAccountKey', permission: 'account-key:read', method: 'GET', path: '/v1/account/key', roles: O, group: 'account', status: 200, mutates: false, summary: 'Reveal the account key (audited)' },
  { operationId: 'listUsers', permission: 'users:read', method: 'GET', path: '/v1/users', roles: OV, group: 'users', status: 200, mutates: false, summary: 'List the users of the account' },
  { operationId: 'createUser', permission: 'users:write', method: 'POST', path: '/v1/users', roles: O, group: 'users', status: 201, mutates: true, summary: 'Add a user' },
  { operationId: 'updateUser', permission: 'users:write', method: 'PATCH', path: '/v1/users/{userId}', roles: O, group: 'users', status: 200, mutates: true, summary: "Change a user's role" },
  { operationId: 'deleteUser', permission: 'users:write', method: 'DELETE', path: '/v1/users/{userId}', roles: O, group: 'users', status: 204, mutates: true, summary: 'Delete a user and their keys' },
  { operationId: 'listApiKeys', permission: 'api-keys:read', method: 'GET', path: '/v1/api-keys', roles: OV, group: 'api-keys', status: 200, mutates: false, summary: 'List user keys' },
  { operationId: 'createApiKey', permission: 'api-keys:write', method: 'POST', path: '/v1/api-keys', roles: O, group: 'api-keys', status: 201, mutates: true, summary: 'Create a user key (the secret is returned once)' },
  { operationId: 'getApiKey', permission: 'api-keys:read', method: 'GET', path: '/v1/api-keys/{keyId}', roles: OV, group: 'api-keys', status: 200, mutates: false, summary: 'Get a user key' },
  { operationId: 'deleteApiKey', permission: 'api-keys:write', method: 'DELETE', path: '/v1/api-keys/{keyId}', roles: O, group: 'api-keys', status: 204, mutates: true, summary: 'Delete a user key' },
  { operationId: 'listCidrRules', permission: 'api-keys:read', method: 'GET', path: '/v1/api-keys/{keyId}/cidr-allow-list', roles: OV, group: 'cidr-allow-list', status: 200, mutates: false, summary: "A key's CIDR allow list" },
  { operationId: 'addCidrRule', permission: 'api-keys:write', method: 'POST', path: '/v1/api-keys/{keyId}/cidr-allow-list', roles: O, group: 'cidr-allow-list', status: 201, mutates: true, summary: 'Add a CIDR rule' },
  { operationId: 'updateCidrRule', permission: 'api-keys:write', method: 'PUT', path: '/v1/api-keys/{keyId}/cidr-allow-list/{ruleId}', roles: O, group: 'cidr-allow-list', status: 200, mutates: true, summary: 'Edit a CIDR rule' },
  { operationId: 'deleteCidrRule', permission: 'api-keys:write', method: 'DELETE', path: '/v1/api-keys/{keyId}/cidr-allow-list/{ruleId}', roles: O, group: 'cidr-allow-list', status: 204, mutates: true, summary: 'Delete a CIDR rule' },
  { operationId: 'listEvents', permission: 'logs:read', method: 'GET', path: '/v1/logs', roles: OVL, group: 'logs', status: 200, mutates: false, summary: 'The audit log, newest first' },
  { operationId: 'rollApiKey', permission: 'api-keys:write', method: 'POST', path: '/v1/api-keys/{keyId}/roll', roles: O, group: 'api-keys', status: 200, mutates: true, summary: 'Roll a user key: a new secret, the previous one working for a grace period' },
  { operationId: 'rollAccountKey', permission: 'account-key:write', method: 'POST', path: '/v1/account/key/roll', roles: O, group: 'account', status: 200, mutates: true, summary: 'Roll the account key: a new key, the previous one working for a grace period' },
  { operationId: 'reportLeakedKeys', method: 'POST', path: '/v1/leaked-keys', roles: NONE, group: 'leaked-keys', status: 202, mutates: true, public: true, summary: 'Report leaked keys (no keys needed)' },
  { operationId: 'reportGitHubAlerts', method: 'POST', path: '/v1/leaked-keys/github', roles: NONE, group: 'leaked-keys', status: 200, mutates: true, public: true, summary: "GitHub secret scanning alerts (no keys; signed by GitHub): handled as leak reports, answered with GitHub's feedback" },
  { operationId: 'getAccountUsage', permission: 'account:read', method: 'GET', path: '/v1/account/usage', roles: OV, group: 'account', status: 200, mutates: false, summary: "The account's plan, what it has used of it this period, and its requests per day over the last 30 days" },
  { operationId: 'updateAccount', permission: 'account:write', method: 'PATCH', path: '/v1/account', roles: O, group: 'account', status: 200, mutates: true, summary: "Turn the account's API on or off" },
  { operationId: 'updateApiKey', permission: 'api-keys:write', method: 'PATCH', path: '/v1/api-keys/{keyId}', roles: O, group: 'api-keys', status: 200, mutates: true, summary: 'Restrict a user key to a list of permissions, or lift its restriction (null)' },
  { operationId: 'listPermissions', method: 'GET', path: '/v1/permissions', roles: OV, group: 'whoami', status: 200, mutates: false, summary: 'Every permission of this deployment: the routes that need it and the roles that grant it' },
] as const satisfies readonly Route[];

export type OperationId = (typeof ROUTES)[number]['operationId'];
/** The operations of one function group: what its Lambda function serves, and all it bundles. */
export type OperationIdOf<G extends FunctionGroup> = Extract<(typeof ROUTES)[number], { readonly group: G }>['operationId'];
/** Operations of routes that need no keys. */
export type PublicOperationId = Extract<(typeof ROUTES)[number], { readonly public: true }>['operationId'];

/**
 * The method throttle of each route that needs no keys, for all of its callers together: what
 * anyone sends there stays a small amount of work. API Gateway applies it on AWS (LatchkeyApi's
 * `publicRouteRateLimit` and `publicRouteBurstLimit` default to it), the local gateway locally.
 */
export const PUBLIC_ROUTE_THROTTLE = { rateLimit: 5, burstLimit: 10 } as const;

/** Whether the route needs no keys (no authorizer in front of it). */
export function isPublicRoute(route: Route): boolean {
  return route.public === true;
}

export function routesOfGroup(group: FunctionGroup): readonly Route[] {
  return ROUTES.filter((r) => r.group === group);
}

export function findRoute(method: string, resourcePath: string): Route | undefined {
  return ROUTES.find((r) => r.method === method && r.path === resourcePath);
}

/** A path template as a regular expression with named groups, for servers that route raw paths. */
export function pathPattern(path: string): RegExp {
  const source = path.replace(/\{(\w+)\}/g, (_m, name: string) => `(?<${name}>[^/]+)`);
  return new RegExp(`^${source}$`);
}
