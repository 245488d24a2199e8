import * as z from 'zod';
import { API_COMPONENTS, MAX_BODY_BYTES, type OperationSchemas, Problem, schemasOf } from './api-schemas.ts';
import { ACCOUNT_KEY_HEADER, USER_KEY_HEADER } from './authorization.ts';
import { ROUTES, type Route } from './routes.ts';

/**
 * The OpenAPI 3.1 document, generated from the route table and the operations' schemas (never
 * written by hand): `npm run openapi` writes it to openapi.json, and a test checks that the
 * committed file is what this function produces.
 */

export const OPENAPI_VERSION = '3.1.0';
export const API_VERSION = '1.0.0';

type JsonSchema = Record<string, unknown>;
type JsonObject = Record<string, unknown>;

const COMPONENT_REF = (id: string): string => `#/components/schemas/${id}`;
const GATEWAY_MESSAGE = 'GatewayMessage';

/** API Gateway's own refusals (the authorizer's outcomes) are `{"message": ...}`, not problem documents. */
const GatewayMessageSchema: JsonSchema = {
  type: 'object',
  properties: { message: { type: 'string' } },
  required: ['message'],
  additionalProperties: false,
  description: "API Gateway's own answer, e.g. {\"message\":\"Unauthorized\"}",
};

function withoutDialect(schema: JsonSchema): JsonSchema {
  const { $schema: _dialect, $id: _id, ...rest } = schema;
  return rest;
}

function inputSchema(schema: z.ZodType): JsonSchema {
  return withoutDialect(z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' }));
}

function componentSchemas(): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(API_COMPONENTS, { io: 'output', target: 'draft-2020-12', uri: COMPONENT_REF });
  const out: Record<string, JsonSchema> = {};
  for (const id of Object.keys(schemas).sort()) {
    const schema = schemas[id];
    if (schema !== undefined) out[id] = withoutDialect(schema);
  }
  out[GATEWAY_MESSAGE] = GatewayMessageSchema;
  return out;
}

function componentRef(schema: z.ZodType): JsonSchema {
  const id = API_COMPONENTS.get(schema)?.id;
  if (id === undefined) throw new Error('every response schema must be registered as a component');
  return { $ref: COMPONENT_REF(id) };
}

function problemResponse(description: string): JsonObject {
  return { description, content: { 'application/problem+json': { schema: componentRef(Problem) } } };
}

function gatewayOrProblemResponse(description: string): JsonObject {
  return {
    description,
    content: {
      'application/json': { schema: { $ref: COMPONENT_REF(GATEWAY_MESSAGE) } },
      'application/problem+json': { schema: componentRef(Problem) },
    },
  };
}

const NO_STORE_HEADER = {
  'Cache-Control': { description: 'Always `no-store`: responses carry account data and, on two routes, secrets', schema: { type: 'string', const: 'no-store' } },
};

function parameters(schemas: OperationSchemas): JsonObject[] {
  const out: JsonObject[] = [];
  for (const [location, object] of [
    ['path', schemas.params],
    ['query', schemas.query],
  ] as const) {
    if (object === undefined) continue;
    for (const [name, field] of Object.entries(object.shape)) {
      const schema = field as z.ZodType;
      // Optional and defaulted parameters accept absence; path parameters never are.
      const required = location === 'path' || !schema.safeParse(undefined).success;
      const { description, ...rest } = inputSchema(schema);
      out.push({ name, in: location, required, ...(typeof description === 'string' ? { description } : {}), schema: rest });
    }
  }
  return out;
}

