import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Credentials } from './support.ts';
import { STARTUP_MS, children, startRuntime, stopRuntime, type Started } from './runtime-process.ts';
import { closeQuietly, runSmoke, startNeverRevokingProxy, startYesServer, usersAndKeys, type SmokeRun } from './smoke-servers.ts';

/**
 * `npm run smoke -- --url URL` (docs/deploy.md's last step) against one `npm start` with
 * three team routes (fixtures/smoke-routes.ts): it passes there, fails a server that answers 200 to everything and one
 * that never revokes, naming the checks, leaves the account's users and keys as it found them,
 * also on Ctrl-C, and prints no key.
 */

const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-smoke-'));
const servers: Server[] = [];
let runtime: Started;
let owner: Credentials;
let url: string;
/** The same runtime behind the HTTP API emulation (`--flavor http`), with an account of its own. */
let httpRuntime: Started;
let httpOwner: Credentials;

/** Latchkey's key formats, and the owner's two keys verbatim. */
function secretsIn(output: string): string[] {
  const found = output.match(/\blk[as]_[0-9A-Za-z]{16,}/g) ?? [];
  return [...found, ...[owner.accountKey, owner.userKey].filter((key) => output.includes(key))];
}

function checkLines(run: SmokeRun): string[] {
  return run.stdout.split('\n').filter((line) => /^(PASS|FAIL) {2}/.test(line));
}

function failedChecks(run: SmokeRun): string[] {
  return checkLines(run)
    .filter((line) => line.startsWith('FAIL'))
    .map((line) => line.slice('FAIL  '.length));
}

beforeAll(async () => {
  runtime = await startRuntime(['--memory', '--routes', 'test/e2e/fixtures/smoke-routes.ts'], join(dataDir, 'unused'));
  if (runtime.keys === undefined) throw new Error(`the first start printed no keys:\n${runtime.output()}`);
  owner = runtime.keys;
  url = `http://127.0.0.1:${runtime.port}`;
  httpRuntime = await startRuntime(['--memory', '--flavor', 'http'], join(dataDir, 'unused-http'));
  if (httpRuntime.keys === undefined) throw new Error(`the HTTP flavor's first start printed no keys:\n${httpRuntime.output()}`);
  httpOwner = httpRuntime.keys;
}, 2 * STARTUP_MS);

