import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ANSWERS } from './flavors.ts';
import { call } from './support.ts';
import { STARTUP_MS, children, startRuntime, stopRuntime } from './runtime-process.ts';

/** `npm start -- --flavor http` as a user runs it: API Gateway's HTTP API in front, its own answers. */

const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-flavor-'));

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start -- --flavor', () => {
  it('refuses a flavor it does not know, naming the two it does', async () => {
    const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
      execFile('node', ['--import', 'tsx', 'local/process/main.ts', '--memory', '--flavor', 'websocket'], { timeout: 60_000 }, (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, output: `${stdout}${stderr}` });
      });
    });

    expect(result.code).toBe(2);
    expect(result.output).toContain('--flavor must be one of rest, http');
  }, 60_000);

  it(
    'serves the API behind the HTTP API emulation: the printed keys work, and the refusals are its own',
    async () => {
      const started = await startRuntime(['--memory', '--flavor', 'http'], join(dataDir, 'unused'));
      try {
        expect(started.output()).toContain('API Gateway HTTP API');
        const keys = started.keys;
        expect(keys).toBeDefined();
        if (keys === undefined) return;

        const whoami = await call(started.port, '/v1/whoami', { keys });
        const noKeys = await call(started.port, '/v1/whoami');
        const noRoute = await call(started.port, '/v1/nothing', { keys });

        expect(whoami.status).toBe(200);
        expect(whoami.json).toMatchObject({ role: 'owner', sourceIp: '127.0.0.1' });
        expect([noKeys.status, noKeys.json]).toEqual([ANSWERS.http.unauthorized.status, ANSWERS.http.unauthorized.body]);
        expect([noRoute.status, noRoute.json]).toEqual([ANSWERS.http.noRoute.status, ANSWERS.http.noRoute.body]);
      } finally {
        await stopRuntime(started, 'SIGTERM');
      }
    },
    STARTUP_MS + 30_000,
  );
});
