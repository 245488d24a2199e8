import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { LocalSecrets } from '#local/storage/local-secrets.ts';
import { newId } from '#shared/domain/ids.ts';
import { ACCOUNT_KEY_PATTERN, USER_KEY_PATTERN } from '#shared/domain/key-format.ts';
import { LOCAL_REFRESH_PATH, LOCAL_TOKEN_HEADER, dataFolderAccessKey, localPaths, writeRuntimeInfo } from '#local/process/runtime-files.ts';
import { admin, call, startApi, type Credentials, type RunningApi } from './support.ts';

/**
 * The admin CLI as a person runs it (`node --import tsx admin/main.ts ...`), against the
 * run's DynamoDB Local, and against a running local server found through its runtime file,
 * which it must tell to drop cached decisions.
 */

const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-admin-'));
const tableName = `latchkey-admin-${newId()}`;
const controlToken = newId() + newId();
let api: RunningApi;
let created: { accountId: string; keys: Credentials };

beforeAll(async () => {
  // Prepare: an account made by the CLI on a table the CLI creates, then a local server on it
  // sharing the CLI's master key and DynamoDB access key id, advertised in the data folder
  // like `npm start` does.
  const accessKeyId = dataFolderAccessKey(localPaths(dataDir));
  const result = await admin([
    'create-account',
    '--json',
    '--endpoint',
    inject('dynamodbEndpoint'),
    '--table',
    tableName,
    '--data-dir',
    dataDir,
    '--name',
    'CLI account',
    '--owner-name',
    'CLI owner',
    '--owner-email',
    'cli@example.com',
    '--key-name',
    'cli-owner-key',
  ]);
  if (result.code !== 0) throw new Error(`create-account failed: ${result.stderr}`);
  const output = JSON.parse(result.stdout) as { account: { id: string }; accountKey: string; userKey: string };
  created = { accountId: output.account.id, keys: { accountKey: output.accountKey, userKey: output.userKey } };

  api = await startApi({ tableName, secrets: LocalSecrets.fromFile(localPaths(dataDir).masterKey), controlToken, authorizerTtlSeconds: 300, accessKeyId });
  writeRuntimeInfo(localPaths(dataDir), {
    dynamodbEndpoint: inject('dynamodbEndpoint'),
    tableName,
    host: '127.0.0.1',
    port: api.port,
    pid: process.pid,
    controlToken,
  });
}, 240_000);

