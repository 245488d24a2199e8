import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { ApiHandler } from '#functions/commons/api-handler.ts';
import { createApiHandler } from '#functions/operations/all-groups.ts';
import { type LocalApp, createLocalApp } from '#local/process/app.ts';
import { LocalSecrets } from '#local/storage/local-secrets.ts';
import { DEFAULT_LIMITS } from '#shared/adapters/environment.ts';
import type { ApiDeps } from '#shared/ports/deps.ts';
import type { KeyRole } from '#shared/domain/roles.ts';
import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import type { Principal, User } from '#shared/domain/model.ts';
import { createPepperProvider, ensurePepper } from '#shared/authorization/peppers.ts';
import type { Limits } from '#shared/ports/limits.ts';
import type { UsagePlans } from '#shared/ports/usage-plans.ts';
import { FUNCTION_GROUPS, type FunctionGroup, type OperationId, ROUTES, type Route } from '#shared/http/routes.ts';
import { type CreatedAccount, createAccount } from '#shared/services/accounts.ts';
import { type TestTable, createTestTable } from './dynamodb.ts';
import type { Gateway } from '#local/gateway/gateway.ts';
import { lambdaContext as localLambdaContext } from '#local/gateway/lambda-context.ts';
import { requestIdentity } from '#shared/http/request-identity.ts';
import { LocalUsagePlans } from '#local/storage/local-usage-plans.ts';
import { DEFAULT_PLAN } from '#shared/domain/plan.ts';
import { UNREACHED_THROTTLE } from './unreached-limits.ts';
import { FakeAuthorizerCache } from './fakes/authorizer-cache.ts';
import { quietLogger } from './fakes/logger.ts';

/**
 * Builds API Gateway proxy events for the management handlers, runs them against a real
 * DynamoDbStore on DynamoDB Local, and checks every response against the committed
 * openapi.json (so the document is tested by every handler test, not only by its own).
 */

export function routeOf(operationId: OperationId): Route {
  const route = ROUTES.find((r) => r.operationId === operationId);
  if (route === undefined) throw new Error(`no route ${operationId}`);
  return route;
}

export interface ApiCall {
  readonly params?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string>>;
  /** Serialised as JSON (with `Content-Type: application/json`) unless `rawBody` is given. */
  readonly body?: unknown;
  readonly rawBody?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly sourceIp?: string;
}

export const TEST_SOURCE_IP = '198.51.100.7';

/** The event API Gateway sends the handler once the authorizer allowed the request. */
export function apiEvent(operationId: OperationId, principal: Principal | null, call: ApiCall = {}): APIGatewayProxyEvent {
  const route = routeOf(operationId);
  const params = call.params ?? {};
  const path = route.path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(params[name] ?? ''));
  const body = call.rawBody ?? (call.body === undefined ? null : JSON.stringify(call.body));
  const headers: Record<string, string> = {
    Accept: 'application/json',
    ...(body !== null && call.rawBody === undefined ? { 'Content-Type': 'application/json' } : {}),
    ...call.headers,
  };
  const query = call.query ?? {};
  const hasQuery = Object.keys(query).length > 0;
  const requestId = randomBytes(8).toString('hex');
  return {
    resource: route.path,
    path,
    httpMethod: route.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: hasQuery ? { ...query } : null,
    multiValueQueryStringParameters: hasQuery ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])) : null,
    pathParameters: Object.keys(params).length > 0 ? { ...params } : null,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'a1b2c3d4e5',
      authorizer:
        principal === null
          ? null
          : {
              principalId: principal.userId,
              accountId: principal.accountId,
              userId: principal.userId,
              role: principal.role,
              keyId: principal.keyId,
              // A restricted key's effective list, as the authorizer passes it (comma-joined).
              ...(principal.permissions === undefined || principal.permissions === null ? {} : { permissions: principal.permissions.join(',') }),
            },
      protocol: 'HTTP/1.1',
      httpMethod: route.method,
      identity: requestIdentity(call.sourceIp ?? TEST_SOURCE_IP, 'vitest'),
      path: `/prod${path}`,
      stage: 'prod',
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'abc123',
      resourcePath: route.path,
    },
  };
}

/** A handler's context as the local gateway makes it, for a call made now. */
export function lambdaContext(): Context {
  return localLambdaContext('test', randomBytes(8).toString('hex'), Date.now());
}

