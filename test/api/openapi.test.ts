import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { API_SCHEMAS } from '#shared/http/schemas.ts';
import { buildOpenApiDocument, renderOpenApiDocument } from '#shared/http/openapi.ts';
import { ROUTES, isPublicRoute } from '#shared/http/routes.ts';
import { resolveDownstreamRoutes } from '#shared/http/team-routes.ts';
import { gatewayError } from '#local/gateway/gateway-responses.ts';

const committedPath = fileURLToPath(new URL('../../openapi.json', import.meta.url));

interface Operation {
  readonly operationId: string;
  readonly requestBody?: unknown;
  readonly responses: Record<string, unknown>;
}
type Paths = Record<string, Record<string, Operation>>;

describe('openapi.json', () => {
  it('is exactly what the route table and schemas generate (run `npm run openapi` after changing them)', () => {
    // Prepare
    const committed = readFileSync(committedPath, 'utf8');

    // Act
    const fresh = renderOpenApiDocument();

    // Assess
    expect(committed).toBe(fresh);
  });

  it('documents every route of the table, with its success status and its error responses', () => {
    // Act
    const paths = buildOpenApiDocument().paths as Paths;

    // Assess
    const documented = Object.entries(paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    for (const route of ROUTES) {
      const operation = paths[route.path]?.[route.method.toLowerCase()];
      expect(operation?.operationId).toBe(route.operationId);
      const statuses = Object.keys(operation?.responses ?? {});
      // A route that needs no keys has no authorizer, so none of its refusals.
      const gateway = isPublicRoute(route) ? [] : ['401', '403'];
      expect(statuses).toEqual(expect.arrayContaining([String(route.status), '400', ...gateway, '500']));
      // ...but a 401 of its own where it checks a signature (GitHub's alerts), and then only there.
      const signed = (API_SCHEMAS[route.operationId] as { refusals?: readonly number[] }).refusals?.includes(401) === true;
      if (isPublicRoute(route) && !signed) expect(statuses).not.toEqual(expect.arrayContaining(['401']));
      if (isPublicRoute(route)) expect(statuses).not.toEqual(expect.arrayContaining(['403']));
      expect((operation as { security?: unknown } | undefined)?.security).toEqual(isPublicRoute(route) ? [] : undefined);
      const schemas = API_SCHEMAS[route.operationId];
      if ('body' in schemas) {
        expect(operation?.requestBody).toBeDefined();
        expect(statuses).toEqual(expect.arrayContaining(['413', '415']));
      }
      if ('params' in schemas) expect(statuses).toContain('404');
    }
  });

  it('names the permission of every route that needs one, and of every team route, as GET /v1/permissions lists them', () => {
    const document = buildOpenApiDocument(resolveDownstreamRoutes([{ method: 'GET', path: '/v1/widgets', backend: { url: 'https://internal.example.com' } }]));
    const paths = document.paths as Record<string, Record<string, { 'x-latchkey-permission'?: string }>>;
    for (const route of ROUTES) {
      expect(paths[route.path]?.[route.method.toLowerCase()]?.['x-latchkey-permission'], route.operationId).toBe('permission' in route ? route.permission : undefined);
    }
    expect(paths['/v1/widgets']?.get?.['x-latchkey-permission']).toBe('widgets:read');
  });

  it("gives API Gateway's two 403 bodies, as the local gateway answers them", () => {
    // Act
    const forbidden = (buildOpenApiDocument().components as { responses: Record<string, { content: Record<string, { examples?: Record<string, { value: unknown }> }> }> })
      .responses.Forbidden;

    // Assess
    const examples = Object.values(forbidden?.content['application/json']?.examples ?? {}).map((example) => example.value);
    const bodies = (['implicit-deny', 'explicit-deny'] as const).map((kind) => JSON.parse(gatewayError(kind).body) as unknown);
    expect(examples).toEqual(bodies);
  });

  it('declares both key headers as security schemes, required together on every operation', () => {
    // Act
    const document = buildOpenApiDocument() as { security: unknown; components: { securitySchemes: unknown } };

    // Assess
    expect(document.security).toEqual([{ accountKey: [], userKey: [] }]);
    expect(document.components.securitySchemes).toMatchObject({
      accountKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
      userKey: { type: 'apiKey', in: 'header', name: 'x-api-secret-key' },
    });
  });

  it('is a set of valid JSON Schema 2020-12 schemas that ajv can compile', () => {
    // Prepare
    const document = buildOpenApiDocument() as { components: { schemas: Record<string, unknown> } };
    const ajv = new Ajv2020({ strict: false });
    addFormats.default(ajv);
    ajv.addSchema(document, 'openapi.json');

    // Act
    const compiled = Object.keys(document.components.schemas).map((id) => ajv.compile({ $ref: `openapi.json#/components/schemas/${id}` }));

    // Assess
    expect(compiled).toHaveLength(Object.keys(document.components.schemas).length);
  });
});
