import * as z from 'zod/mini';
import { API_COMPONENTS, MAX_BODY_BYTES, type OperationSchemas, Problem, schemasOf } from './schemas.ts';
import { ACCOUNT_KEY_HEADER, USER_KEY_HEADER } from '../authorization/decision.ts';
import type { ResolvedDownstreamRoute } from './team-routes.ts';
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

/**
 * API Gateway's own answers (the authorizer's outcomes, its throttling) are `{"message": ...}`,
 * not problem documents; an authorizer fault is `{"message": null}`.
 */
const GatewayMessageSchema: JsonSchema = {
  type: 'object',
  properties: { message: { type: ['string', 'null'] } },
  required: ['message'],
  additionalProperties: false,
  description: "API Gateway's own answer, e.g. {\"message\":\"Unauthorized\"}; {\"message\":null} when the authorizer fails",
};

/** What a generated client shows its users about the API's owner and terms. */
export const API_CONTACT = { name: 'Latchkey maintainers' } as const;
export const API_LICENSE = { name: 'Apache 2.0', identifier: 'Apache-2.0' } as const;

/** Where the API is served: the local runtime, and a deployed stage (from the stack's outputs). */
const SERVERS: JsonObject[] = [
  {
    url: 'https://{restApiId}.execute-api.{region}.amazonaws.com/{stage}',
    description: 'A deployed stage (the stack output ApiUrl)',
    variables: {
      restApiId: { default: 'abcdef1234', description: 'The REST API id (stack output RestApiId)' },
      region: { default: 'us-east-1', description: 'The AWS region of the stack' },
      stage: { default: 'v1', description: 'The stage name (CDK context stageName)' },
    },
  },
  { url: 'http://127.0.0.1:3000', description: 'The local runtime (`npm start`)' },
];

/** One tag per route group, described for generated clients and documentation. */
const TAG_DESCRIPTIONS: Readonly<Record<string, string>> = {
  whoami: 'Who the keys of a request belong to',
  account: 'The account: its API switch and its account key',
  users: 'The people of the account and their roles',
  'api-keys': 'User keys (`x-api-secret-key`): issued to owners, viewers and logs viewers',
  'cidr-allow-list': "Each user key's CIDR allow list: the addresses it may be used from",
  logs: 'The audit log: who did what, with which key, from where',
  'leaked-keys': 'Reports of keys found where they should not be: no keys needed, the same answer whatever was sent',
  team: "The team's own routes, behind the same keys and roles",
};

function withoutDialect(schema: JsonSchema): JsonSchema {
  const { $schema: _dialect, $id: _id, ...rest } = schema;
  return rest;
}

function inputSchema(schema: z.ZodMiniType): JsonSchema {
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

function componentRef(schema: z.ZodMiniType): JsonSchema {
  const id = API_COMPONENTS.get(schema)?.id;
  if (id === undefined) throw new Error('every response schema must be registered as a component');
  return { $ref: COMPONENT_REF(id) };
}

function problemResponse(description: string): JsonObject {
  return { description, content: { 'application/problem+json': { schema: componentRef(Problem) } } };
}

function gatewayOrProblemResponse(description: string, gatewayExamples?: JsonObject): JsonObject {
  return {
    description,
    content: {
      'application/json': { schema: { $ref: COMPONENT_REF(GATEWAY_MESSAGE) }, ...(gatewayExamples === undefined ? {} : { examples: gatewayExamples }) },
      'application/problem+json': { schema: componentRef(Problem) },
    },
  };
}

/** API Gateway's two 403 bodies: IAM's implicit deny (not in the policy) and an explicit Deny statement. */
const FORBIDDEN_MESSAGES = {
  implicitDeny: 'User is not authorized to access this resource',
  explicitDeny: 'User is not authorized to access this resource with an explicit deny',
} as const;

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
      const schema = field as z.ZodMiniType;
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
    Forbidden: gatewayOrProblemResponse(
      "The source address is outside the key's CIDR allow list, or the key's role may not call this route. API Gateway answers " +
        `{"message":"${FORBIDDEN_MESSAGES.implicitDeny}"} for a route the role's policy leaves out, and ` +
        `{"message":"${FORBIDDEN_MESSAGES.explicitDeny}"} for an address outside the allow list or a route the policy denies by name ` +
        '(a route under a path pattern the role may call)',
      {
        implicitDeny: { summary: "A route the role's policy leaves out", value: { message: FORBIDDEN_MESSAGES.implicitDeny } },
        explicitDeny: { summary: 'An address outside the allow list, or a route the policy denies by name', value: { message: FORBIDDEN_MESSAGES.explicitDeny } },
      },
    ),
    NotFound: problemResponse("Not found in the caller's account (another account's ids are never found)"),
    Conflict: problemResponse('A duplicate, the last owner, or a documented limit'),
    ContentTooLarge: problemResponse(`The body is larger than ${MAX_BODY_BYTES} bytes`),
    UnsupportedMediaType: problemResponse('The body is not sent as `application/json`'),
    RoleCannotHoldKeys: problemResponse("The user has a role that may not hold API keys, or that does not grant a permission the key is to be restricted to (`urn:latchkey:problem:permission-not-granted`)"),
    TooManyRequests: {
      description:
        "Over the account's plan: `{\"message\":\"Too Many Requests\"}` over its rate and burst, `{\"message\":\"Limit Exceeded\"}` over its quota (GET /v1/account/usage shows both); also the stage's own throttle, and the leak-report route's own (for all callers together)",
      content: { 'application/json': { schema: { $ref: COMPONENT_REF(GATEWAY_MESSAGE) } } },
    },
    InternalError: gatewayOrProblemResponse(
      'A fault: a problem document with a request id and no details, or API Gateway\'s `{"message":null}` when the authorizer failed (never an Allow)',
    ),
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
  const refusals = new Set(schemas.refusals ?? []);
  if (route.public !== true || refusals.has(401)) out['401'] = RESPONSE_REF('Unauthorized');
  if (route.public !== true) out['403'] = RESPONSE_REF('Forbidden');
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
    description: route.public === true ? 'No keys needed.' : `Roles: ${route.roles.join(', ')}. ${permissionSentence(route.permission)}`,
    tags: [route.group],
    'x-latchkey-roles': [...route.roles],
    ...permissionExtension(route.permission),
    // A route that needs no keys overrides the document's default security requirement.
    ...(route.public === true ? { security: [] } : {}),
    ...(params.length === 0 ? {} : { parameters: params }),
    ...(schemas.body === undefined
      ? {}
      : { requestBody: { required: true, content: { 'application/json': { schema: inputSchema(schemas.body) } } } }),
    responses: responses(route, schemas),
  };
}

