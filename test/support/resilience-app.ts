import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { expect, inject } from 'vitest';
import { createTable } from '#shared/adapters/create-table.ts';
import { DynamoDbStore } from '#shared/adapters/dynamodb-store.ts';
import { LocalSecrets } from '#local/storage/local-secrets.ts';
import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import { ACCOUNT_KEY_HEADER, USER_KEY_HEADER } from '#shared/authorization/decision.ts';
import { DEFAULT_LIMITS } from '#shared/adapters/environment.ts';
import type { ApiDeps } from '#shared/ports/deps.ts';
import { newId } from '#shared/domain/ids.ts';
import type { Principal } from '#shared/domain/model.ts';
import { createPepperProvider, ensurePepper } from '#shared/authorization/peppers.ts';
import type { AuthorizerCache } from '#shared/ports/authorizer-cache.ts';
import { FakeAuthorizerCache } from '#test/support/fakes/authorizer-cache.ts';
import { quietLogger } from '#test/support/fakes/logger.ts';
import type { Limits } from '#shared/ports/limits.ts';
import type { PepperStore } from '#shared/ports/pepper-store.ts';
import type { Secrets } from '#shared/ports/secrets.ts';
import type { Route } from '#shared/http/routes.ts';
import { createAccount } from '#shared/services/accounts.ts';
import type { Gateway } from '#local/gateway/gateway.ts';
import type { GatewayResponse } from '#local/gateway/gateway-responses.ts';
import type { FaultInjector } from './resilience-faults.ts';
import { lambdaContext as localLambdaContext } from '#local/gateway/lambda-context.ts';
import { requestIdentity } from '#shared/http/request-identity.ts';
import { LocalUsagePlans } from '#local/storage/local-usage-plans.ts';
import { DEFAULT_PLAN } from '#shared/domain/plan.ts';

/** Fixtures shared by the resilience tests: real tables on the run's DynamoDB Local, real adapters. */

