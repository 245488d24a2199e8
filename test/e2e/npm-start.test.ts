import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '#local/storage/dynamodb-local.ts';
import { call } from './support.ts';
import { STARTUP_MS, children, processExists, startRuntime, stopRuntime } from './runtime-process.ts';

/**
 * `npm start` as a user runs it: a child process that starts DynamoDB Local, prints the
 * first account's keys as two `export` lines, serves the API, and on SIGTERM or SIGINT takes
 * its DynamoDB Local down with it, leaving no Java process and no port behind.
 */

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => {
      resolve(false);
    });
    server.listen(port, '127.0.0.1', () => {
      server.close(() => {
        resolve(true);
      });
    });
  });
}

const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-start-'));

afterAll(() => {
  // A failed assertion must not leave a runtime behind.
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start --memory', () => {
  it(
    'prints working keys once, never logs a secret, and leaves no process or port behind on SIGTERM',
    async () => {
      // Prepare
      const started = await startRuntime(['--memory'], join(dataDir, 'memory'));
      const keys = started.keys;
      if (keys === undefined) throw new Error(`no export lines in:\n${started.output()}`);
      expect(processExists(started.javaPid)).toBe(true);

      // Act: use the keys, and make a secret the logs must not show.
      const whoami = await call(started.port, '/v1/whoami', { keys });
      const users = await call(started.port, '/v1/users', { keys });
      const ownerId = (users.json.items as { id: string }[])[0]?.id;
      const newKey = await call(started.port, '/v1/api-keys', { method: 'POST', keys, body: { name: 'made-in-e2e-test', userId: ownerId } });
      const revealed = await call(started.port, '/v1/account/key', { keys });
      const code = await stopRuntime(started, 'SIGTERM');

      // Assess
      expect(whoami.status).toBe(200);
      expect(newKey.status).toBe(201);
      expect(revealed.status).toBe(200);
      const lines = started.output().split('\n');
      expect(lines.filter((line) => line.includes(keys.accountKey))).toEqual([`export LATCHKEY_ACCOUNT_KEY=${keys.accountKey}`]);
      expect(lines.filter((line) => line.includes(keys.userKey))).toEqual([`export LATCHKEY_USER_KEY=${keys.userKey}`]);
      expect(started.output()).not.toContain(newKey.json.secret as string);
      expect(code).toBe(0);
      expect(processExists(started.javaPid)).toBe(false);
      expect(await portFree(started.port)).toBe(true);
      expect(await portFree(started.dynamodbPort)).toBe(true);
      expect(existsSync(join(dataDir, 'memory'))).toBe(false);
    },
    STARTUP_MS + 60_000,
  );
});

describe('npm start with persistent data', () => {
  it(
    'keeps the account across restarts, shows its keys only at the first start, and cleans up on SIGINT',
    async () => {
      // Prepare
      const persistent = join(dataDir, 'persistent');
      const first = await startRuntime([], persistent);
      const keys = first.keys;
      if (keys === undefined) throw new Error(`no export lines in:\n${first.output()}`);
      const runtimeWhileRunning = existsSync(join(persistent, 'runtime.json'));
      const firstCode = await stopRuntime(first, 'SIGINT');

      // Act
      const second = await startRuntime([], persistent);
      const whoami = await call(second.port, '/v1/whoami', { keys });
      const secondCode = await stopRuntime(second, 'SIGINT');

      // Assess
      expect(runtimeWhileRunning).toBe(true);
      expect(firstCode).toBe(0);
      expect(processExists(first.javaPid)).toBe(false);
      expect(second.keys).toBeUndefined();
      expect(second.output()).toContain('exists; its keys were shown at its first start');
      expect(second.output()).not.toContain(keys.userKey);
      expect(whoami.status).toBe(200);
      expect(secondCode).toBe(0);
      expect(processExists(second.javaPid)).toBe(false);
      expect(existsSync(join(persistent, 'runtime.json'))).toBe(false);
      expect(existsSync(join(persistent, 'bootstrap.json'))).toBe(true);
      expect(await portFree(second.port)).toBe(true);
    },
    2 * STARTUP_MS + 60_000,
  );
});

describe('npm start refusals', () => {
  function run(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', 'local/process/main.ts', ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
      });
    });
  }

  it(
    'says plainly that Java is missing, and exits 1',
    async () => {
      // Prepare: a PATH on which no `java` can be found.
      const env = { ...process.env, PATH: join(dataDir, 'no-such-bin'), LATCHKEY_LOCAL_DIR: join(dataDir, 'no-java') };

      const result = await run(['--memory', '--port', String(await freePort())], env);

      expect(result.code).toBe(1);
      expect(result.stderr).toContain('DynamoDB Local needs a Java runtime');
    },
    90_000,
  );

  it(
    'explains its options, and refuses unknown ones with exit code 2',
    async () => {
      const help = await run(['--help'], process.env);
      const unknown = await run(['--no-such-flag'], process.env);

      expect(help.code).toBe(0);
      expect(help.stdout).toContain('--authorizer-ttl');
      expect(unknown.code).toBe(2);
    },
    90_000,
  );
});
