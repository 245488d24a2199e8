import { mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListTablesCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTable } from '#shared/adapters/create-table.ts';
import { LOCAL_CORS_ORIGIN, LOCAL_REGION, randomAccessKeyId, startDynamoDbLocal, type DynamoDbLocal } from '#local/storage/dynamodb-local.ts';
import { LocalDataError, dataFolderAccessKey, localDynamoDbClients, localPaths } from '#local/process/runtime-files.ts';

/**
 * DynamoDB Local as `npm start` runs it. It cannot bind to loopback only, so what protects the
 * data is that only the runtime knows the access key id that selects its database, and CORS
 * granted to no origin a web page can have.
 */

const folders: string[] = [];
const engines: DynamoDbLocal[] = [];

function dataFolder(): ReturnType<typeof localPaths> {
  const root = mkdtempSync(join(tmpdir(), 'latchkey-engine-'));
  folders.push(root);
  return localPaths(root);
}

async function start(dbPath: string, accessKeyId: string): Promise<DynamoDbLocal> {
  mkdirSync(dbPath, { recursive: true, mode: 0o700 });
  const engine = await startDynamoDbLocal({ dbPath, accessKeyId });
  engines.push(engine);
  return engine;
}

afterAll(async () => {
  await Promise.all(engines.map((engine) => engine.stop()));
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

describe('a data folder', () => {
  const paths = dataFolder();
  let engine: DynamoDbLocal;
  let accessKeyId: string;

  beforeAll(async () => {
    accessKeyId = dataFolderAccessKey(paths);
    engine = await start(paths.dynamodb, accessKeyId);
    const { raw, documentClient } = localDynamoDbClients(engine.endpoint, accessKeyId);
    await createTable(raw, 'latchkey-local');
    await documentClient.send(new PutCommand({ TableName: 'latchkey-local', Item: { pk: 'ACCOUNT#a', sk: 'META', name: 'secret data' } }));
    raw.destroy();
  }, 120_000);

  it('keeps its access key id in an owner-only file, the same on every start', () => {
    expect(accessKeyId).toMatch(/^[A-Za-z0-9]{16,}$/);
    expect(statSync(paths.dynamodbAccessKey).mode & 0o777).toBe(0o600);
    expect(dataFolderAccessKey(paths)).toBe(accessKeyId);
  });

  it('shows another access key id (another host on the network) an empty database', async () => {
    // Prepare: a caller who reaches the port but does not know the runtime's access key id.
    const stranger = localDynamoDbClients(engine.endpoint, randomAccessKeyId());
    const runtime = localDynamoDbClients(engine.endpoint, accessKeyId);

    // Act
    const strangerTables = await stranger.raw.send(new ListTablesCommand({}));
    const strangerRead = await stranger.documentClient
      .send(new GetCommand({ TableName: 'latchkey-local', Key: { pk: 'ACCOUNT#a', sk: 'META' } }))
      .catch((error: unknown) => error);
    const runtimeRead = await runtime.documentClient.send(new GetCommand({ TableName: 'latchkey-local', Key: { pk: 'ACCOUNT#a', sk: 'META' } }));

    // Assess
    expect(strangerTables.TableNames).toEqual([]);
    expect(strangerRead).toBeInstanceOf(ResourceNotFoundException);
    expect(runtimeRead.Item).toMatchObject({ name: 'secret data' });
    stranger.raw.destroy();
    runtime.raw.destroy();
  });

  it('refuses a web page: a CORS preflight from any origin a page can have gets no grant', async () => {
    const preflight = (origin: string): Promise<Response> =>
      fetch(engine.endpoint, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-amz-target' },
      });

    const fromPages = await Promise.all(['https://attacker.example', 'http://localhost:3000', 'null'].map(preflight));
    const fromNowhere = await preflight(LOCAL_CORS_ORIGIN);

    for (const response of fromPages) expect(response.headers.get('access-control-allow-origin')).toBeNull();
    // The one origin granted is one no page can be served from.
    expect(fromNowhere.headers.get('access-control-allow-origin')).toBe(LOCAL_CORS_ORIGIN);
    expect(new URL(LOCAL_CORS_ORIGIN).hostname.endsWith('.invalid')).toBe(true);
  });
});

describe('a data folder of a version that ran DynamoDB Local with -sharedDb', () => {
  it('keeps its data: the shared database becomes the new access key id\'s', async () => {
    // Prepare: a database file named as -sharedDb names it, and no access key file.
    const paths = dataFolder();
    const oldKey = randomAccessKeyId();
    const before = await start(paths.dynamodb, oldKey);
    const old = localDynamoDbClients(before.endpoint, oldKey);
    await createTable(old.raw, 'latchkey-local');
    await old.documentClient.send(new PutCommand({ TableName: 'latchkey-local', Item: { pk: 'ACCOUNT#b', sk: 'META', name: 'kept' } }));
    old.raw.destroy();
    await before.stop();
    renameSync(join(paths.dynamodb, `${oldKey}_${LOCAL_REGION}.db`), join(paths.dynamodb, 'shared-local-instance.db'));

    // Act
    const accessKeyId = dataFolderAccessKey(paths);
    const after = await start(paths.dynamodb, accessKeyId);
    const now = localDynamoDbClients(after.endpoint, accessKeyId);
    const read = await now.documentClient.send(new GetCommand({ TableName: 'latchkey-local', Key: { pk: 'ACCOUNT#b', sk: 'META' } }));
    now.raw.destroy();

    // Assess
    expect(accessKeyId).not.toBe(oldKey);
    expect(read.Item).toMatchObject({ name: 'kept' });
  }, 240_000);

  it('is refused with a clear message when its data is there but its access key file is not', () => {
    const paths = dataFolder();
    const accessKeyId = dataFolderAccessKey(paths);
    // A database file of that key, as DynamoDB Local names it, then the key file lost.
    renameSync(paths.dynamodbAccessKey, join(paths.dynamodb, `${accessKeyId}_${LOCAL_REGION}.db`));

    expect(() => dataFolderAccessKey(paths)).toThrow(LocalDataError);
    expect(() => dataFolderAccessKey(paths)).toThrow(/dynamodb-access-key, the access key id that opens it, is missing/);
  });
});