afterAll(async () => {
  for (const server of servers) await closeQuietly(server);
  for (const child of children) if (child.exitCode === null && child.signalCode === null) await stopRuntime({ child }, 'SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('latchkey smoke against npm start', () => {
  it('passes every check, a team route included, prints the count and the figures last, and leaves no user or key behind', async () => {
    const before = await usersAndKeys(runtime.port, owner);

    const run = await runSmoke(['--url', url, '--route', 'GET /v1/hello', '--route', 'POST /v1/hello', '--route', 'GET /v1/hello/audit owner,logs-viewer', '--grace', '1'], owner);

    expect(run.stderr).toBe('');
    expect(failedChecks(run)).toEqual([]);
    expect(run.code).toBe(0);
    const passed = checkLines(run);
    const expected = [
      'no keys: 401',
      'the account key alone: 401',
      'the user key alone: 401',
      "the owner's whoami: 200",
      "a viewer's read (GET /v1/users): 200",
      "a viewer's write (POST /v1/users): 403",
      'a key restricted to api-keys:read reads the keys (GET /v1/api-keys): 200',
      'the same key is refused the users (GET /v1/users): 403',
      'a CIDR rule that leaves out the caller refuses at once: 403',
      'deleting that rule restores access: 200',
      'a roll with a 1 s grace keeps the old secret working',
      'a deleted key is refused: 401',
      "revocation bound: every trial's first 401 within 1100 ms of the delete",
      'the old secret stops when the grace ends: 401',
      'a roll with no grace ends the old secret: 401',
      'the leak route (POST /v1/leaked-keys, no keys): 202',
      'GET /v1/hello without keys: 401',
      'GET /v1/hello from outside the key’s CIDR rule: 403',
      'GET /v1/hello for the owner: 2xx',
      'POST /v1/hello without keys: 401',
      'POST /v1/hello for a viewer (role): 403',
      'POST /v1/hello for the owner: 2xx',
      'GET /v1/hello/audit for a viewer (role): 403',
      'GET /v1/hello/audit for the owner: 2xx',
      'clean-up: every user and key made is deleted',
    ];
    expect(expected.filter((name) => !passed.some((line) => line === `PASS  ${name}` || line.startsWith(`PASS  ${name}: `)))).toEqual([]);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.at(-2)).toBe(`${checkLines(run).length} passed, 0 failed`);
    expect(lines.at(-1)).toMatch(/^revocation: median \d+ ms, max \d+ ms over 5 trials \(bound 1100 ms\)$/);
    expect(secretsIn(run.stdout)).toEqual([]);
    expect(await usersAndKeys(runtime.port, owner)).toEqual(before);
  }, 120_000);

  it('prints the same as one JSON document with --json, and passes behind the HTTP API flavor too', async () => {
    const run = await runSmoke(['--url', `http://127.0.0.1:${httpRuntime.port}`, '--json', '--trials', '3', '--grace', '1'], httpOwner);

    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as {
      passed: number;
      failed: number;
      checks: { name: string; passed: boolean }[];
      revocation: { trialsMs: number[]; medianMs: number; maxMs: number; boundMs: number };
    };
    expect(summary.failed).toBe(0);
    expect(summary.passed).toBe(summary.checks.length);
    expect(summary.checks.every((check) => check.passed)).toBe(true);
    expect(summary.revocation.trialsMs).toHaveLength(3);
    expect(summary.revocation.maxMs).toBeLessThanOrEqual(summary.revocation.boundMs);
    expect(summary.checks.map((check) => check.name)).toContain('the same key is refused the users (GET /v1/users): 403');
    expect(secretsIn(run.stdout)).toEqual([]);
    expect(run.stdout).not.toContain(httpOwner.accountKey);
  }, 120_000);

  it('cleans up what it made when stopped with Ctrl-C', async () => {
    const before = await usersAndKeys(runtime.port, owner);
    const child = spawn('node', ['--import', 'tsx', 'smoke/main.ts', '--url', url], {
      env: { ...process.env, LATCHKEY_ACCOUNT_KEY: owner.accountKey, LATCHKEY_USER_KEY: owner.userKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let interrupted = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      // The viewer and its first key exist from here on. Once: a second Ctrl-C ends it at once.
      if (!interrupted && stdout.includes("a viewer's write")) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });

    const code = await exited;

    expect(code).toBe(130);
    expect(stdout).toContain('interrupted: the checks did not all run');
    expect(stdout).toMatch(/^PASS {2}clean-up: every user and key made is deleted: 1 user and \d+ keys? deleted$/m);
    expect(await usersAndKeys(runtime.port, owner)).toEqual(before);
  }, 120_000);
});

describe('latchkey smoke against a broken server', () => {
  it('fails a server that answers 200 to everything, naming the checks, and quotes its answers without a key', async () => {
    const yes = await startYesServer();
    servers.push(yes.server);

    const run = await runSmoke(['--url', `http://127.0.0.1:${yes.port}/prod`, '--trials', '2', '--revocation-bound', '200', '--grace', '1'], owner);

    expect(run.code).toBe(1);
    const failed = failedChecks(run);
    expect(failed).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^no keys: 401: expected 401, saw 200 \{/),
        expect.stringMatching(/^the account key alone: 401: expected 401, saw 200/),
        expect.stringMatching(/^the user key alone: 401: expected 401, saw 200/),
        expect.stringMatching(/^the owner's whoami: 200: 200, but the role is not owner/),
        expect.stringMatching(/^a viewer's read and write: the owner could not create a viewer \(POST \/v1\/users: 200/),
        expect.stringMatching(/^the revocation trials: not run/),
      ]),
    );
    expect(run.stdout.trimEnd().split('\n').at(-2)).toMatch(/^\d+ passed, [1-9]\d* failed$/);
    // The server echoed both keys in every answer; the report quotes those answers.
    expect(run.stdout).toContain('[secret]');
    expect(secretsIn(run.stdout)).toEqual([]);
  }, 120_000);

  it('fails a gateway that never revokes, naming each revocation check, and still cleans up', async () => {
    const proxy = await startNeverRevokingProxy(runtime.port);
    servers.push(proxy.server);
    const before = await usersAndKeys(runtime.port, owner);

    const run = await runSmoke(['--url', `http://127.0.0.1:${proxy.port}`, '--trials', '2', '--revocation-bound', '300', '--grace', '1'], owner);

    expect(run.code).toBe(1);
    const failed = failedChecks(run);
    expect(failed).toEqual([
      expect.stringMatching(/^the old secret stops when the grace ends: 401: still 200 \{.* \d+ ms after the grace ended$/),
      expect.stringMatching(/^a roll with no grace ends the old secret: 401: still 200 .* ms after the roll$/),
      expect.stringMatching(/^a deleted key is refused: 401: trial 1: still 200 .* ms after the delete; trial 2: still 200/),
      expect.stringMatching(/^revocation bound: every trial's first 401 within 300 ms of the delete: no trial saw a 401$/),
    ]);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('revocation: no trial saw a 401 (bound 300 ms, 2 never refused)');
    expect(secretsIn(run.stdout)).toEqual([]);
    expect(await usersAndKeys(runtime.port, owner)).toEqual(before);
  }, 120_000);
});
