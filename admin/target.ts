import { commandLine, programName } from '#local/process/invocation.ts';
import { mkdirSync } from 'node:fs';
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { ApiGatewayV2Client } from '@aws-sdk/client-apigatewayv2';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ApiGatewayAuthorizerCache } from '#shared/adapters/apigw-authorizer-cache.ts';
import { ApiGatewayUsagePlans } from '#shared/adapters/apigw-usage-plans.ts';
import { ApiGatewayV2AuthorizerCache } from '#shared/adapters/apigwv2-authorizer-cache.ts';
import { UnenforcedUsagePlans } from '#shared/adapters/unenforced-usage-plans.ts';
import { createTable } from '#shared/adapters/create-table.ts';
import { DynamoDbStore } from '#shared/adapters/dynamodb-store.ts';
import { DynamoDbAccountDirectory } from '#shared/adapters/dynamodb/account-directory.ts';
import { DynamoDbDigestStore } from '#shared/adapters/dynamodb/digest-upgrades.ts';
import { KmsSecrets } from '#shared/adapters/kms-secrets.ts';
import type { AuthorizerCache } from '#shared/ports/authorizer-cache.ts';
import type { Secrets } from '#shared/ports/secrets.ts';
import type { UsagePlans } from '#shared/ports/usage-plans.ts';
import { LocalUsagePlans } from '#local/storage/local-usage-plans.ts';
import { LocalSecrets } from '#local/storage/local-secrets.ts';
import { startDynamoDbLocal } from '#local/storage/dynamodb-local.ts';
import {
  LOCAL_REFRESH_PATH,
  LOCAL_TABLE_NAME,
  LOCAL_TOKEN_HEADER,
  dataFolderAccessKey,
  localDynamoDbClients,
  readDataFolderAccessKey,
  readMemoryRuntimes,
  readRuntimeInfo,
  type LocalPaths,
  type RuntimeInfo,
} from '#local/process/runtime-files.ts';
import { UsageError, type Values } from './options.ts';

/**
 * Where a command works: the local runtime (a running `npm start`, a DynamoDB endpoint, or
 * DynamoDB Local started for the command) or a deployment on AWS.
 */

/** A store, secrets and cache to work on, and how to let go of them. */
export interface Target {
  readonly description: string;
  readonly store: DynamoDbStore;
  readonly digests: DynamoDbDigestStore;
  readonly accounts: DynamoDbAccountDirectory;
  readonly secrets: Secrets;
  readonly authorizerCache: AuthorizerCache;
  /** Where accounts' usage-plan keys live (none kept on the HTTP API flavor); undefined on AWS without --rest-api-id or --http-api-id, and --stage. */
  readonly usagePlans: UsagePlans | undefined;
  /** Set when cached decisions cannot be dropped from here: says what still holds them. */
  readonly cacheWarning?: string;
  readonly local: boolean;
  close(): Promise<void>;
}

/** Tells a running `npm start` to drop cached authorizer decisions and reload the peppers. */
class RunningServerCache implements AuthorizerCache {
  readonly #runtime: RuntimeInfo;

  constructor(runtime: RuntimeInfo) {
    this.#runtime = runtime;
  }

  /** Where the server listens: an address of this machine, or loopback when it listens on all of them. */
  get url(): string {
    const host = this.#runtime.host === '0.0.0.0' || this.#runtime.host === '::' ? '127.0.0.1' : this.#runtime.host;
    return `http://${host.includes(':') ? `[${host}]` : host}:${this.#runtime.port}${LOCAL_REFRESH_PATH}`;
  }

