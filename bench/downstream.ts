import { allowPolicy } from '#shared/authorization/policies.ts';
import { buildPermissionPolicy, restrictedPolicy } from '#shared/authorization/permission-policy.ts';
import { KEY_ROLES } from '#shared/domain/roles.ts';
import { resolveDownstreamRoutes } from '#shared/http/team-routes.ts';
import { buildRoutePolicy, routeResourceSuffix, type RoutePolicy } from '#shared/authorization/route-policy.ts';
import { ROUTES } from '#shared/http/routes.ts';
import { realisticRoutes } from '#test/support/route-sets.ts';
import { type HttpRun, load, startTarget, summary } from './http.ts';
import type { Figure } from './report.ts';
import { ratio } from './stats.ts';

const GROUP = '7 downstream';
/**
 * API Gateway's documented size limit for a Lambda authorizer's response (8 KB, the quota
 * table for WebSocket APIs; the REST table gives no other figure, so it is the bound we keep).
 */
export const AUTHORIZER_RESPONSE_LIMIT_BYTES = 8 * 1024;
/** A real API's stage ARN is this long; the policy repeats it for every resource. */
const API_BASE = 'arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod';

/** The authorizer's whole answer for a role: principal, policy and context, as API Gateway receives it. */
function responseBytes(policy: RoutePolicy, role: (typeof KEY_ROLES)[number]): number {
  const context = { accountId: 'A'.repeat(16), userId: 'U'.repeat(16), role, keyId: 'K'.repeat(16) };
  return Buffer.byteLength(JSON.stringify({ principalId: context.userId, policyDocument: allowPolicy(role, API_BASE, policy), context }));
}

/** The same policy without patterns: every route of the role listed. */
function plainPolicy(teamRoutes: readonly { method: string; path: string; roles: readonly string[] }[]): RoutePolicy {
  const all = [...ROUTES, ...teamRoutes];
  return Object.fromEntries(
    KEY_ROLES.map((role) => [role, all.filter((r) => (r.roles as readonly string[]).includes(role)).map(routeResourceSuffix)]),
  ) as unknown as RoutePolicy;
}

function policySizes(): { figures: Figure[]; details: unknown[] } {
  const figures: Figure[] = [];
  const details: unknown[] = [];
  for (const count of [10, 100, 300]) {
    const routes = resolveDownstreamRoutes(realisticRoutes(count));
    const started = performance.now();
    const policy = buildRoutePolicy(routes);
    const buildMs = performance.now() - started;
    const sized = KEY_ROLES.map((role) => ({ role, bytes: responseBytes(policy, role), plainBytes: responseBytes(plainPolicy(routes), role), entries: policy[role].length }));
    const largest = sized.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    const largestPlain = sized.reduce((a, b) => (b.plainBytes > a.plainBytes ? b : a));
    details.push({ routes: count, buildMs, roles: sized, env: Buffer.byteLength(JSON.stringify(policy)) });
    figures.push({
      group: GROUP,
      name: `authorizer response, largest role, ${String(count)} team routes (+${String(ROUTES.length)} management)`,
      value: largest.bytes,
      unit: 'B',
      method: `${largest.role}, ${String(largest.entries)} policy entries; limit ${String(AUTHORIZER_RESPONSE_LIMIT_BYTES)} B (${((100 * largest.bytes) / AUTHORIZER_RESPONSE_LIMIT_BYTES).toFixed(0)} %); without patterns ${String(largestPlain.plainBytes)} B (${largestPlain.role}); LATCHKEY_ROUTE_POLICY ${String(Buffer.byteLength(JSON.stringify(policy)))} B; built in ${buildMs.toFixed(0)} ms`,
    });
  }
  figures.push(restrictedPolicySize());
  return { figures, details };
}

/**
 * The largest authorizer response of a restricted key (DESIGN 14) for 300 team routes: over
 * every role and many permission lists. The policy is either the key's grants or the role's
 * policy less what it lacks, whichever is smaller, so the largest lists hold about half the
 * permissions: searched with lists of every density, balanced ones first.
 */
