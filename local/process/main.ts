import './sdk-environment.ts';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { parseArgs } from 'node:util';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { createTable } from '#shared/adapters/create-table.ts';
import { LocalSecrets } from '#local/storage/local-secrets.ts';
import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import { API_FLAVORS, ENV, defaultPlanFromEnv, type ApiFlavor } from '#shared/adapters/environment.ts';
import type { Plan } from '#shared/domain/plan.ts';
import { RouteDeclarationError, resolveDownstreamRoutes } from '#shared/http/team-routes.ts';
import { buildOpenApiDocument } from '#shared/http/openapi.ts';
import { ensurePepper } from '#shared/authorization/peppers.ts';
import { createAccount } from '#shared/services/accounts.ts';
import { createLocalApp, DEFAULT_AUTHORIZER_TTL_SECONDS, type LocalApp } from './app.ts';
import { quietWhenOutputCloses } from './closed-output.ts';
import { createLocalDownstream, loadRoutesModule, upstreamRoutes, type RoutesModule } from '../gateway/downstream.ts';
import type { DownstreamInvoker } from '../gateway/gateway.ts';
import { startRevocationStream } from '../stream/revocation-stream.ts';
import { EVENTS_SECRET_VARIABLE, EventsSecretError, WebhookSender, parseEventsSecret } from '../stream/webhooks.ts';
import { JavaMissingError, startDynamoDbLocal, type DynamoDbLocal } from '../storage/dynamodb-local.ts';
import {
  LOCAL_TABLE_NAME,
  LocalDataError,
  dataFolderAccessKey,
  localDynamoDbClients,
  localPaths,
  readBootstrapMarker,
  readRuntimeInfo,
  removeMemoryRuntimeInfo,
  removeRuntimeInfo,
  writeMemoryRuntimeInfo,
  writeBootstrapMarker,
  writeRuntimeInfo,
  type LocalPaths,
} from './runtime-files.ts';
import { closeServer, createServer } from './server.ts';
import { commandLine } from './invocation.ts';

const USAGE = `Usage: ${commandLine('start')} [options]

Runs the Latchkey API locally over HTTP: the same authorizer and handlers as in AWS, behind an
emulation of API Gateway (REST, or its HTTP API), on DynamoDB Local (Java 17+ needed).

Options:
  --port <n>            port to listen on (default: $PORT, else 3000)
  --host <address>      address to listen on (default: 127.0.0.1)
  --memory              keep nothing: in-memory DynamoDB Local and a throw-away master key
  --authorizer-ttl <s>  authorizer cache TTL in seconds, 0 = off (default: ${DEFAULT_AUTHORIZER_TTL_SECONDS})
  --flavor <rest|http>  the front door to emulate: API Gateway REST (default), or HTTP API
                        (payload 2.0, its own 401/403/429 bodies, no per-account plans;
                        docs/flavors.md)
  --data-dir <dir>      where persistent data lives (default: $LATCHKEY_LOCAL_DIR, else .latchkey)
  --routes <file>       serve the team's routes declared in this module (TypeScript or JavaScript)
  --upstream <url>      send every authorized request that matches no other route to this HTTP service
  --events-url <url>    POST every new audit event here as a Standard Webhook, signed with the
                        secret in $${EVENTS_SECRET_VARIABLE} (whsec_ and base64; docs/signals.md)
  --help                show this help

The first start creates a local account and prints its account key and an owner's user key,
once. Later starts reuse the data in the data folder; make more accounts with
\`${commandLine('admin')} create-account --help\`.`;

class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

interface Settings {
  readonly port: number;
  readonly host: string;
  readonly memory: boolean;
  readonly authorizerTtlSeconds: number;
  readonly flavor: ApiFlavor;
  readonly paths: LocalPaths;
  readonly defaultPlan: Plan;
  readonly routesFile: string | undefined;
  readonly upstream: string | undefined;
  readonly events: { readonly url: string; readonly secret: string } | undefined;
}

function wholeNumber(raw: string, name: string, max: number): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value > max) throw new UsageError(`${name} must be a whole number from 0 to ${max}`);
  return value;
}

