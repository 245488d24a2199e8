import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalSecrets } from '#local/storage/local-secrets.ts';
import { newId } from '#shared/domain/ids.ts';
import { dataFolderAccessKey, localPaths, writeRuntimeInfo } from '#local/process/runtime-files.ts';
import { admin, call, startApi } from './support.ts';
import { STARTUP_MS, children, startRuntime, stopRuntime } from './runtime-process.ts';
import { inject } from 'vitest';

/**
 * The admin CLI acts on the server that runs, or refuses and changes nothing: never a success
 * that changed something else (a data folder no server reads, a server that kept its cache).
 */

const root = mkdtempSync(join(tmpdir(), 'latchkey-targets-'));

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

/** An address of this machine other than loopback, as `npm start -- --host` would be given. */
const machineAddress = Object.values(networkInterfaces())
  .flat()
  .find((entry) => entry !== undefined && entry.family === 'IPv4' && !entry.internal)?.address;

describe('against npm start -- --memory', () => {
  it(
    'refuses, says why, and writes nothing to the data folder',
    async () => {
      // Prepare
      const dataDir = join(root, 'memory');
      const started = await startRuntime(['--memory'], dataDir);

      // Act
      const result = await admin(['create-account', '--data-dir', dataDir, '--name', 'Lost', '--owner-name', 'Owner', '--owner-email', 'o@example.com']);
      const code = await stopRuntime(started, 'SIGTERM');

      // Assess
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('npm start -- --memory');
      expect(result.stderr).toContain('nothing was changed');
      expect(result.stdout).not.toMatch(/lka_|lks_/);
      expect(existsSync(join(dataDir, 'dynamodb'))).toBe(false);
      expect(code).toBe(0);
      // The advertisement goes with the server.
      expect(existsSync(dataDir)).toBe(false);
    },
    STARTUP_MS + 120_000,
  );
});

describe('against npm start -- --host <an address of this machine>', () => {
  it.skipIf(machineAddress === undefined)(
    "reaches the server there: disable-api drops its cached decision at once",
    async () => {
      // Prepare: an Allow cached for the first account's keys.
      const host = machineAddress ?? '';
      const dataDir = join(root, 'host');
      const started = await startRuntime(['--host', host], dataDir);
      const keys = started.keys;
      const accountId = /Created local account (\S+) /.exec(started.output())?.[1];
      if (keys === undefined || accountId === undefined) throw new Error(`no account in:\n${started.output()}`);
      const before = await call(started.port, '/v1/whoami', { keys, host, from: host });

      // Act
      const disabled = await admin(['disable-api', accountId, '--data-dir', dataDir]);
      const after = await call(started.port, '/v1/whoami', { keys, host, from: host });
      await stopRuntime(started, 'SIGTERM');

      // Assess
      expect(before.status).toBe(200);
      expect(disabled.stderr).not.toContain('latchkey admin:');
      expect(disabled.code).toBe(0);
      expect(disabled.stdout).toContain('is now disabled');
      expect(after.status).toBe(401);
    },
    STARTUP_MS + 120_000,
  );
});

describe('against a running server that does not accept its refresh', () => {
  it('refuses before changing anything', async () => {
    // Prepare: a server whose control token differs from the one advertised.
    const dataDir = join(root, 'stale-token');
    const accessKeyId = dataFolderAccessKey(localPaths(dataDir));
    const api = await startApi({ secrets: LocalSecrets.fromFile(localPaths(dataDir).masterKey), controlToken: newId(), accessKeyId });
    writeRuntimeInfo(localPaths(dataDir), {
      dynamodbEndpoint: inject('dynamodbEndpoint'),
      tableName: api.tableName,
      host: '127.0.0.1',
      port: api.port,
      pid: process.pid,
      controlToken: newId(),
    });
    const keys = { accountKey: api.account.accountKey, userKey: api.account.userKey };

    try {
      // Act
      const result = await admin(['disable-api', api.account.account.id, '--data-dir', dataDir]);
      const account = await api.app.store.getAccount(api.account.account.id);

      // Assess
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('refused to refresh (HTTP 403)');
      expect(result.stderr).toContain('nothing was changed');
      expect(account?.apiEnabled).toBe(true);
      expect((await call(api.port, '/v1/whoami', { keys })).status).toBe(200);
    } finally {
      await api.close();
    }
  }, 120_000);
});
