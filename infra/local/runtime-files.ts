import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsClientSettings } from '#functions/commons/aws-client-settings.ts';

/**
 * What the local runtime keeps on disk under `.latchkey/` (git-ignored), shared by
 * `npm start` and the admin CLI:
 * - `dynamodb/`: DynamoDB Local's data;
 * - `master.key`: the LocalSecrets master key (owner-only permissions);
 * - `bootstrap.json`: which account the first start created (ids only, no secret);
 * - `runtime.json`: where a running `npm start` can be reached, present only while it runs.
 */
export const LOCAL_TABLE_NAME = 'latchkey-local';
export const LOCAL_DIR_ENV = 'LATCHKEY_LOCAL_DIR';
/** The running server's control path: flush the authorizer cache and reload peppers after an admin change. */
export const LOCAL_REFRESH_PATH = '/_local/refresh';
export const LOCAL_TOKEN_HEADER = 'x-latchkey-local-token';

export interface LocalPaths {
  readonly root: string;
  readonly dynamodb: string;
  readonly masterKey: string;
  readonly bootstrap: string;
  readonly runtime: string;
}

export function localPaths(root: string = process.env[LOCAL_DIR_ENV] ?? '.latchkey'): LocalPaths {
  const absolute = resolve(root);
  return {
    root: absolute,
    dynamodb: join(absolute, 'dynamodb'),
    masterKey: join(absolute, 'master.key'),
    bootstrap: join(absolute, 'bootstrap.json'),
    runtime: join(absolute, 'runtime.json'),
  };
}

export interface RuntimeInfo {
  readonly dynamodbEndpoint: string;
  readonly tableName: string;
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  /** Lets the admin CLI ask this server to refresh; the file is readable by its owner only. */
  readonly controlToken: string;
}

export interface BootstrapMarker {
  readonly accountId: string;
  readonly createdAt: string;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return undefined;
    throw new Error(`${path} is unreadable; delete it and start again`, { cause: error });
  }
}

function writeOwnerOnly(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return error instanceof Error && 'code' in error && error.code === 'EPERM';
  }
}

/** The running server's details, or undefined if none runs (a file left by a crash is ignored). */
export function readRuntimeInfo(paths: LocalPaths): RuntimeInfo | undefined {
  const value = readJson(paths.runtime) as Partial<RuntimeInfo> | undefined;
  if (value === undefined) return undefined;
  const { dynamodbEndpoint, tableName, host, port, pid, controlToken } = value;
  if (
    typeof dynamodbEndpoint !== 'string' ||
    typeof tableName !== 'string' ||
    typeof host !== 'string' ||
    typeof port !== 'number' ||
    typeof pid !== 'number' ||
    typeof controlToken !== 'string'
  ) {
    throw new Error(`${paths.runtime} is not a runtime file of this version; delete it if no server runs`);
  }
  if (!processAlive(pid)) return undefined;
  return { dynamodbEndpoint, tableName, host, port, pid, controlToken };
}

export function writeRuntimeInfo(paths: LocalPaths, info: RuntimeInfo): void {
  mkdirSync(paths.root, { recursive: true, mode: 0o700 });
  writeOwnerOnly(paths.runtime, info);
}

export function removeRuntimeInfo(paths: LocalPaths): void {
  rmSync(paths.runtime, { force: true });
}

export function readBootstrapMarker(paths: LocalPaths): BootstrapMarker | undefined {
  const value = readJson(paths.bootstrap) as Partial<BootstrapMarker> | undefined;
  if (value === undefined || typeof value.accountId !== 'string' || typeof value.createdAt !== 'string') return undefined;
  return { accountId: value.accountId, createdAt: value.createdAt };
}

export function writeBootstrapMarker(paths: LocalPaths, marker: BootstrapMarker): void {
  mkdirSync(paths.root, { recursive: true, mode: 0o700 });
  writeOwnerOnly(paths.bootstrap, marker);
}

/** Milliseconds one call to DynamoDB Local may take. */
export const LOCAL_REQUEST_TIMEOUT_MS = 10_000;

/** SDK clients for DynamoDB Local, which accepts any credentials and region. */
export function localDynamoDbClients(endpoint: string): { raw: DynamoDBClient; documentClient: DynamoDBDocumentClient } {
  const raw = new DynamoDBClient({
    // A bound on every call, as in Lambda, but a looser one: DynamoDB Local runs transactions
    // one at a time and answers slowly on a loaded machine.
    ...awsClientSettings({ requestTimeout: LOCAL_REQUEST_TIMEOUT_MS }),
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return { raw, documentClient: DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } }) };
}
