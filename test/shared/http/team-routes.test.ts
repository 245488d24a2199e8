import { describe, expect, it } from 'vitest';
import { RouteDeclarationError, defaultRoles, pathShape, resolveDownstreamRoutes, type DownstreamRoute } from '#shared/http/team-routes.ts';

const backend = { url: 'https://api.internal.example.com' };

function refusal(routes: readonly DownstreamRoute[]): string {
  try {
    resolveDownstreamRoutes(routes);
  } catch (error) {
    expect(error).toBeInstanceOf(RouteDeclarationError);
    return (error as Error).message;
  }
  throw new Error('the declaration was accepted');
}

describe('resolveDownstreamRoutes', () => {
  it('resolves default roles: reads for owner and viewer, writes for owner, logs viewer only where named', () => {
    const [get, head, post, logs] = resolveDownstreamRoutes([
      { method: 'GET', path: '/v1/subscriptions', backend },
      { method: 'HEAD', path: '/v1/subscriptions', backend },
      { method: 'POST', path: '/v1/subscriptions', backend },
      { method: 'GET', path: '/v1/subscriptions/{subscriptionId}/logs', roles: ['owner', 'logs-viewer', 'owner'], backend },
    ]);
    expect(get?.roles).toEqual(['owner', 'viewer']);
    expect(head?.roles).toEqual(['owner', 'viewer']);
    expect(post?.roles).toEqual(['owner']);
    expect(logs?.roles).toEqual(['owner', 'logs-viewer']);
    expect(get?.summary).toBe('GET /v1/subscriptions');
    expect(defaultRoles('DELETE')).toEqual(['owner']);
  });

  it('sees routes that differ only in parameter names as the same resource', () => {
    expect(pathShape('/v1/a/{x}/b/{rest+}')).toBe(pathShape('/v1/a/{y}/b/{other+}'));
  });

  it('refuses an unknown role, naming the route', () => {
    const message = refusal([{ method: 'GET', path: '/v1/things', roles: ['admin' as 'owner'], backend }]);
    expect(message).toContain('GET /v1/things');
    expect(message).toContain("'admin'");
  });

  it('refuses a role that holds no keys and an empty role list', () => {
    expect(refusal([{ method: 'GET', path: '/v1/things', roles: ['manager' as 'owner'], backend }])).toContain('GET /v1/things');
    expect(refusal([{ method: 'GET', path: '/v1/things', roles: [], backend }])).toContain('GET /v1/things');
  });

  it('refuses an unknown method', () => {
    expect(refusal([{ method: 'TRACE' as 'GET', path: '/v1/things', backend }])).toContain('TRACE /v1/things');
  });

  it.each([
    ['no leading slash', 'v1/things'],
    ['an empty segment', '/v1//things'],
    ['a trailing slash', '/v1/things/'],
    ['a query', '/v1/things?x=1'],
    ['a greedy parameter before the end', '/v1/{rest+}/things'],
    ['a malformed parameter', '/v1/{thing id}'],
    ['a half-open brace', '/v1/{thingId'],
    ['a parameter twice', '/v1/{id}/x/{id}'],
    ['a space', '/v1/some things'],
  ])('refuses a malformed path: %s, naming the route', (_name, path) => {
    expect(refusal([{ method: 'GET', path, backend }])).toContain(`route GET ${path}`);
  });

  it('refuses a route declared twice, parameter names aside, naming both', () => {
    const message = refusal([
      { method: 'GET', path: '/v1/things/{thingId}', backend },
      { method: 'GET', path: '/v1/things/{thingId}', roles: ['owner'], backend },
    ]);
    expect(message).toContain('declared twice');
    expect(message).toContain('GET /v1/things/{thingId}');
  });

  it('refuses a parameter named differently at the same place', () => {
    const message = refusal([
      { method: 'GET', path: '/v1/things/{thingId}', backend },
      { method: 'DELETE', path: '/v1/things/{id}', backend },
    ]);
    expect(message).toContain('DELETE /v1/things/{id}');
    expect(message).toContain('GET /v1/things/{thingId}');
  });

  it('refuses a collision with a management route, naming both', () => {
    const message = refusal([{ method: 'GET', path: '/v1/users', backend }]);
    expect(message).toContain('route GET /v1/users collides with the management route GET /v1/users (listUsers)');
    expect(refusal([{ method: 'DELETE', path: '/v1/api-keys/{keyId}', backend }])).toContain('(deleteApiKey)');
  });

  it.each(['/', '/console', '/console/{file}'])('refuses a route on the console path %s, naming the route', (path) => {
    expect(refusal([{ method: 'POST', path, backend }])).toContain(`route POST ${path} collides with the console`);
  });

  it('accepts a new method on a management resource', () => {
    expect(resolveDownstreamRoutes([{ method: 'PUT', path: '/v1/account', backend }])).toHaveLength(1);
  });

  it.each([
    ['a file URL', 'file:///etc/passwd', 'http: or https:'],
    ['an ftp URL', 'ftp://files.example.com', 'http: or https:'],
    ['a relative URL', '/internal', 'not a URL'],
    ['credentials in the URL', 'https://user:pw@api.example.com', 'without query'],
    ['a query in the URL', 'https://api.example.com?x=1', 'without query'],
  ])('refuses a backend URL with %s, naming the route', (_name, url, reason) => {
    const message = refusal([{ method: 'GET', path: '/v1/things', backend: { url } }]);
    expect(message).toContain('GET /v1/things');
    expect(message).toContain(reason);
  });

  it('refuses a missing or malformed backend', () => {
    expect(refusal([{ method: 'GET', path: '/v1/things' } as unknown as DownstreamRoute])).toContain('GET /v1/things');
    expect(refusal([{ method: 'GET', path: '/v1/things', backend: { lambda: '' } }])).toContain('backend.lambda');
    expect(refusal([{ method: 'GET', path: '/v1/things', backend: { lambda: 'x.ts', handler: 'not valid' } }])).toContain('backend.handler');
    expect(refusal([{ method: 'GET', path: '/v1/things', backend: {} as { url: string } }])).toContain('GET /v1/things');
  });
});

describe('a team route\'s permission (DESIGN 14)', () => {
  it('defaults to <resource>:read for GET and HEAD and <resource>:write otherwise, and keeps one it names', () => {
    const [get, head, post, named, none] = resolveDownstreamRoutes([
      { method: 'GET', path: '/v1/widgets/{widgetId}', backend },
      { method: 'HEAD', path: '/v1/widgets/{widgetId}', backend },
      { method: 'POST', path: '/v2/widgets', backend },
      { method: 'GET', path: '/v1/widgets/{widgetId}/price', permission: 'prices:read', backend },
      { method: 'GET', path: '/v1/health', permission: null, backend },
    ]);
    expect([get?.permission, head?.permission, post?.permission, named?.permission]).toEqual(['widgets:read', 'widgets:read', 'widgets:write', 'prices:read']);
    expect(none).not.toHaveProperty('permission');
  });

  it('refuses a route whose path names no default and that names none, naming the route', () => {
    expect(refusal([{ method: 'GET', path: '/v1/{proxy+}', backend }])).toMatch(/route GET \/v1\/\{proxy\+\}: .*permission/);
  });

  it.each(['widgets', 'Widgets:read', 'widgets:read:all', 'widgets read'])('refuses the malformed permission %j, naming the route', (permission) => {
    const message = refusal([{ method: 'GET', path: '/v1/widgets', permission, backend }]);
    expect(message).toContain('GET /v1/widgets');
    expect(message).toContain(JSON.stringify(permission));
  });
});
