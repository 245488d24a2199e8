import type { DownstreamRoute } from '#shared/http/team-routes.ts';

const FAMILIES = [
  'subscriptions', 'databases', 'cloud-accounts', 'regions', 'tasks', 'payment-methods', 'acl-users', 'acl-roles',
  'acl-rules', 'modules', 'backups', 'imports', 'peerings', 'maintenance-windows', 'alerts', 'metrics', 'invoices',
  'tags', 'certificates', 'endpoints', 'networks', 'snapshots', 'clusters', 'nodes', 'shards', 'plans', 'quotas',
] as const;

/**
 * A realistic team API of `count` routes, shaped like Redis Cloud's: resource families with a
 * collection, an item and a sub-collection; reads for owner and viewer, writes for owner, a
 * logs route a logs viewer may read and an owner-only read of credentials.
 */
export function realisticRoutes(count: number, backend: DownstreamRoute['backend'] = { url: 'https://api.internal.example.com' }): DownstreamRoute[] {
  const routes: DownstreamRoute[] = [];
  for (const family of FAMILIES) {
    const id = `{${family.replace(/-(\w)/g, (_m, c: string) => c.toUpperCase())}Id}`;
    const base = `/v1/${family}`;
    const item = `${base}/${id}`;
    routes.push(
      { method: 'GET', path: base, backend },
      { method: 'POST', path: base, backend },
      { method: 'GET', path: item, backend },
      { method: 'PUT', path: item, backend },
      { method: 'DELETE', path: item, backend },
      { method: 'GET', path: `${item}/settings`, backend },
      { method: 'PATCH', path: `${item}/settings`, backend },
      { method: 'GET', path: `${item}/logs`, roles: ['owner', 'viewer', 'logs-viewer'], backend },
      { method: 'GET', path: `${item}/credentials`, roles: ['owner'], backend },
      { method: 'POST', path: `${item}/actions/{action}`, backend },
      { method: 'GET', path: `/v1/files/${family}/{proxy+}`, backend },
      { method: 'HEAD', path: item, backend },
    );
    if (routes.length >= count) break;
  }
  if (routes.length < count) throw new Error(`at most ${routes.length} realistic routes`);
  return routes.slice(0, count);
}