afterAll(async () => {
  await api.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('create-account', () => {
  it('prints keys that work against the API, as JSON', async () => {
    const whoami = await call(api.port, '/v1/whoami', { keys: created.keys });
    const account = await call(api.port, '/v1/account', { keys: created.keys });
    const revealed = await call(api.port, '/v1/account/key', { keys: created.keys });

    expect(whoami.status).toBe(200);
    expect(whoami.json).toMatchObject({ accountId: created.accountId, role: 'owner' });
    expect(account.json).toMatchObject({ name: 'CLI account', apiEnabled: true });
    expect(revealed.json).toEqual({ accountKey: created.keys.accountKey });
  });

  it('refuses missing options with exit code 2 and creates nothing', async () => {
    const result = await admin(['create-account', '--data-dir', dataDir, '--name', 'No owner']);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--owner-name is required');
  }, 120_000);
});

describe('list-accounts and list-users', () => {
  it('find the ids create-key needs, once the keys printed at creation are lost, and print no secret', async () => {
    // Act
    const accounts = await admin(['list-accounts', '--json', '--data-dir', dataDir]);
    const users = await admin(['list-users', created.accountId, '--json', '--data-dir', dataDir]);
    const readable = await admin(['list-users', created.accountId, '--data-dir', dataDir]);

    // Assess
    expect(accounts.code).toBe(0);
    const listed = (JSON.parse(accounts.stdout) as { accounts: { id: string; name: string }[] }).accounts;
    expect(listed).toContainEqual(expect.objectContaining({ id: created.accountId, name: 'CLI account' }));
    expect(users.code).toBe(0);
    const owners = (JSON.parse(users.stdout) as { users: { role: string; email: string; keys: { name: string }[] }[] }).users;
    expect(owners).toContainEqual(expect.objectContaining({ role: 'owner', email: 'cli@example.com', keys: [expect.objectContaining({ name: 'cli-owner-key' })] }));
    expect(readable.stdout).toMatch(/owner {2}CLI owner <cli@example\.com>/);
    for (const output of [accounts.stdout, users.stdout, readable.stdout]) {
      expect(output).not.toMatch(ACCOUNT_KEY_PATTERN);
      expect(output).not.toMatch(USER_KEY_PATTERN);
    }
  }, 240_000);

  it('reports an unknown account with exit code 1, and a stray argument with exit code 2', async () => {
    expect((await admin(['list-users', newId(), '--data-dir', dataDir])).code).toBe(1);
    expect((await admin(['list-accounts', 'extra', '--data-dir', dataDir])).code).toBe(2);
  }, 240_000);
});

describe('create-key', () => {
  it('lets an owner who deleted every key of theirs back in with a new one, printed once', async () => {
    // Prepare: a second owner, whose only key is deleted through the API.
    const owner = await call(api.port, '/v1/users', {
      method: 'POST',
      keys: created.keys,
      body: { name: 'Second owner', email: 'second@example.com', role: 'owner' },
    });
    const ownerId = owner.json.id as string;
    const first = await call(api.port, '/v1/api-keys', { method: 'POST', keys: created.keys, body: { name: 'second-owner-key', userId: ownerId } });
    await call(api.port, `/v1/api-keys/${first.json.id as string}`, { method: 'DELETE', keys: created.keys });

    // Act
    const result = await admin(['create-key', created.accountId, '--user', ownerId, '--key-name', 'recovery-key-01', '--json', '--data-dir', dataDir]);
    const output = JSON.parse(result.stdout) as { key: { id: string; userId: string }; userKey: string };
    const whoami = await call(api.port, '/v1/whoami', { keys: { accountKey: created.keys.accountKey, userKey: output.userKey } });

    // Assess
    expect(result.code).toBe(0);
    expect(output.key.userId).toBe(ownerId);
    expect(whoami.status).toBe(200);
    expect(whoami.json).toMatchObject({ userId: ownerId, role: 'owner', keyId: output.key.id });
  }, 240_000);

  /** The first owner's id, as their keys name it. */
  async function ownerId(): Promise<string> {
    return (await call(api.port, '/v1/whoami', { keys: created.keys })).json.userId as string;
  }

  it('issues a restricted key with --permissions, stored with its list', async () => {
    // Act
    const result = await admin([
      'create-key', created.accountId, '--user', await ownerId(), '--key-name', 'restricted-key-01', '--permissions', 'logs:read, api-keys:read', '--json', '--data-dir', dataDir,
    ]);
    const output = JSON.parse(result.stdout) as { key: { id: string; permissions: string[] | null }; userKey: string };
    const fetched = await call(api.port, `/v1/api-keys/${output.key.id}`, { keys: created.keys });

    // Assess
    expect(result.code).toBe(0);
    expect(output.key.permissions).toEqual(['logs:read', 'api-keys:read']);
    expect(fetched.json.permissions).toEqual(['logs:read', 'api-keys:read']);
  }, 240_000);

  it("takes a team route's permission with --routes, the team's routes module", async () => {
    const result = await admin([
      'create-key', created.accountId, '--user', await ownerId(), '--key-name', 'restricted-key-02', '--permissions', 'subscriptions:write', '--routes', 'examples/subscriptions/routes.ts', '--json', '--data-dir', dataDir,
    ]);

    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as { key: { permissions: string[] } }).key.permissions).toEqual(['subscriptions:write']);
  }, 240_000);

  it('refuses --permissions naming a permission this deployment does not have with exit code 1, naming it, and prints no key', async () => {
    const unknown = await admin(['create-key', created.accountId, '--user', await ownerId(), '--key-name', 'restricted-key-03', '--permissions', 'subscriptions:write', '--data-dir', dataDir]);
    const empty = await admin(['create-key', created.accountId, '--user', await ownerId(), '--key-name', 'restricted-key-04', '--permissions', '', '--data-dir', dataDir]);

    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("'subscriptions:write' is not a permission of this deployment");
    expect(unknown.stdout).not.toMatch(/lks_/);
    expect(empty.code).toBe(2);
  }, 240_000);

  it('refuses a user who is not in the account with exit code 1, and prints no key', async () => {
    const unknownUser = await admin(['create-key', created.accountId, '--user', newId(), '--key-name', 'recovery-key-02', '--data-dir', dataDir]);

    expect(unknownUser.code).toBe(1);
    expect(unknownUser.stderr).toMatch(/user not found/i);
    expect(unknownUser.stdout).not.toMatch(/lks_/);
  }, 240_000);
});