function parseSettings(argv: readonly string[]): Settings | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      memory: { type: 'boolean', default: false },
      'authorizer-ttl': { type: 'string' },
      flavor: { type: 'string' },
      'data-dir': { type: 'string' },
      routes: { type: 'string' },
      upstream: { type: 'string' },
      'events-url': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const rawPort = values.port ?? process.env.PORT ?? '3000';
  return {
    port: wholeNumber(rawPort, '--port', 65535),
    host: values.host ?? '127.0.0.1',
    memory: values.memory,
    authorizerTtlSeconds: wholeNumber(values['authorizer-ttl'] ?? String(DEFAULT_AUTHORIZER_TTL_SECONDS), '--authorizer-ttl', 3600),
    flavor: flavorOf(values.flavor ?? 'rest'),
    paths: localPaths(values['data-dir']),
    defaultPlan: defaultPlanOrUsageError(),
    routesFile: values.routes,
    upstream: values.upstream,
    events: values['events-url'] === undefined ? undefined : eventsSettings(values['events-url']),
  };
}

function flavorOf(raw: string): ApiFlavor {
  if (!(API_FLAVORS as readonly string[]).includes(raw)) throw new UsageError(`--flavor must be one of ${API_FLAVORS.join(', ')}`);
  return raw as ApiFlavor;
}

