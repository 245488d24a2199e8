import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { createTable } from '#shared/adapters/create-table.ts';
import { LocalSecrets } from '#local/storage/local-secrets.ts';
import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import { newId } from '#shared/domain/ids.ts';
import type { Plan } from '#shared/domain/plan.ts';
import { UNREACHED_PLAN, UNREACHED_THROTTLE } from '#test/support/unreached-limits.ts';
import { quietLogger } from '#test/support/fakes/logger.ts';
import { ensurePepper } from '#shared/authorization/peppers.ts';
import type { Secrets } from '#shared/ports/secrets.ts';
import { createAccount, type CreatedAccount } from '#shared/services/accounts.ts';
import type { ThrottleLimits } from '#local/gateway/account-limiter.ts';
import { createLocalApp, type LocalApp } from '#local/process/app.ts';
import { closeServer, createServer } from '#local/process/server.ts';
import type { DownstreamInvoker } from '#local/gateway/gateway.ts';
import { buildOpenApiDocument } from '#shared/http/openapi.ts';
import type { ApiFlavor } from '#shared/adapters/environment.ts';

/** The real local runtime (server, gateway emulator, authorizer, handlers) on a fresh table of the run's DynamoDB Local. */
export interface RunningApi {
  readonly app: LocalApp;
  readonly server: Server;
  readonly port: number;
  readonly tableName: string;
  readonly raw: DynamoDBClient;
  /** The first account, made as `npm start` makes it. */
  readonly account: CreatedAccount;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly authorizerTtlSeconds?: number;
  readonly secrets?: Secrets;
  readonly tableName?: string;
  /** Accept the admin CLI's refresh requests carrying this token. */
  readonly controlToken?: string;
  /** @default a plan no test reaches, so that only the tests about limits meet them */
  readonly defaultPlan?: Plan;
  /** The team's own routes behind the gateway. */
  readonly downstream?: DownstreamInvoker;
  /** The access key id that selects the database on the run's DynamoDB Local. @default 'test' */
  readonly accessKeyId?: string;
  /** @default a throttle no test reaches, so that only the tests about it meet it */
  readonly publicRouteThrottle?: ThrottleLimits;
  /** The clock of the gateway's limiters, the authorizer and the handlers. @default the clock */
  readonly now?: () => Date;
  /** The front door emulated (e2e/flavors.ts has what each answers). @default 'rest' */
  readonly flavor?: ApiFlavor;
}

export { UNREACHED_PLAN, UNREACHED_THROTTLE } from '#test/support/unreached-limits.ts';

export function testDynamoDbClients(accessKeyId = 'test'): { raw: DynamoDBClient; documentClient: DynamoDBDocumentClient } {
  const raw = new DynamoDBClient({
    endpoint: inject('dynamodbEndpoint'),
    region: 'us-east-1',
    credentials: { accessKeyId, secretAccessKey: 'test' },
  });
  return { raw, documentClient: DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } }) };
}

export async function startApi(options: StartOptions = {}): Promise<RunningApi> {
  const { raw, documentClient } = testDynamoDbClients(options.accessKeyId);
  const tableName = options.tableName ?? `latchkey-e2e-${newId()}`;
  await createTable(raw, tableName);
  const secrets = options.secrets ?? new LocalSecrets(randomBytes(32));
  const app = createLocalApp({
    documentClient,
    tableName,
    secrets,
    authorizerTtlSeconds: options.authorizerTtlSeconds ?? 300,
    logger: quietLogger(),
    defaultPlan: options.defaultPlan ?? UNREACHED_PLAN,
    publicRouteThrottle: options.publicRouteThrottle ?? UNREACHED_THROTTLE,
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.downstream === undefined ? {} : { downstream: options.downstream }),
    ...(options.flavor === undefined ? {} : { flavor: options.flavor }),
  });
  await ensurePepper(app.store, secrets);
  const account = await createAccount(
    app.apiDeps,
    { name: 'E2E account', ownerName: 'First owner', ownerEmail: 'owner@example.com' },
    SYSTEM_ACTOR,
  );
  const server = createServer({
    gateway: app.gateway,
    ...(options.downstream === undefined ? {} : { openApiDocument: () => buildOpenApiDocument(options.downstream?.routes) }),
    ...(options.controlToken === undefined ? {} : { control: { token: options.controlToken, refresh: app.refresh } }),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    app,
    server,
    port,
    tableName,
    raw,
    account,
    close: async () => {
      await closeServer(server);
      raw.destroy();
    },
  };
}

export interface HttpResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly json: Record<string, unknown>;
}

export interface Credentials {
  readonly accountKey: string;
  readonly userKey: string;
}

export interface CallOptions {
  readonly method?: string;
  readonly body?: unknown;
  readonly rawBody?: string | Buffer;
  readonly keys?: Credentials;
  readonly headers?: Record<string, string>;
  /** The loopback address to connect from: the source address the API sees. */
  readonly from?: string;
  /** The address to connect to. @default '127.0.0.1' */
  readonly host?: string;
}

/** One request over real HTTP, from a chosen local address. */
export function call(port: number, path: string, options: CallOptions = {}): Promise<HttpResult> {
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const headers: Record<string, string> = { ...options.headers };
  if (options.keys !== undefined) {
    headers['x-api-key'] = options.keys.accountKey;
    headers['x-api-secret-key'] = options.keys.userKey;
  }
  if (body !== undefined) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: options.host ?? '127.0.0.1', port, path, method: options.method ?? 'GET', headers, localAddress: options.from ?? '127.0.0.1', agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> = {};
          try {
            json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
          } catch {
            // not JSON; the test looks at `text`
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export function ownerKeys(api: RunningApi): Credentials {
  return { accountKey: api.account.accountKey, userKey: api.account.userKey };
}

/** A user of the account with one key, made through the API by an owner. */
export async function createUserWithKey(
  api: RunningApi,
  role: 'owner' | 'viewer' | 'logs-viewer',
  options: { keyName?: string } = {},
): Promise<{ userId: string; keyId: string; keys: Credentials }> {
  const owner = ownerKeys(api);
  const user = await call(api.port, '/v1/users', {
    method: 'POST',
    keys: owner,
    body: { name: `${role} ${newId()}`, email: `${newId().toLowerCase()}@example.com`, role },
  });
  if (user.status !== 201) throw new Error(`creating a user failed: ${user.status} ${user.text}`);
  const userId = user.json.id as string;
  const key = await call(api.port, '/v1/api-keys', {
    method: 'POST',
    keys: owner,
    body: { name: options.keyName ?? `key-${newId()}`, userId },
  });
  if (key.status !== 201) throw new Error(`creating a key failed: ${key.status} ${key.text}`);
  return { userId, keyId: key.json.id as string, keys: { accountKey: owner.accountKey, userKey: key.json.secret as string } };
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The admin CLI as a person runs it (`node --import tsx admin/main.ts ...`): its exit code and output. */
export function admin(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile('node', ['--import', 'tsx', 'admin/main.ts', ...args], { timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A team's HTTP backend that answers 200 `{"ok":true}` to everything and counts what reaches it. */
export interface CountingBackend {
  readonly url: string;
  /** Requests received so far. */
  readonly hits: number;
  /** Counts from zero again. */
  reset(): void;
  close(): Promise<void>;
}

export async function startCountingBackend(): Promise<CountingBackend> {
  let hits = 0;
  const server = createHttpServer((request, response) => {
    hits += 1;
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get hits() {
      return hits;
    },
    reset: () => {
      hits = 0;
    },
    close: () => {
      server.closeAllConnections();
      return closeServer(server);
    },
  };
}