/** The error responses, shared by the operations through `components.responses`. */
function errorResponses(): Record<string, JsonObject> {
  return {
    BadRequest: problemResponse('The request broke a rule: `errors` names each field and rule (also malformed JSON, unknown fields, a bad cursor)'),
    Unauthorized: gatewayOrProblemResponse(
      'Missing, malformed or unknown keys, a deleted key, the API not enabled, or a role that may not hold keys; ' +
        'a problem document when a write finds, inside its own transaction, that the key no longer belongs to an owner (or the API was turned off) since the gateway let the request in',
    ),
    Forbidden: gatewayOrProblemResponse("The source address is outside the key's CIDR allow list, or the key's role may not call this route"),
    NotFound: problemResponse("Not found in the caller's account (another account's ids are never found)"),
    Conflict: problemResponse('A duplicate, the last owner, or a documented limit'),
    ContentTooLarge: problemResponse(`The body is larger than ${MAX_BODY_BYTES} bytes`),
    UnsupportedMediaType: problemResponse('The body is not sent as `application/json`'),
    RoleCannotHoldKeys: problemResponse('The user has a role that may not hold API keys'),
    InternalError: problemResponse('A fault; the problem document carries a request id and no details'),
    TooManyRequests: {
      description:
        "Over the account's plan: `{\"message\":\"Too Many Requests\"}` over its rate and burst, `{\"message\":\"Limit Exceeded\"}` over its quota (GET /v1/account/usage shows both); also the stage's own throttle",
      content: { 'application/json': { schema: { $ref: COMPONENT_REF(GATEWAY_MESSAGE) } } },
    },
  };
}

const RESPONSE_REF = (name: string): JsonObject => ({ $ref: `#/components/responses/${name}` });

function responses(route: Route, schemas: OperationSchemas): JsonObject {
  const out: JsonObject = {};
  out[String(route.status)] =
    schemas.response === undefined
      ? { description: 'Done', headers: NO_STORE_HEADER }
      : { description: 'OK', headers: NO_STORE_HEADER, content: { 'application/json': { schema: componentRef(schemas.response) } } };
  out['400'] = RESPONSE_REF('BadRequest');
  out['401'] = RESPONSE_REF('Unauthorized');
  out['403'] = RESPONSE_REF('Forbidden');
  const refusals = new Set(schemas.refusals ?? []);
  if (refusals.has(404)) out['404'] = RESPONSE_REF('NotFound');
  if (refusals.has(409)) out['409'] = RESPONSE_REF('Conflict');
  if (schemas.body !== undefined) {
    out['413'] = RESPONSE_REF('ContentTooLarge');
    out['415'] = RESPONSE_REF('UnsupportedMediaType');
  }
  if (refusals.has(422)) out['422'] = RESPONSE_REF('RoleCannotHoldKeys');
  out['429'] = RESPONSE_REF('TooManyRequests');
  out['500'] = RESPONSE_REF('InternalError');
  return out;
}

function operation(route: Route): JsonObject {
  const schemas = schemasOf(route.operationId as Parameters<typeof schemasOf>[0]);
  const params = parameters(schemas);
  return {
    operationId: route.operationId,
    summary: route.summary,
    description: `Roles: ${route.roles.join(', ')}.`,
    tags: [route.group],
    'x-latchkey-roles': [...route.roles],
    ...(params.length === 0 ? {} : { parameters: params }),
    ...(schemas.body === undefined
      ? {}
      : { requestBody: { required: true, content: { 'application/json': { schema: inputSchema(schemas.body) } } } }),
    responses: responses(route, schemas),
  };
}

export function buildOpenApiDocument(): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of ROUTES) {
    const item = (paths[route.path] ??= {});
    item[route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: 'Latchkey management API',
      version: API_VERSION,
      description:
        'Every request carries the account key (`x-api-key`) and a user key (`x-api-secret-key`). ' +
        'Errors are RFC 9457 problem documents, except the gateway\'s own 401, 403 and 429 answers.',
    },
    security: [{ accountKey: [], userKey: [] }],
    tags: [...new Set(ROUTES.map((r) => r.group))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        accountKey: { type: 'apiKey', in: 'header', name: ACCOUNT_KEY_HEADER, description: 'The account key: `lka_…`' },
        userKey: { type: 'apiKey', in: 'header', name: USER_KEY_HEADER, description: 'A user key: `lks_…`' },
      },
      schemas: componentSchemas(),
      responses: errorResponses(),
    },
  };
}

/** openapi.json as committed: two-space indented, with a final newline. */
export function renderOpenApiDocument(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
}