  async flush(): Promise<void> {
    let response: Response;
    try {
      response = await fetch(this.url, { method: 'POST', headers: { [LOCAL_TOKEN_HEADER]: this.#runtime.controlToken } });
    } catch (error) {
      throw new Error(`the running local server does not answer at ${this.url}`, { cause: error });
    }
    if (response.status !== 204) throw new Error(`the running local server refused to refresh (HTTP ${response.status})`);
  }
}

const NO_CACHE: AuthorizerCache = { flush: () => Promise.resolve() };

export async function localTarget(values: Values, paths: LocalPaths): Promise<Target> {
  const [inMemory] = values.endpoint === undefined && readRuntimeInfo(paths) === undefined ? readMemoryRuntimes(paths) : [];
  if (inMemory !== undefined) {
    throw new UsageError(
      `\`${commandLine('start')} --memory\` runs (pid ${inMemory.pid}, port ${inMemory.port}) and keeps its data in its own memory, ` +
        `out of this command's reach; nothing was changed. Stop it and run \`${programName('start')}\` without --memory to keep data ` +
        `in ${paths.root} that this command can change, or make accounts through its API.`,
    );
  }
  const secrets = LocalSecrets.fromFile(paths.masterKey);
  if (values.endpoint !== undefined) {
    // The data folder's access key id opens the database `npm start` keeps there.
    const { raw, documentClient } = localDynamoDbClients(values.endpoint, readDataFolderAccessKey(paths));
    const tableName = values.table ?? LOCAL_TABLE_NAME;
    await createTable(raw, tableName);
    return {
      description: `table ${tableName} at ${values.endpoint}`,
      store: new DynamoDbStore(documentClient, tableName),
      digests: new DynamoDbDigestStore(documentClient, tableName),
      accounts: new DynamoDbAccountDirectory(documentClient, tableName),
      secrets,
      authorizerCache: NO_CACHE,
      usagePlans: new LocalUsagePlans(),
      local: true,
      close: () => {
        raw.destroy();
        return Promise.resolve();
      },
    };
  }
  const running = readRuntimeInfo(paths);
  if (running !== undefined) {
    const cache = new RunningServerCache(running);
    // Reach the server before changing anything: a change it cannot be told about would keep
    // its cached decisions (and its peppers) stale while the command reported success.
    try {
      await cache.flush();
    } catch (error) {
      throw new UsageError(
        `the running local runtime (pid ${running.pid}) cannot be told about changes (${error instanceof Error ? error.message : String(error)}); nothing was changed`,
      );
    }
    const accessKeyId = readDataFolderAccessKey(paths);
    if (accessKeyId === undefined) {
      throw new UsageError(`the running local runtime (pid ${running.pid}) is of an older version; restart it, then run this again. Nothing was changed`);
    }
    const { raw, documentClient } = localDynamoDbClients(running.dynamodbEndpoint, accessKeyId);
    return {
      description: `the running local runtime (pid ${running.pid}, port ${running.port})`,
      store: new DynamoDbStore(documentClient, running.tableName),
      digests: new DynamoDbDigestStore(documentClient, running.tableName),
      accounts: new DynamoDbAccountDirectory(documentClient, running.tableName),
      secrets,
      authorizerCache: cache,
      usagePlans: new LocalUsagePlans(),
      local: true,
      close: () => {
        raw.destroy();
        return Promise.resolve();
      },
    };
  }
  mkdirSync(paths.dynamodb, { recursive: true, mode: 0o700 });
  const engine = await startDynamoDbLocal({ dbPath: paths.dynamodb, accessKeyId: dataFolderAccessKey(paths) });
  const { raw, documentClient } = localDynamoDbClients(engine.endpoint, engine.accessKeyId);
  try {
    await createTable(raw, LOCAL_TABLE_NAME);
  } catch (error) {
    raw.destroy();
    await engine.stop();
    throw error;
  }
  return {
    description: `local data in ${paths.dynamodb}`,
    store: new DynamoDbStore(documentClient, LOCAL_TABLE_NAME),
    digests: new DynamoDbDigestStore(documentClient, LOCAL_TABLE_NAME),
    accounts: new DynamoDbAccountDirectory(documentClient, LOCAL_TABLE_NAME),
    secrets,
    // No server runs, so no decision is cached anywhere.
    authorizerCache: NO_CACHE,
    usagePlans: new LocalUsagePlans(),
    local: true,
    close: async () => {
      raw.destroy();
      await engine.stop();
    },
  };
}

export function awsTarget(values: Values): Target {
  const { table, region } = values;
  const keyId = values['kms-key-id'];
  if (table === undefined || region === undefined || keyId === undefined) {
    throw new UsageError('the AWS target needs --table, --region and --kms-key-id together');
  }
  const restApiId = values['rest-api-id'];
  const stage = values.stage;
  if (values['http-api-id'] !== undefined) return httpFlavorTarget(values, { table, region, keyId, httpApiId: values['http-api-id'] });
  const data = deployedData(table, region, keyId);
  const apiGateway = restApiId !== undefined && stage !== undefined ? new APIGatewayClient({ region }) : undefined;
  return {
    ...data.parts,
    authorizerCache: apiGateway !== undefined && restApiId !== undefined && stage !== undefined ? new ApiGatewayAuthorizerCache(apiGateway, restApiId, stage) : NO_CACHE,
    ...(apiGateway === undefined
      ? { cacheWarning: 'no --rest-api-id and --stage given: decisions API Gateway has cached expire within the authorizer TTL' }
      : {}),
    usagePlans:
      apiGateway !== undefined && restApiId !== undefined && stage !== undefined
        ? new ApiGatewayUsagePlans(apiGateway, { restApiId, stageName: stage })
        : undefined,
    local: false,
    close: () => {
      data.destroy();
      apiGateway?.destroy();
      return Promise.resolve();
    },
  };
}

/**
 * A deployment of the HTTP API flavor (`--http-api-id` and `--stage`): its stage's authorizer
 * cache is reset with ResetAuthorizersCache, and there are no usage plans to keep accounts' keys
 * on (plans are recorded, not enforced).
 */
function httpFlavorTarget(values: Values, { table, region, keyId, httpApiId }: { table: string; region: string; keyId: string; httpApiId: string }): Target {
  const stage = values.stage;
  if (stage === undefined) throw new UsageError('--http-api-id needs --stage');
  if (values['rest-api-id'] !== undefined) throw new UsageError('--rest-api-id and --http-api-id name two flavors of one stage: give the one deployed');
  const data = deployedData(table, region, keyId);
  const apiGateway = new ApiGatewayV2Client({ region });
  return {
    ...data.parts,
    authorizerCache: new ApiGatewayV2AuthorizerCache(apiGateway, httpApiId, stage),
    usagePlans: new UnenforcedUsagePlans(),
    local: false,
    close: () => {
      data.destroy();
      apiGateway.destroy();
      return Promise.resolve();
    },
  };
}

/** A deployed stack's table and key, whichever front door it has: the stores, the secrets, and how to let go of their clients. */
function deployedData(table: string, region: string, keyId: string) {
  const raw = new DynamoDBClient({ region });
  const documentClient = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  const kms = new KMSClient({ region });
  return {
    parts: {
      description: `table ${table} in ${region}`,
      store: new DynamoDbStore(documentClient, table),
      digests: new DynamoDbDigestStore(documentClient, table),
      accounts: new DynamoDbAccountDirectory(documentClient, table),
      secrets: new KmsSecrets(kms, keyId),
    },
    destroy: () => {
      raw.destroy();
      kms.destroy();
    },
  };
}

export function requireUsagePlans(target: Target, command: string): UsagePlans {
  if (target.usagePlans === undefined) {
    throw new UsageError(`${command} on AWS needs --rest-api-id and --stage (or --http-api-id and --stage on the HTTP API flavor): accounts' usage-plan keys live on the stage's usage plans`);
  }
  return target.usagePlans;
}