describe('disable-api and enable-api through the running server', () => {
  it('refuses the account at once after disable-api, despite a cached Allow, and lets it in after enable-api', async () => {
    // Prepare: an Allow cached for these keys.
    expect((await call(api.port, '/v1/whoami', { keys: created.keys })).status).toBe(200);

    // Act
    const disabled = await admin(['disable-api', created.accountId, '--data-dir', dataDir]);
    const refused = await call(api.port, '/v1/whoami', { keys: created.keys });
    const enabled = await admin(['enable-api', created.accountId, '--json', '--data-dir', dataDir]);
    const allowed = await call(api.port, '/v1/whoami', { keys: created.keys });

    // Assess
    expect(disabled.code).toBe(0);
    expect(disabled.stdout).toContain('now disabled');
    expect(refused.status).toBe(401);
    expect(enabled.code).toBe(0);
    expect(JSON.parse(enabled.stdout)).toMatchObject({ account: { id: created.accountId, apiEnabled: true } });
    expect(allowed.status).toBe(200);
  }, 240_000);

  it('reports an unknown account with exit code 1', async () => {
    const result = await admin(['disable-api', newId(), '--data-dir', dataDir]);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/not found/i);
  }, 120_000);
});

describe('rotate-pepper', () => {
  it('adds a pepper version that the running server knows at once', async () => {
    // Act: rotate, then make keys hashed with the new version.
    const rotated = await admin(['rotate-pepper', '--json', '--data-dir', dataDir]);
    const next = await admin(['create-account', '--json', '--data-dir', dataDir, '--name', 'After rotation', '--owner-name', 'Owner', '--owner-email', 'o@example.com']);
    const output = JSON.parse(next.stdout) as { accountKey: string; userKey: string };
    const newKeys = await call(api.port, '/v1/whoami', { keys: { accountKey: output.accountKey, userKey: output.userKey } });
    const oldKeys = await call(api.port, '/v1/whoami', { keys: created.keys });
    const usage = await admin(['pepper-usage', '--json', '--data-dir', dataDir]);

    // Assess
    expect(usage.code).toBe(0);
    expect((JSON.parse(usage.stdout) as { usage: { version: number }[] }).usage.map((entry) => entry.version)).toEqual([1, 2]);
    expect(rotated.code).toBe(0);
    expect(JSON.parse(rotated.stdout)).toEqual({ pepperVersion: 2 });
    expect(newKeys.status).toBe(200);
    expect(oldKeys.status).toBe(200);
  }, 240_000);
});

describe("the server's control path", () => {
  it('refuses a refresh without the right token', async () => {
    const none = await call(api.port, LOCAL_REFRESH_PATH, { method: 'POST' });
    const wrong = await call(api.port, LOCAL_REFRESH_PATH, { method: 'POST', headers: { [LOCAL_TOKEN_HEADER]: `${controlToken}x` } });
    const right = await call(api.port, LOCAL_REFRESH_PATH, { method: 'POST', headers: { [LOCAL_TOKEN_HEADER]: controlToken } });

    expect(none.status).toBe(403);
    expect(wrong.status).toBe(403);
    expect(right.status).toBe(204);
  });
});