function restrictedPolicySize(): Figure {
  const routes = resolveDownstreamRoutes(realisticRoutes(300));
  const started = performance.now();
  const policy = buildPermissionPolicy(routes, buildRoutePolicy(routes));
  const buildMs = performance.now() - started;
  const names = Object.keys(policy.owner.grants);
  let largest = { bytes: 0, role: 'owner' as (typeof KEY_ROLES)[number], held: 0 };
  let lists = 0;
  let seed = 1;
  const random = (): number => {
    seed = (seed * 48271) % 2147483647;
    return seed / 2147483647;
  };
  for (let round = 0; round < 400; round += 1) {
    const density = round < 200 ? 0.5 : (round % 20) / 20;
    const held = names.filter(() => random() < density);
    lists += 1;
    for (const role of KEY_ROLES) {
      const context = { accountId: 'A'.repeat(16), userId: 'U'.repeat(16), role, keyId: 'K'.repeat(16), permissions: held.join(',') };
      const bytes = Buffer.byteLength(JSON.stringify({ principalId: context.userId, policyDocument: restrictedPolicy(role, held, API_BASE, policy), context }));
      if (bytes > largest.bytes) largest = { bytes, role, held: held.length };
    }
  }
  return {
    group: GROUP,
    name: `authorizer response, largest restricted key, 300 team routes (+${String(ROUTES.length)} management)`,
    value: largest.bytes,
    unit: 'B',
    method: `${largest.role} holding ${String(largest.held)} of ${String(names.length)} permissions, the largest of ${String(lists)} lists (half the permissions at random, then every density) for each role, context (the list included) counted; limit ${String(AUTHORIZER_RESPONSE_LIMIT_BYTES)} B (${((100 * largest.bytes) / AUTHORIZER_RESPONSE_LIMIT_BYTES).toFixed(0)} %); permission policy ${String(Buffer.byteLength(JSON.stringify(policy)))} B, built in ${buildMs.toFixed(0)} ms`,
  };
}

/**
 * `GET /v2/things` through the local runtime with `--upstream` (authorizer cache on) and the
 * same upstream called directly: what the gateway, the cached authorization and the proxy cost.
 */
export async function benchDownstream(endpoint: string): Promise<{ figures: readonly Figure[]; details: unknown }> {
  const runs: HttpRun[] = [];
  const upstream = await startTarget(['bare', '200', 'application/json', '{"things":[]}']);
  try {
    const upstreamUrl = `http://127.0.0.1:${String(upstream.ready.port)}`;
    runs.push(summary('upstream called directly', await load(`${upstreamUrl}/v2/things`, {})));
    const runtime = await startTarget(['local-runtime', endpoint, 'latchkey-bench-downstream', '300', 'limiter-on', upstreamUrl]);
    try {
      if (runtime.ready.kind !== 'local-runtime') throw new Error('unexpected benchmark server');
      const headers = { 'x-api-key': runtime.ready.accountKey, 'x-api-secret-key': runtime.ready.userKey };
      runs.push(summary('through the local runtime with --upstream, cache on', await load(`http://127.0.0.1:${String(runtime.ready.port)}/v2/things`, headers)));
    } finally {
      await runtime.stop();
    }
  } finally {
    await upstream.stop();
  }
  const [direct, proxied] = runs as [HttpRun, HttpRun];
  const figures: Figure[] = [];
  for (const run of runs) {
    figures.push({ group: GROUP, name: `${run.name}: requests/s`, value: run.requestsPerSecond, unit: '/s', method: `autocannon, 127.0.0.1; ${run.requests.toLocaleString('en-US')} requests, every answer 2xx` });
    figures.push({ group: GROUP, name: `${run.name}: median latency`, value: run.latencyMs.p50, unit: 'ms', method: `same run; p99 ${run.latencyMs.p99.toFixed(2)} ms` });
  }
  figures.push({ group: GROUP, name: 'through the runtime / direct (requests/s)', value: ratio(proxied.requestsPerSecond, direct.requestsPerSecond), unit: 'x', method: 'ratio of the requests/s above' });
  const sizes = policySizes();
  figures.push(...sizes.figures);
  return { figures, details: { runs, policySizes: sizes.details } };
}
