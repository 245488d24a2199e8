import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '#local/storage/dynamodb-local.ts';
import { type Credentials, call } from './support.ts';

/**
 * Restricted keys over HTTP, as docs/permissions.md walks them: `npm start -- --routes` with the
 * example subscriptions service, a CI key restricted to `subscriptions:write`, and its list
 * widened and lifted with PATCH, each in effect on the very next request (the local gateway
 * caches decisions for 300 s, as the deployed stage does).
 */

const STARTUP_MS = 150_000;
const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-restricted-'));
let child: ChildProcess;
let port: number;
let owner: Credentials;

beforeAll(async () => {
  port = await freePort();
  child = spawn('node', ['--import', 'tsx', 'local/process/main.ts', '--memory', '--port', String(port), '--routes', 'examples/subscriptions/routes.ts'], {
    env: { ...process.env, LATCHKEY_LOCAL_DIR: join(dataDir, 'unused') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no start:\n${output}`));
    }, STARTUP_MS);
    child.stdout?.on('data', () => {
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
  owner = {
    accountKey: /^export LATCHKEY_ACCOUNT_KEY=(\S+)$/m.exec(output)?.[1] ?? '',
    userKey: /^export LATCHKEY_USER_KEY=(\S+)$/m.exec(output)?.[1] ?? '',
  };
}, STARTUP_MS);

afterAll(async () => {
  if (child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('a restricted key through npm start -- --routes', () => {
  it("lists the example service's permissions beside the management routes'", async () => {
    const response = await call(port, '/v1/permissions', { keys: owner });

    expect(response.status).toBe(200);
    const items = response.json.items as { name: string; routes: string[]; roles: string[] }[];
    expect(items.find((item) => item.name === 'subscriptions:write')).toEqual({
      name: 'subscriptions:write',
      routes: ['POST /v1/subscriptions', 'DELETE /v1/subscriptions/{subscriptionId}'],
      roles: ['owner'],
    });
    expect(items.find((item) => item.name === 'subscriptions:read')?.roles).toEqual(['owner', 'viewer']);
  });

  it('calls only what its list names, and a PATCH widens or lifts the list at once', async () => {
    // Prepare: the CI key of docs/permissions.md, for the owner; an Allow for its first call cached.
    const me = (await call(port, '/v1/whoami', { keys: owner })).json.userId as string;
    const created = await call(port, '/v1/api-keys', { method: 'POST', keys: owner, body: { name: 'ci-deploy-job', userId: me, permissions: ['subscriptions:write'] } });
    expect(created.status).toBe(201);
    expect(created.json.permissions).toEqual(['subscriptions:write']);
    const ci: Credentials = { accountKey: owner.accountKey, userKey: created.json.secret as string };
    const keyPath = `/v1/api-keys/${created.json.id as string}`;

    // Act and assess: restricted.
    expect((await call(port, '/v1/subscriptions', { method: 'POST', keys: ci, body: { name: 'Staging' } })).status).toBe(201);
    expect((await call(port, '/v1/subscriptions', { keys: ci })).status).toBe(403);
    expect((await call(port, '/v1/users', { keys: ci })).status).toBe(403);
    expect((await call(port, '/v1/whoami', { keys: ci })).status).toBe(200);

    // Widened: the read it was refused a moment ago is let through on the next request.
    const widened = await call(port, keyPath, { method: 'PATCH', keys: owner, body: { permissions: ['subscriptions:read', 'subscriptions:write'] } });
    expect(widened.status).toBe(200);
    expect(widened.json.permissions).toEqual(['subscriptions:read', 'subscriptions:write']);
    expect((await call(port, '/v1/subscriptions', { keys: ci })).status).toBe(200);

    // Narrowed: the write it just made is refused on the next request.
    expect((await call(port, keyPath, { method: 'PATCH', keys: owner, body: { permissions: ['subscriptions:read'] } })).status).toBe(200);
    expect((await call(port, '/v1/subscriptions', { method: 'POST', keys: ci, body: { name: 'Refused' } })).status).toBe(403);

    // Lifted: all of the owner's role again.
    const lifted = await call(port, keyPath, { method: 'PATCH', keys: owner, body: { permissions: null } });
    expect(lifted.json.permissions).toBeNull();
    expect((await call(port, '/v1/users', { keys: ci })).status).toBe(200);

    // Both changes are in the audit log with their lists.
    const logs = await call(port, '/v1/logs?limit=3', { keys: owner });
    const updates = (logs.json.items as { action: string; permissions?: unknown }[]).filter((event) => event.action === 'api-key.update');
    expect(updates.map((event) => event.permissions)).toEqual([
      { before: ['subscriptions:read'], after: null },
      { before: ['subscriptions:read', 'subscriptions:write'], after: ['subscriptions:read'] },
      { before: ['subscriptions:write'], after: ['subscriptions:read', 'subscriptions:write'] },
    ]);
  });

  it("refuses a permission the deployment does not have with a 400 naming it, and one the holder's role does not grant with a 422", async () => {
    const viewer = await call(port, '/v1/users', { method: 'POST', keys: owner, body: { name: 'Vera Viewer', email: 'vera@example.com', role: 'viewer' } });
    const unknown = await call(port, '/v1/api-keys', { method: 'POST', keys: owner, body: { name: 'vera-unknown-key', userId: viewer.json.id, permissions: ['gadgets:read'] } });
    const ungranted = await call(port, '/v1/api-keys', { method: 'POST', keys: owner, body: { name: 'vera-writer-key', userId: viewer.json.id, permissions: ['subscriptions:write'] } });

    expect(unknown.status).toBe(400);
    expect(unknown.json.detail).toContain("'gadgets:read'");
    expect(ungranted.status).toBe(422);
    expect(ungranted.json.detail).toContain("'subscriptions:write'");
  });
});