export interface ResilienceTable {
  readonly raw: DynamoDBClient;
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

function documentClientOn(raw: DynamoDBClient): DynamoDBDocumentClient {
  // As the Lambda functions build theirs (functions/commons/clients/).
  return DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
}

function dynamoDbClient(): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: inject('dynamodbEndpoint'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

/** A new table; `clean` reaches it directly, `faulty` (when an injector is given) through the injector. */
export async function createResilienceTable(injector?: FaultInjector): Promise<{ clean: ResilienceTable; faulty: ResilienceTable }> {
  const tableName = `latchkey-resilience-${newId()}`;
  const cleanRaw = dynamoDbClient();
  await createTable(cleanRaw, tableName);
  const clean = { raw: cleanRaw, client: documentClientOn(cleanRaw), tableName };
  if (injector === undefined) return { clean, faulty: clean };
  const faultyRaw = dynamoDbClient();
  injector.instrument(faultyRaw);
  return { clean, faulty: { raw: faultyRaw, client: documentClientOn(faultyRaw), tableName } };
}

export function newLocalSecrets(): LocalSecrets {
  return new LocalSecrets(randomBytes(32));
}

/** The handlers' dependencies on `table`, as one Lambda container would hold them (a fresh pepper cache). */
export function apiDepsOn(
  table: ResilienceTable,
  secrets: Secrets,
  options: { readonly limits?: Limits; readonly logger?: Logger; readonly authorizerCache?: AuthorizerCache } = {},
): ApiDeps & { readonly store: DynamoDbStore } {
  const store = new DynamoDbStore(table.client, table.tableName, { auditRetentionDays: 365 });
  return {
    store,
    secrets,
    peppers: createPepperProvider(store, secrets),
    authorizerCache: options.authorizerCache ?? new FakeAuthorizerCache(),
    limits: options.limits ?? DEFAULT_LIMITS,
    logger: options.logger ?? quietLogger(),
    now: () => new Date(),
    auditRetentionDays: 365,
    usagePlans: new LocalUsagePlans(),
    defaultPlan: DEFAULT_PLAN,
  };
}

export interface SeededOwner {
  readonly accountId: string;
  readonly userId: string;
  readonly keyId: string;
  readonly accountKey: string;
  readonly userKey: string;
  readonly principal: Principal;
  readonly headers: Readonly<Record<string, string>>;
}

/** Provisions the pepper (once per table) and creates an account with its first owner and key. */
export async function seedOwner(deps: ApiDeps, pepperStore: PepperStore, name = 'Resilience'): Promise<SeededOwner> {
  await ensurePepper(pepperStore, deps.secrets);
  const created = await createAccount(deps, { name, ownerName: 'Olive Owner', ownerEmail: 'olive@example.com' }, SYSTEM_ACTOR);
  const principal: Principal = { accountId: created.account.id, userId: created.owner.id, role: 'owner', keyId: created.keyId };
  return {
    accountId: created.account.id,
    userId: created.owner.id,
    keyId: created.keyId,
    accountKey: created.accountKey,
    userKey: created.userKey,
    principal,
    headers: { [ACCOUNT_KEY_HEADER]: created.accountKey, [USER_KEY_HEADER]: created.userKey },
  };
}

/** Fills a route's path template. */
export function routePath(route: Route, parameters: Readonly<Record<string, string>> = {}): string {
  return route.path.replace(/\{(\w+)\}/g, (_match, name: string) => encodeURIComponent(parameters[name] ?? ''));
}

/** The proxy event API Gateway passes a handler once the authorizer allowed `principal`. */
export function proxyEvent(
  route: Route,
  principal: Principal,
  request: {
    readonly pathParameters?: Record<string, string>;
    readonly body?: unknown;
    readonly sourceIp?: string;
    /** More headers, beside the content type. */
    readonly headers?: Readonly<Record<string, string>>;
  } = {},
): APIGatewayProxyEvent {
  const body = request.body === undefined ? null : JSON.stringify(request.body);
  const headers: Record<string, string> = { ...(body === null ? {} : { 'content-type': 'application/json' }), ...request.headers };
  const pathParameters = route.path.includes('{') ? (request.pathParameters ?? {}) : null;
  return {
    resource: route.path,
    path: routePath(route, request.pathParameters),
    httpMethod: route.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    pathParameters,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'resilience',
      protocol: 'HTTP/1.1',
      httpMethod: route.method,
      path: `/test${routePath(route, request.pathParameters)}`,
      stage: 'test',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: route.operationId,
      resourcePath: route.path,
      authorizer: { ...principal, principalId: principal.userId },
      identity: requestIdentity(request.sourceIp ?? '198.51.100.10', 'resilience-test'),
    },
  };
}

/** A handler's context as the local gateway makes it, for a call made now. */
export function lambdaContext(): Context {
  return localLambdaContext('resilience', randomUUID(), Date.now());
}

export function headerOf(headers: Readonly<Record<string, unknown>> | undefined, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key.toLowerCase() !== name) continue;
    if (typeof value === 'string') return value;
    if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  }
  return undefined;
}

export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
}

/** Asserts an RFC 9457 problem document answering with `status`, and returns it. */
export function expectProblem(response: { readonly status: number; readonly headers: Readonly<Record<string, unknown>>; readonly body: string }): ProblemBody {
  expect(headerOf(response.headers, 'content-type')).toBe('application/problem+json');
  const problem = JSON.parse(response.body) as Partial<ProblemBody>;
  expect(typeof problem.type).toBe('string');
  expect(typeof problem.title).toBe('string');
  expect(problem.status).toBe(response.status);
  return problem as ProblemBody;
}

export function fromProxyResult(result: APIGatewayProxyResult): { status: number; headers: Record<string, unknown>; body: string } {
  return { status: result.statusCode, headers: { ...result.headers }, body: result.body };
}

/** One request through the in-process gateway. */
export function callGateway(
  gateway: Gateway,
  request: {
    readonly method: string;
    readonly path: string;
    readonly headers: Readonly<Record<string, string | readonly string[]>>;
    readonly body?: unknown;
    readonly query?: string;
    readonly sourceIp?: string;
  },
): Promise<GatewayResponse> {
  const body = request.body === undefined ? undefined : typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
  const headers = body === undefined ? request.headers : { 'content-type': 'application/json', ...request.headers };
  return gateway.handle({ method: request.method, path: request.path, query: request.query, headers, body, sourceIp: request.sourceIp ?? '198.51.100.10' });
}