export function buildOpenApiDocument(teamRoutes: readonly ResolvedDownstreamRoute[] = []): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of ROUTES) {
    const item = (paths[route.path] ??= {});
    item[route.method.toLowerCase()] = operation(route);
  }
  for (const route of teamRoutes) {
    const item = (paths[openApiPath(route.path)] ??= {});
    item[route.method.toLowerCase()] = teamOperation(route);
  }
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: 'Latchkey management API',
      version: API_VERSION,
      description:
        'Every request carries the account key (`x-api-key`) and a user key (`x-api-secret-key`). ' +
        'Errors are RFC 9457 problem documents, except the gateway\'s own answers (`{"message": …}`): 401, 403, 429 and an authorizer fault\'s 500.',
      contact: { ...API_CONTACT },
      license: { ...API_LICENSE },
    },
    servers: SERVERS,
    security: [{ accountKey: [], userKey: [] }],
    tags: [...new Set<string>([...ROUTES.map((r) => r.group), ...(teamRoutes.length === 0 ? [] : [TEAM_TAG])])].map((name) => ({
      name,
      ...(TAG_DESCRIPTIONS[name] === undefined ? {} : { description: TAG_DESCRIPTIONS[name] }),
    })),
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

const TEAM_TAG = 'team';

/** OpenAPI has no greedy parameter: `{proxy+}` is the path parameter `{proxy}`, which may hold slashes. */
function openApiPath(path: string): string {
  return path.replace(/\{(\w+)\+\}/g, '{$1}');
}

/** A team route: its own schemas are the team's business, so a generic body and answer; the gateway's 401 and 403 as everywhere. */
function teamOperation(route: ResolvedDownstreamRoute): JsonObject {
  const names = [...route.path.matchAll(/\{(\w+)\+?\}/g)].map((m) => ({ name: m[1] as string, greedy: m[0].endsWith('+}') }));
  const hasBody = route.method !== 'GET' && route.method !== 'HEAD' && route.method !== 'DELETE' && route.method !== 'OPTIONS';
  return {
    operationId: `${route.method.toLowerCase()}${route.path.replace(/[^A-Za-z0-9]+(\w)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    summary: route.summary,
    description: `Roles: ${route.roles.join(', ')}. ${permissionSentence(route.permission)} Served by the team's own backend behind the Latchkey authorizer.`,
    tags: [TEAM_TAG],
    'x-latchkey-roles': [...route.roles],
    ...permissionExtension(route.permission),
    ...(names.length === 0
      ? {}
      : {
          parameters: names.map(({ name, greedy }) => ({
            name,
            in: 'path',
            required: true,
            ...(greedy ? { description: 'The rest of the path; may hold slashes' } : {}),
            schema: { type: 'string' },
          })),
        }),
    ...(hasBody ? { requestBody: { required: false, content: { '*/*': { schema: {} } } } } : {}),
    responses: {
      default: { description: "The backend's answer", content: { '*/*': { schema: {} } } },
      '401': RESPONSE_REF('Unauthorized'),
      '403': RESPONSE_REF('Forbidden'),
    },
  };
}

/** What a restricted key must hold to call the route (DESIGN 14; GET /v1/permissions lists them). */
function permissionSentence(permission: string | undefined): string {
  return permission === undefined ? 'Needs no permission: a restricted key may call it.' : `Permission: \`${permission}\`.`;
}

function permissionExtension(permission: string | undefined): JsonObject {
  return permission === undefined ? {} : { 'x-latchkey-permission': permission };
}

/** openapi.json as committed: two-space indented, with a final newline. */
export function renderOpenApiDocument(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
}