/** Where --events-url sends events, and the secret it signs them with; a usage error names what is wrong. */
function eventsSettings(url: string): { url: string; secret: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError('--events-url must be an http or https URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError('--events-url must be an http or https URL');
  try {
    return { url, secret: parseEventsSecret(process.env[EVENTS_SECRET_VARIABLE]) };
  } catch (error) {
    if (error instanceof EventsSecretError) throw new UsageError(`--events-url needs a signing secret: ${error.message}`);
    throw error;
  }
}

/** The default plan from LATCHKEY_RATE_LIMIT and friends; a bad value is a usage error naming the variable. */
function defaultPlanOrUsageError(): Plan {
  try {
    return defaultPlanFromEnv();
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Makes the local account on an empty store and prints its keys, the only time they are shown. */
async function bootstrapAccount(app: LocalApp, settings: Settings, baseUrl: string): Promise<void> {
  const marker = settings.memory ? undefined : readBootstrapMarker(settings.paths);
  if (marker !== undefined && (await app.store.getAccount(marker.accountId)) !== undefined) {
    console.log(`Local account ${marker.accountId} exists; its keys were shown at its first start (${marker.createdAt}).`);
    console.log(`Lost them? Make a new account: ${commandLine('admin')} create-account --name <name> --owner-name <name> --owner-email <email>`);
    return;
  }
  const created = await createAccount(
    app.apiDeps,
    { name: 'Local account', ownerName: 'Local owner', ownerEmail: 'owner@localhost', apiEnabled: true },
    SYSTEM_ACTOR,
  );
  if (!settings.memory) writeBootstrapMarker(settings.paths, { accountId: created.account.id, createdAt: created.account.createdAt });
  console.log(`Created local account ${created.account.id} with owner ${created.owner.id} and user key ${created.keyId}.`);
  console.log(`Its keys are shown this once${settings.memory ? '' : ' (only their digests and ciphertext are stored)'}; paste these two lines into your shell:`);
  console.log(`export LATCHKEY_ACCOUNT_KEY=${created.accountKey}`);
  console.log(`export LATCHKEY_USER_KEY=${created.userKey}`);
  console.log(`Then: curl -s ${baseUrl}/v1/whoami -H "x-api-key: $LATCHKEY_ACCOUNT_KEY" -H "x-api-secret-key: $LATCHKEY_USER_KEY"`);
}

/** The team's routes from --routes and --upstream, validated together (so a duplicate between them is refused too). */
async function declaredRoutes(settings: Settings): Promise<RoutesModule | undefined> {
  if (settings.routesFile === undefined && settings.upstream === undefined) return undefined;
  const module = settings.routesFile === undefined ? { routes: [] } : await loadRoutesModule(settings.routesFile);
  const routes = [...module.routes, ...(settings.upstream === undefined ? [] : upstreamRoutes(settings.upstream))];
  resolveDownstreamRoutes(routes);
  return { ...module, routes };
}

/** Undone in reverse order on exit, whatever the reason: no DynamoDB Local or port outlives this process. */
const cleanups: (() => Promise<void> | void)[] = [];
let stopping: Promise<void> | undefined;
/**
 * A clean-up that hangs must not keep the process alive: past this, it exits anyway (and
 * DynamoDB Local, killed on exit, with it), within the 10 s a user or a supervisor waits.
 */
const STOP_DEADLINE_MS = 8_000;

function stop(code: number): Promise<void> {
  stopping ??= (async () => {
    setTimeout(() => process.exit(code), STOP_DEADLINE_MS);
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        console.error('while stopping:', error);
      }
    }
    process.exit(code);
  })();
  return stopping;
}

async function run(settings: Settings): Promise<void> {
  const { paths } = settings;
  if (!settings.memory) {
    const running = readRuntimeInfo(paths);
    if (running !== undefined) {
      throw new UsageError(`another local runtime (pid ${running.pid}) already uses ${paths.root} on port ${running.port}; stop it first, or use --memory`);
    }
    mkdirSync(paths.dynamodb, { recursive: true, mode: 0o700 });
  }

  // The declaration is checked before anything starts: a collision with a management route stops here.
  let declared: RoutesModule | undefined;
  try {
    declared = await declaredRoutes(settings);
  } catch (error) {
    if (error instanceof RouteDeclarationError) throw new UsageError(error.message);
    throw error;
  }

  let engine: DynamoDbLocal;
  try {
    engine = await startDynamoDbLocal(settings.memory ? {} : { dbPath: paths.dynamodb, accessKeyId: dataFolderAccessKey(paths) });
  } catch (error) {
    if (error instanceof JavaMissingError || error instanceof LocalDataError) throw new UsageError(error.message);
    throw error;
  }
  cleanups.push(() => engine.stop());

  const { raw, documentClient } = localDynamoDbClients(engine.endpoint, engine.accessKeyId);
  cleanups.push(() => {
    raw.destroy();
  });
  await createTable(raw, LOCAL_TABLE_NAME);
  await declared?.setup?.({ dynamodbEndpoint: engine.endpoint });
  let downstream: DownstreamInvoker | undefined;
  try {
    downstream = declared === undefined ? undefined : await createLocalDownstream(declared.routes);
  } catch (error) {
    if (error instanceof RouteDeclarationError) throw new UsageError(error.message);
    throw error;
  }
  const secrets = settings.memory ? new LocalSecrets(randomBytes(32)) : LocalSecrets.fromFile(paths.masterKey);
  // The functions in this process read the front door as the stack sets it for them on AWS.
  process.env[ENV.apiFlavor] = settings.flavor;
  const app = createLocalApp({
    documentClient,
    tableName: LOCAL_TABLE_NAME,
    secrets,
    authorizerTtlSeconds: settings.authorizerTtlSeconds,
    defaultPlan: settings.defaultPlan,
    flavor: settings.flavor,
    ...(downstream === undefined ? {} : { downstream }),
  });
  await ensurePepper(app.store, secrets);
  // Stopped after the stream (clean-ups run in reverse), so that no batch is handed to it stopped.
  const webhooks = settings.events === undefined ? undefined : new WebhookSender({ ...settings.events, logger: app.apiDeps.logger });
  if (webhooks !== undefined) cleanups.push(() => webhooks.stop());
  // As on AWS, the table's stream flushes the cache after each narrowing change (durable
  // revocation) and records each key DynamoDB's TTL removed (its audit event, its holder's count).
  const revocation = await startRevocationStream({
    dynamodb: raw,
    tableName: LOCAL_TABLE_NAME,
    cache: app.authorizerCache,
    logger: app.apiDeps.logger,
    keyExpiry: { store: app.store, logger: app.apiDeps.logger },
    ...(webhooks === undefined ? {} : { onChanges: (changes) => { webhooks.acceptChanges(changes); } }),
  });
  cleanups.push(() => revocation.stop());
  try {
    await app.apiDeps.peppers();
  } catch (error) {
    throw new UsageError(
      `the stored pepper cannot be decrypted with ${paths.masterKey} (was the key file replaced?): ` +
        `restore it, or delete ${paths.root} to start afresh (${error instanceof Error ? error.message : String(error)})`,
    );
  }

  const controlToken = randomBytes(32).toString('base64url');
  const server = createServer({
    gateway: app.gateway,
    checkHealth: async () => {
      await raw.send(new DescribeTableCommand({ TableName: LOCAL_TABLE_NAME }));
    },
    logger: app.apiDeps.logger,
    control: { token: controlToken, refresh: app.refresh },
    openApiDocument: () => buildOpenApiDocument(downstream?.routes),
  });
  let port: number;
  try {
    port = await listen(server, settings.port, settings.host);
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'EADDRINUSE') {
      throw new UsageError(`port ${settings.port} on ${settings.host} is in use; pick another with --port`);
    }
    throw error;
  }
  cleanups.push(() => closeServer(server));
  const baseUrl = `http://${urlHost(settings.host)}:${port}`;

  if (settings.memory) {
    // Advertised where the admin CLI looks, so that it refuses rather than change the data folder.
    const madeRoot = !existsSync(paths.root);
    mkdirSync(paths.root, { recursive: true, mode: 0o700 });
    writeMemoryRuntimeInfo(paths, { host: settings.host, port, pid: process.pid });
    cleanups.push(() => {
      removeMemoryRuntimeInfo(paths, process.pid);
      try {
        if (madeRoot) rmdirSync(paths.root);
      } catch {
        // Something else was put there meanwhile: it stays.
      }
    });
  } else {
    writeRuntimeInfo(paths, {
      dynamodbEndpoint: engine.endpoint,
      tableName: LOCAL_TABLE_NAME,
      host: settings.host,
      port,
      pid: process.pid,
      controlToken,
    });
    cleanups.push(() => {
      removeRuntimeInfo(paths);
    });
  }

  const frontDoor = settings.flavor === 'http' ? 'API Gateway HTTP API' : 'API Gateway REST';
  console.log(`Latchkey local API listening on ${baseUrl} (${frontDoor}, stage 'local', authorizer cache ${settings.authorizerTtlSeconds} s)`);
  console.log(
    settings.memory
      ? `DynamoDB Local at ${engine.endpoint}, in memory: nothing is kept after exit`
      : `DynamoDB Local at ${engine.endpoint}, table ${LOCAL_TABLE_NAME}, data in ${paths.dynamodb}`,
  );
  if (settings.events !== undefined) console.log(`Audit events are sent as signed webhooks to ${new URL(settings.events.url).origin} (docs/signals.md)`);
  if (downstream !== undefined) {
    console.log(`Team routes behind the authorizer: ${downstream.routes.map((r) => `${r.method} ${r.path}`).join(', ')}`);
  }
  await bootstrapAccount(app, settings, baseUrl);
  console.log(`OpenAPI document: ${baseUrl}/openapi.json; health: ${baseUrl}/health. Ctrl-C stops everything.`);
}

async function main(): Promise<void> {
  quietWhenOutputCloses();
  let settings: Settings | 'help';
  try {
    settings = parseSettings(process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    console.error(USAGE);
    process.exit(2);
  }
  if (settings === 'help') {
    console.log(USAGE);
    return;
  }
  // Repeated signals wait for the same shutdown rather than killing Node before Java is stopped.
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  process.on('uncaughtException', (error) => {
    console.error('Latchkey local runtime failed:', error);
    void stop(1);
  });
  process.on('unhandledRejection', (error) => {
    console.error('Latchkey local runtime failed:', error);
    void stop(1);
  });
  try {
    await run(settings);
  } catch (error) {
    console.error(error instanceof UsageError ? `Latchkey local runtime: ${error.message}` : error);
    await stop(1);
  }
}

await main();