// ---------------------------------------------------------------------------------------------
// openapi.json conformance

type Json = Record<string, unknown>;

const OPENAPI_ID = 'openapi.json';
const openApiPath = fileURLToPath(new URL('../../openapi.json', import.meta.url));
let validator: { ajv: Ajv2020; document: Json } | undefined;

function openApi(): { ajv: Ajv2020; document: Json } {
  if (validator !== undefined) return validator;
  const document = JSON.parse(readFileSync(openApiPath, 'utf8')) as Json;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema(document, OPENAPI_ID);
  validator = { ajv, document };
  return validator;
}

function pointer(...segments: string[]): string {
  return segments.map((s) => `/${s.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

function at(document: Json, path: string): unknown {
  let node: unknown = document;
  for (const raw of path.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Json)[segment];
  }
  return node;
}

export interface WireResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | readonly string[] | number | boolean>>;
  readonly body: string;
}

function headerValue(headers: WireResponse['headers'], name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return value.join(', ');
  }
  return undefined;
}

/** What is wrong with a response as openapi.json describes the operation; empty when it conforms. */
export function openApiViolations(operationId: OperationId, response: WireResponse): string[] {
  const { ajv, document } = openApi();
  const route = routeOf(operationId);
  let responsePath = pointer('paths', route.path, route.method.toLowerCase(), 'responses', String(response.status));
  let described = at(document, responsePath) as Json | undefined;
  if (described === undefined) return [`${operationId}: status ${response.status} is not documented`];
  if (typeof described.$ref === 'string') {
    responsePath = described.$ref.slice(1);
    described = at(document, responsePath) as Json;
  }
  const content = described.content as Json | undefined;
  if (content === undefined) return response.body === '' ? [] : [`${operationId} ${response.status}: a body where none is documented`];
  const mediaType = headerValue(response.headers, 'content-type')?.split(';')[0]?.trim() ?? '';
  if (!(mediaType in content)) return [`${operationId} ${response.status}: content type '${mediaType}' is not documented`];
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    return [`${operationId} ${response.status}: the body is not JSON`];
  }
  const validate = ajv.compile({ $ref: `${OPENAPI_ID}#${responsePath}${pointer('content', mediaType, 'schema')}` });
  if (validate(body)) return [];
  return (validate.errors ?? []).map((e) => `${operationId} ${response.status}: ${e.instancePath || '(body)'} ${e.message ?? ''}`);
}

// ---------------------------------------------------------------------------------------------
// A test bed: one table, one account, the handlers of every group

export interface ApiResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly raw: string;
  /** The parsed JSON body; undefined when empty. */
  readonly body: unknown;
  readonly json: Json;
}

export interface Caller {
  readonly principal: Principal;
  readonly user: User;
  readonly secret: string;
}

export interface ApiTestBed {
  readonly table: TestTable;
  readonly deps: ApiDeps;
  readonly cache: FakeAuthorizerCache;
  readonly account: CreatedAccount;
  readonly owner: Principal;
  readonly handlers: Readonly<Record<FunctionGroup, ApiHandler>>;
  /** Invokes the route's handler; the response must conform to openapi.json or the call throws. */
  call(operationId: OperationId, principal: Principal | null, call?: ApiCall): Promise<ApiResponse>;
  /** Invokes a handler with an event as given (for events no real gateway would shape this way). */
  invoke(operationId: OperationId, event: APIGatewayProxyEvent): Promise<ApiResponse>;
  /** A new user of the account with one key, created through the API as the owner. */
  addCaller(role: KeyRole): Promise<Caller>;
  /** A second account in the same table: its ids must be invisible to the first. */
  otherAccount(): Promise<CreatedAccount>;
}

export interface TestBedOptions {
  readonly limits?: Limits;
  readonly now?: () => Date;
  readonly logger?: Logger;
  /** What counts usage (GET /v1/account/usage); by default nothing counts and usage reads as none. */
  readonly usagePlans?: UsagePlans;
  /** This deployment's permissions (team routes' included); by default the management routes' alone. */
  readonly permissionCatalog?: ApiDeps['permissionCatalog'];
}

