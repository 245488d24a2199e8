import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsClientSettings } from '#functions/commons/aws-client-settings.ts';
import { LOCAL_REGION, randomAccessKeyId } from '../storage/dynamodb-local.ts';

/**
 * What the local runtime keeps on disk under `.latchkey/` (git-ignored), shared by
 * `npm start` and the admin CLI:
 * - `dynamodb/`: DynamoDB Local's data;
 * - `dynamodb-access-key`: the access key id that selects that data (owner-only permissions);
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
  readonly dynamodbAccessKey: string;
  readonly masterKey: string;
  readonly bootstrap: string;
  readonly runtime: string;
}

export function localPaths(root: string = process.env[LOCAL_DIR_ENV] ?? '.latchkey'): LocalPaths {
  const absolute = resolve(root);
  return {
    root: absolute,
    dynamodb: join(absolute, 'dynamodb'),
    dynamodbAccessKey: join(absolute, 'dynamodb-access-key'),
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

/**
 * A `npm start -- --memory` advertises itself in the data folder it would otherwise use, so
 * that the admin CLI, which cannot reach data held in that process's memory, refuses instead
 * of quietly changing the data folder.
 */
export interface MemoryRuntimeInfo {
  readonly host: string;
  readonly port: number;
  readonly pid: number;
}

const MEMORY_RUNTIME_FILE = /^runtime-memory-(\d+)\.json$/;

function memoryRuntimePath(paths: LocalPaths, pid: number): string {
  return join(paths.root, `runtime-memory-${pid}.json`);
}

export function writeMemoryRuntimeInfo(paths: LocalPaths, info: MemoryRuntimeInfo): void {
  writeOwnerOnly(memoryRuntimePath(paths, info.pid), info);
}

export function removeMemoryRuntimeInfo(paths: LocalPaths, pid: number): void {
  rmSync(memoryRuntimePath(paths, pid), { force: true });
}

/** The in-memory runtimes that still run (files left by a crash are ignored). */
export function readMemoryRuntimes(paths: LocalPaths): MemoryRuntimeInfo[] {
  let names: string[];
  try {
    names = readdirSync(paths.root);
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return [];
    throw error;
  }
  const running: MemoryRuntimeInfo[] = [];
  for (const name of names) {
    if (!MEMORY_RUNTIME_FILE.test(name)) continue;
    const value = readJson(join(paths.root, name)) as Partial<MemoryRuntimeInfo> | undefined;
    if (value === undefined || typeof value.host !== 'string' || typeof value.port !== 'number' || typeof value.pid !== 'number') continue;
    if (processAlive(value.pid)) running.push({ host: value.host, port: value.port, pid: value.pid });
  }
  return running;
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

/** The data folder cannot be used as it is; the message says what to do. */
export class LocalDataError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LocalDataError';
  }
}

/** The file name DynamoDB Local gives the database of one access key id and region. */
function databaseFile(accessKeyId: string): string {
  return `${accessKeyId}_${LOCAL_REGION}.db`;
}

/** The data folder's access key id if it has one yet (see dataFolderAccessKey). */
export function readDataFolderAccessKey(paths: LocalPaths): string | undefined {
  let stored: string;
  try {
    stored = readFileSync(paths.dynamodbAccessKey, 'utf8').trim();
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return undefined;
    throw error;
  }
  if (!/^[A-Za-z0-9]{16,128}$/.test(stored)) {
    throw new LocalDataError(`${paths.dynamodbAccessKey} does not hold an access key id; restore it, or delete ${paths.root} to start afresh`);
  }
  return stored;
}

/**
 * The access key id of the data folder's DynamoDB database, made on first use (owner-only
 * file). DynamoDB Local keeps one database per access key id, so a host that reaches its
 * port without this id sees an empty database.
 *
 * A folder from a version that ran DynamoDB Local with `-sharedDb` holds
 * `shared-local-instance.db`: it becomes this key's database, so its data keeps working.
 * A folder whose key file is gone but whose data is not is refused: a new key would show an
 * empty database and the old data would look lost.
 */
export function dataFolderAccessKey(paths: LocalPaths): string {
  const stored = readDataFolderAccessKey(paths);
  if (stored !== undefined) return stored;
  mkdirSync(paths.dynamodb, { recursive: true, mode: 0o700 });
  const shared = join(paths.dynamodb, 'shared-local-instance.db');
  const others = readdirSync(paths.dynamodb).filter((name) => name.endsWith('.db'));
  if (!existsSync(shared) && others.length > 0) {
    throw new LocalDataError(
      `${paths.dynamodb} holds data, but ${paths.dynamodbAccessKey}, the access key id that opens it, is missing: ` +
        `restore that file, or delete ${paths.root} to start afresh`,
    );
  }
  const accessKeyId = randomAccessKeyId();
  // 'wx': two processes starting at once cannot each pick a key; the loser fails here.
  writeFileSync(paths.dynamodbAccessKey, `${accessKeyId}\n`, { mode: 0o600, flag: 'wx' });
  if (existsSync(shared)) renameSync(shared, join(paths.dynamodb, databaseFile(accessKeyId)));
  return accessKeyId;
}

/**
 * SDK clients for DynamoDB Local, which checks no signature: the access key id (with the
 * region) only selects the database. @default accessKeyId 'local'
 */
export function localDynamoDbClients(
  endpoint: string,
  accessKeyId = 'local',
): { raw: DynamoDBClient; documentClient: DynamoDBDocumentClient } {
  const raw = new DynamoDBClient({
    // A bound on every call, as in Lambda, but a looser one: DynamoDB Local runs transactions
    // one at a time and answers slowly on a loaded machine.
    ...awsClientSettings({ requestTimeout: LOCAL_REQUEST_TIMEOUT_MS }),
    endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId, secretAccessKey: 'local' },
  });
  return { raw, documentClient: DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } }) };
}
