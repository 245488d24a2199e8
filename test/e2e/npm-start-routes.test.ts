import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '#local/storage/dynamodb-local.ts';
import { call } from './support.ts';

/** `npm start -- --routes FILE` as docs/your-routes.md runs it: the example service, and a refused declaration. */

const STARTUP_MS = 150_000;
const children: ChildProcess[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-routes-'));

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start -- --routes', () => {
  it('refuses at start a route that collides with a management route, naming both', async () => {
    const file = join(dataDir, 'colliding-routes.mjs');
    writeFileSync(file, "export default [{ method: 'POST', path: '/v1/users', backend: { url: 'http://127.0.0.1:9' } }];\n");
    const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
      execFile('node', ['--import', 'tsx', 'local/process/main.ts', '--memory', '--port', '0', '--routes', file], { timeout: 60_000 }, (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, output: `${stdout}${stderr}` });
      });
    });
    expect(result.code).toBe(1);
    expect(result.output).toContain('route POST /v1/users collides with the management route POST /v1/users (createUser)');
  }, 60_000);

  it('serves the example subscriptions service behind the keys', async () => {
    const port = await freePort();
    const child = spawn('node', ['--import', 'tsx', 'local/process/main.ts', '--memory', '--port', String(port), '--routes', 'examples/subscriptions/routes.ts'], {
      env: { ...process.env, LATCHKEY_LOCAL_DIR: join(dataDir, 'unused') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`no start:\n${output}`)); }, STARTUP_MS);
      child.stdout.on('data', () => {
        if (output.includes('OpenAPI document:')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', () => {
        clearTimeout(timer);
        reject(new Error(`exited:\n${output}`));
      });
    });
    const keys = {
      accountKey: /^export LATCHKEY_ACCOUNT_KEY=(\S+)$/m.exec(output)?.[1] ?? '',
      userKey: /^export LATCHKEY_USER_KEY=(\S+)$/m.exec(output)?.[1] ?? '',
    };
    expect(output).toContain('Team routes behind the authorizer: GET /v1/subscriptions');

    const created = await call(port, '/v1/subscriptions', { method: 'POST', keys, body: { name: 'From the README' } });
    const listed = await call(port, '/v1/subscriptions', { keys });
    const anonymous = await call(port, '/v1/subscriptions');

    expect(created.status).toBe(201);
    expect(listed.json).toMatchObject({ subscriptions: [{ name: 'From the README' }] });
    expect(anonymous.status).toBe(401);

    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }, STARTUP_MS);
});