describe('help', () => {
  it('explains the commands', async () => {
    const result = await admin(['--help']);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('create-account');
    expect(result.stdout).toContain('--kms-key-id');
  }, 120_000);
});

describe('set-plan through the running server', () => {
  it("puts the account on its own plan at once, despite a cached Allow, and back on the default plan", async () => {
    // Prepare: an Allow cached for these keys.
    expect((await call(api.port, '/v1/whoami', { keys: created.keys })).status).toBe(200);

    // Act
    const set = await admin(['set-plan', created.accountId, '--rate', '0.001', '--burst', '1', '--quota', '500', '--period', 'week', '--json', '--data-dir', dataDir]);
    const first = await call(api.port, '/v1/account/usage', { keys: created.keys });
    const second = await call(api.port, '/v1/whoami', { keys: created.keys });
    const reset = await admin(['set-plan', created.accountId, '--default', '--data-dir', dataDir]);
    const after = await call(api.port, '/v1/whoami', { keys: created.keys });

    // Assess
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual({ accountId: created.accountId, plan: { rateLimit: 0.001, burstLimit: 1, quota: { limit: 500, period: 'WEEK' } } });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ plan: { rateLimit: 0.001, burstLimit: 1, quota: { limit: 500, period: 'WEEK' } } });
    expect(second.status).toBe(429);
    expect(second.json).toEqual({ message: 'Too Many Requests' });
    expect(reset.code).toBe(0);
    expect(reset.stdout).toContain('the default plan');
    expect(after.status).toBe(200);
  }, 240_000);

  it('refuses a plan it cannot apply, naming the problem, and changes nothing', async () => {
    const noBurst = await admin(['set-plan', created.accountId, '--rate', '5', '--data-dir', dataDir]);
    const badPeriod = await admin(['set-plan', created.accountId, '--rate', '5', '--burst', '10', '--quota', '9', '--period', 'YEAR', '--data-dir', dataDir]);
    const zeroRate = await admin(['set-plan', created.accountId, '--rate', '0', '--burst', '10', '--data-dir', dataDir]);
    const whoami = await call(api.port, '/v1/whoami', { keys: created.keys });

    expect(noBurst.code).toBe(2);
    expect(noBurst.stderr).toContain('--rate and --burst');
    expect(badPeriod.code).toBe(1);
    expect(badPeriod.stderr).toContain('DAY, WEEK, MONTH');
    expect(zeroRate.code).toBe(1);
    expect(zeroRate.stderr).toContain('rateLimit must be');
    expect(whoami.status).toBe(200);
  }, 240_000);
});

// Last: it changes the account key the other tests use.
describe('roll-account-key', () => {
  it('gives an owner locked out a new account key, printed once, and the previous one stops at once', async () => {
    // Prepare: an Allow cached for the current keys.
    expect((await call(api.port, '/v1/whoami', { keys: created.keys })).status).toBe(200);

    // Act
    const result = await admin(['roll-account-key', created.accountId, '--json', '--data-dir', dataDir]);
    const output = JSON.parse(result.stdout) as { accountKey: string; previousKeyExpiresAt: string | null };
    const old = await call(api.port, '/v1/whoami', { keys: created.keys });
    const rolled = await call(api.port, '/v1/whoami', { keys: { ...created.keys, accountKey: output.accountKey } });

    // Assess
    expect(result.code).toBe(0);
    expect(output.previousKeyExpiresAt).toBeNull();
    expect(old.status).toBe(401);
    expect(rolled.status).toBe(200);
  }, 240_000);

  it('refuses a grace period out of range with exit code 2', async () => {
    const result = await admin(['roll-account-key', created.accountId, '--grace', '604801', '--data-dir', dataDir]);

    expect(result.code).toBe(2);
    expect(result.stdout).not.toMatch(/lka_/);
  }, 120_000);
});