export async function createApiTestBed(options: TestBedOptions = {}): Promise<ApiTestBed> {
  const table = await createTestTable();
  const secrets = new LocalSecrets(randomBytes(32));
  await ensurePepper(table.store, secrets);
  const cache = new FakeAuthorizerCache();
  const deps: ApiDeps = {
    store: table.store,
    secrets,
    peppers: createPepperProvider(table.store, secrets),
    authorizerCache: cache,
    limits: options.limits ?? DEFAULT_LIMITS,
    logger: options.logger ?? quietLogger(),
    now: options.now ?? (() => new Date()),
    auditRetentionDays: 0,
    usagePlans: options.usagePlans ?? new LocalUsagePlans(),
    defaultPlan: DEFAULT_PLAN,
    ...(options.permissionCatalog === undefined ? {} : { permissionCatalog: options.permissionCatalog }),
  };
  const handlers = Object.fromEntries(FUNCTION_GROUPS.map((group) => [group, createApiHandler(group, deps)])) as Record<
    FunctionGroup,
    ApiHandler
  >;
  const newAccount = (): Promise<CreatedAccount> =>
    createAccount(deps, { name: `account ${randomBytes(4).toString('hex')}`, ownerName: 'Ada Owner', ownerEmail: 'ada@example.com' }, SYSTEM_ACTOR);
  const account = await newAccount();
  const owner: Principal = { accountId: account.account.id, userId: account.owner.id, role: 'owner', keyId: account.keyId };

  const invoke = async (operationId: OperationId, event: APIGatewayProxyEvent): Promise<ApiResponse> => {
    const result: APIGatewayProxyResult = await handlers[routeOf(operationId).group](event, lambdaContext());
    const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
    const violations = openApiViolations(operationId, { status: result.statusCode, headers, body: result.body });
    if (violations.length > 0) throw new Error(`response does not conform to openapi.json:\n${violations.join('\n')}\n${result.body}`);
    const body: unknown = result.body === '' ? undefined : JSON.parse(result.body);
    return { status: result.statusCode, headers, raw: result.body, body, json: (body ?? {}) as Json };
  };
  const call = (operationId: OperationId, principal: Principal | null, request: ApiCall = {}): Promise<ApiResponse> =>
    invoke(operationId, apiEvent(operationId, principal, request));

  let callers = 0;
  const addCaller = async (role: KeyRole): Promise<Caller> => {
    callers += 1;
    const created = await call('createUser', owner, { body: { name: `User ${callers}`, email: `user${callers}@example.com`, role } });
    const user = created.body as User;
    const key = await call('createApiKey', owner, { body: { name: `test-key-${callers}-${randomBytes(3).toString('hex')}`, userId: user.id } });
    const { id: keyId, secret } = key.json as { id: string; secret: string };
    return { principal: { accountId: owner.accountId, userId: user.id, role, keyId }, user: { ...user, accountId: owner.accountId }, secret };
  };

  return { table, deps, cache, account, owner, handlers, call, invoke, addCaller, otherAccount: newAccount };
}

// ---------------------------------------------------------------------------------------------
// The whole request path: the local gateway emulator with the real authorizer and handlers

export interface KeyPair {
  readonly accountKey: string;
  readonly userKey: string;
  readonly principal: Principal;
}

export interface GatewayCall {
  readonly keys?: { readonly accountKey?: string; readonly userKey?: string } | undefined;
  readonly params?: Readonly<Record<string, string>>;
  readonly query?: string;
  readonly body?: unknown;
  readonly rawBody?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly sourceIp?: string;
}

export interface GatewayTestBed {
  readonly app: LocalApp;
  readonly owner: KeyPair;
  /** Sends a request for a route through the gateway; the response must conform to openapi.json. */
  request(operationId: OperationId, call?: GatewayCall): Promise<ApiResponse>;
  /** A new account in the same table, with its owner's keys. */
  newAccount(): Promise<KeyPair>;
  /** A new user of `account` with `role`, and a key for them, created through the gateway. */
  addUser(account: KeyPair, role: KeyRole): Promise<KeyPair & { readonly user: User }>;
}

/**
 * One request through the local gateway with a key pair, from TEST_SOURCE_IP, as a client
 * sends it: `path` may carry a query string; a body is sent as JSON.
 */
