import type { PolicyDocument, Statement } from 'aws-lambda';
import type { KeyRole } from '../domain/roles.ts';
import { managementRoutePolicy, type RoutePolicy } from './route-policy.ts';

/**
 * The IAM policies the authorizer returns to API Gateway: a role's Allow over the stage (its
 * resources come from the route policy, route-policy.ts) and the explicit Deny of everything.
 * The local gateway evaluates them as API Gateway does (local/gateway/policy-evaluator.ts).
 */

export const INVOKE_ACTION = 'execute-api:Invoke';
const POLICY_VERSION = '2012-10-17';

/**
 * `arn:aws:execute-api:<region>:<account>:<apiId>/<stage>` from a method ARN
 * (`…/<stage>/<METHOD>/<path>`). Policies are built on this base, not on the incoming method
 * ARN, because API Gateway caches one policy per identity and reuses it for every route.
 */
export function apiBaseArn(methodArn: string): string {
  const [apiArn, stage] = methodArn.split('/');
  if (apiArn === undefined || stage === undefined || stage === '' || !/^arn:[^:]+:execute-api:[^:]+:[^:]+:[^:/]+$/.test(apiArn)) {
    throw new Error(`not an execute-api method ARN: '${methodArn}'`);
  }
  return `${apiArn}/${stage}`;
}

/** The resource ARN of a route: `{param}` segments become `*`. */
export function routeResource(apiBase: string, method: string, path: string): string {
  return `${apiBase}/${method}${path.replace(/\{\w+\}/g, '*')}`;
}

/**
 * Every route this role may call, and only those; the others stay implicitly denied (403),
 * or explicitly where a pattern would otherwise reach them (see route-policy.ts). The route
 * policy covers management and team routes; by default, management routes only.
 */
export function allowPolicy(role: KeyRole, apiBase: string, routePolicy: RoutePolicy = managementRoutePolicy()): PolicyDocument {
  let perPolicy = allowPolicies.get(routePolicy);
  if (perPolicy === undefined) {
    perPolicy = new Map();
    allowPolicies.set(routePolicy, perPolicy);
  }
  const cacheKey = `${role} ${apiBase}`;
  let policy = perPolicy.get(cacheKey);
  if (policy === undefined) {
    policy = entriesPolicy(apiBase, routePolicy[role]);
    // A container serves one stage, so this holds a handful of entries; the bound is only a backstop.
    if (perPolicy.size >= 64) perPolicy.clear();
    perPolicy.set(cacheKey, policy);
  }
  return policy;
}

/** The policy of route-policy entries (`!` marks a Deny) under a stage's base ARN: one Allow statement, and one Deny if any. */
export function entriesPolicy(apiBase: string, entries: readonly string[]): PolicyDocument {
  const allow = entries.filter((e) => !e.startsWith('!')).map((suffix) => `${apiBase}/${suffix}`);
  const deny = entries.filter((e) => e.startsWith('!')).map((suffix) => `${apiBase}/${suffix.slice(1)}`);
  const statements: Statement[] = [{ Effect: 'Allow', Action: INVOKE_ACTION, Resource: allow }];
  if (deny.length > 0) statements.push({ Effect: 'Deny', Action: INVOKE_ACTION, Resource: deny });
  return deepFreeze({ Version: POLICY_VERSION, Statement: statements });
}

/** Built once per route policy, role and stage: the policy is on the hot path and depends on nothing else. */
const allowPolicies = new WeakMap<RoutePolicy, Map<string, PolicyDocument>>();

export function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value)) if (typeof inner === 'object' && inner !== null) deepFreeze(inner as object);
  return Object.freeze(value);
}

/** An explicit Deny on every route of the stage: API Gateway's 403 "...with an explicit deny". */
export function denyAllPolicy(apiBase: string): PolicyDocument {
  return { Version: POLICY_VERSION, Statement: [{ Effect: 'Deny', Action: INVOKE_ACTION, Resource: `${apiBase}/*/*` }] };
}
