import type { Keys } from '../http-client.ts';
import { describeAnswer } from '../report.ts';
import type { KeyHoldingRole } from '../cleanup.ts';
import { fencedKey } from './access.ts';
import type { Caller, SmokeContext } from './context.ts';

/**
 * A team's own route behind the authorizer (`--route 'GET /v1/hello'`): refused without keys
 * (401), refused to a key that may not call it (403), reached by the owner (2xx).
 */

export interface TeamRoute {
  readonly method: string;
  readonly path: string;
  /** The roles the route admits: as declared, else the default role rule (docs/your-routes.md). */
  readonly roles: readonly KeyHoldingRole[];
}

const KEY_HOLDING_ROLES: readonly KeyHoldingRole[] = ['owner', 'viewer', 'logs-viewer'];

export class RouteSpecError extends Error {
  constructor(spec: string, why: string) {
    super(`--route '${spec}': ${why} (expected 'METHOD /path' or 'METHOD /path owner,viewer')`);
    this.name = 'RouteSpecError';
  }
}

/** `GET /v1/hello`, or `POST /v1/reports owner,logs-viewer` for a route that names its roles. */
export function parseRouteSpec(spec: string): TeamRoute {
  const [method, path, roleList, ...rest] = spec.trim().split(/\s+/);
  if (method === undefined || path === undefined || rest.length > 0) throw new RouteSpecError(spec, 'a method and a path');
  if (!/^[A-Za-z]+$/.test(method)) throw new RouteSpecError(spec, `'${method}' is not a method`);
  if (!path.startsWith('/')) throw new RouteSpecError(spec, 'the path must start with /');
  const upper = method.toUpperCase();
  if (roleList === undefined) {
    // The default role rule: reads for owners and viewers, everything else for owners.
    return { method: upper, path, roles: upper === 'GET' || upper === 'HEAD' ? ['owner', 'viewer'] : ['owner'] };
  }
  const roles = roleList.split(',');
  for (const role of roles) {
    if (!KEY_HOLDING_ROLES.includes(role as KeyHoldingRole)) throw new RouteSpecError(spec, `'${role}' is not a role that may hold keys`);
  }
  // The route's 2xx is looked for with the owner's keys.
  if (!roles.includes('owner')) throw new RouteSpecError(spec, 'the smoke test calls the route as the owner, so its roles must include owner');
  return { method: upper, path, roles: roles as KeyHoldingRole[] };
}

/**
 * The 403 uses the viewer: refused by role where the route does not admit viewers, else by a
 * CIDR rule that leaves out the caller (the refusal every route meets).
 */
export async function checkTeamRoute(context: SmokeContext, route: TeamRoute, viewerUserId: string, caller: Caller): Promise<void> {
  const { client, report, owner } = context;
  const label = `${route.method} ${route.path}`;
  const send = (keys?: Keys): ReturnType<typeof client.request> => client.request(route.path, { method: route.method, ...(keys === undefined ? {} : { keys }) });
  report.expectStatus(`${label} without keys: 401`, await send(), 401);

  const byRole = !route.roles.includes('viewer');
  const refusalName = `${label} ${byRole ? 'for a viewer (role)' : 'from outside the key’s CIDR rule'}: 403`;
  if (byRole) {
    const viewer = await context.ledger.key(viewerUserId);
    report.expectStatus(refusalName, await send({ accountKey: owner.accountKey, userKey: viewer.secret }), 403);
  } else if (caller.sourceIp === undefined) {
    report.fail(refusalName, "not run: the owner's whoami told no source address");
  } else {
    const { key } = await fencedKey(context, viewerUserId, caller.sourceIp);
    report.expectStatus(refusalName, await send({ accountKey: owner.accountKey, userKey: key.secret }), 403);
  }

  const reached = await send(owner);
  const ownerName = `${label} for the owner: 2xx`;
  if (reached.status >= 200 && reached.status < 300) report.pass(ownerName, String(reached.status));
  else report.fail(ownerName, `saw ${describeAnswer(reached)}`);
}