export async function sendThroughGateway(
  gateway: Gateway,
  keys: KeyPair,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const [resourcePath = path, query] = path.split('?');
  const response = await gateway.handle({
    method,
    path: resourcePath,
    query,
    headers: {
      'x-api-key': keys.accountKey,
      'x-api-secret-key': keys.userKey,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    sourceIp: TEST_SOURCE_IP,
  });
  return { status: response.status, json: response.body === '' ? {} : (JSON.parse(response.body) as Record<string, unknown>) };
}

/** A new account, as the admin CLI creates one, and its owner's keys. */
export async function newTestAccount(deps: ApiDeps): Promise<KeyPair> {
  const created = await createAccount(
    deps,
    { name: `account ${randomBytes(4).toString('hex')}`, ownerName: 'Olive Owner', ownerEmail: 'olive@example.com' },
    SYSTEM_ACTOR,
  );
  return {
    accountKey: created.accountKey,
    userKey: created.userKey,
    principal: { accountId: created.account.id, userId: created.owner.id, role: 'owner', keyId: created.keyId },
  };
}

export async function createGatewayTestBed(
  options: {
    readonly authorizerTtlSeconds?: number;
    readonly now?: () => Date;
    /** Off: a write's flush of the cache is left to the table's stream (not run here), as on AWS. @default true */
    readonly immediateFlush?: boolean;
  } = {},
): Promise<GatewayTestBed> {
  const table = await createTestTable();
  const secrets = new LocalSecrets(randomBytes(32));
  const app = createLocalApp({
    documentClient: table.client,
    tableName: table.tableName,
    secrets,
    logger: quietLogger(),
    auditRetentionDays: 0,
    authorizerTtlSeconds: options.authorizerTtlSeconds ?? 300,
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.immediateFlush === undefined ? {} : { immediateFlush: options.immediateFlush }),
    // The suites send the leak-report route more than its throttle allows; test/e2e/public-route-throttle.test.ts tests the throttle.
    publicRouteThrottle: UNREACHED_THROTTLE,
  });
  await ensurePepper(app.store, secrets);

  const newAccount = (): Promise<KeyPair> => newTestAccount(app.apiDeps);
  const owner = await newAccount();

  const request = async (operationId: OperationId, call: GatewayCall = {}): Promise<ApiResponse> => {
    const route = routeOf(operationId);
    const params = call.params ?? {};
    const path = route.path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(params[name] ?? ''));
    const keys = call.keys === undefined ? owner : call.keys;
    const body = call.rawBody ?? (call.body === undefined ? undefined : JSON.stringify(call.body));
    const headers: Record<string, string> = {
      ...(keys.accountKey === undefined ? {} : { 'x-api-key': keys.accountKey }),
      ...(keys.userKey === undefined ? {} : { 'x-api-secret-key': keys.userKey }),
      ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...call.headers,
    };
    const response = await app.gateway.handle({
      method: route.method,
      path,
      query: call.query,
      headers,
      body,
      sourceIp: call.sourceIp ?? TEST_SOURCE_IP,
    });
    const flatHeaders = Object.fromEntries(
      Object.entries(response.headers).map(([k, v]) => [k.toLowerCase(), typeof v === 'string' ? v : v.join(', ')]),
    );
    const violations = openApiViolations(operationId, { status: response.status, headers: flatHeaders, body: response.body });
    if (violations.length > 0) throw new Error(`response does not conform to openapi.json:\n${violations.join('\n')}\n${response.body}`);
    const parsed: unknown = response.body === '' ? undefined : JSON.parse(response.body);
    return { status: response.status, headers: flatHeaders, raw: response.body, body: parsed, json: (parsed ?? {}) as Json };
  };

  let users = 0;
  const addUser = async (account: KeyPair, role: KeyRole): Promise<KeyPair & { readonly user: User }> => {
    users += 1;
    const created = await request('createUser', { keys: account, body: { name: `User ${users}`, email: `user${users}@example.com`, role } });
    if (created.status !== 201) throw new Error(`could not create a user: ${created.raw}`);
    const user = { ...(created.body as User), accountId: account.principal.accountId };
    const key = await request('createApiKey', {
      keys: account,
      body: { name: `gateway-key-${users}-${randomBytes(3).toString('hex')}`, userId: user.id },
    });
    if (key.status !== 201) throw new Error(`could not create a key: ${key.raw}`);
    const { id: keyId, secret } = key.json as { id: string; secret: string };
    return {
      accountKey: account.accountKey,
      userKey: secret,
      principal: { accountId: account.principal.accountId, userId: user.id, role, keyId },
      user,
    };
  };

  return { app, owner, request, newAccount, addUser };
}
