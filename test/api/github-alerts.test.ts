import { type KeyObject, createHash, generateKeyPairSync, sign } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ApiHandler } from '#functions/commons/api-handler.ts';
import { createApiHandler } from '#functions/operations/all-groups.ts';
import { GITHUB_KEYS_URL_ENV } from '#shared/adapters/github-keys.ts';
import type { ApiDeps } from '#shared/ports/deps.ts';
import { LEAK_RECORD_DAYS } from '#shared/services/leaked-keys.ts';
import {
  type ApiResponse,
  type ApiTestBed,
  type GatewayTestBed,
  apiEvent,
  createApiTestBed,
  createGatewayTestBed,
  lambdaContext,
} from '#test/support/api-events.ts';
import { tableChanges } from '#test/support/table-stream.ts';
import { type KeyEndpoint, serveGitHubKeys } from '#test/support/fakes/github-keys-endpoint.ts';

/**
 * GitHub secret scanning alerts, signed with a generated P-256 key that a local key endpoint
 * serves as GitHub serves its own: a good alert deletes the user key and flags the account key
 * as a leak report does, and is labelled; anything not signed by a published key is a 401
 * problem document and changes nothing.
 */

const GITHUB = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const STRANGER = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const GITHUB_KEY_ID = 'bcb53661c06b4728e59d897fb6165d5c9cda0fd9cdf9d09ead458168deb7518c';

/** A bed whose leaked-keys handler reads its keys from `endpoint` (the handler reads the variable when it is built). */
async function bedOn(endpoint: KeyEndpoint): Promise<ApiTestBed> {
  vi.stubEnv(GITHUB_KEYS_URL_ENV, endpoint.url);
  try {
    return await createApiTestBed();
  } finally {
    vi.unstubAllEnvs();
  }
}

interface Signing {
  readonly key?: KeyObject;
  readonly identifier?: string | null;
  /** Sent instead of the body that was signed. */
  readonly sentBody?: string;
  readonly signature?: string | null;
}

function alertBody(alerts: readonly { token: string; type: string }[]): string {
  return JSON.stringify(alerts.map((a) => ({ ...a, url: 'https://github.com/octo/repo/blob/abc/config.env', source: 'content' })));
}

function alertCall(body: string, signing: Signing = {}): Parameters<ApiTestBed['call']>[2] {
  const signature = signing.signature === undefined ? sign('sha256', Buffer.from(body, 'utf8'), signing.key ?? GITHUB.privateKey).toString('base64') : signing.signature;
  const identifier = signing.identifier === undefined ? GITHUB_KEY_ID : signing.identifier;
  return {
    rawBody: signing.sentBody ?? body,
    headers: {
      'Content-Type': 'application/json',
      ...(identifier === null ? {} : { 'Github-Public-Key-Identifier': identifier }),
      ...(signature === null ? {} : { 'Github-Public-Key-Signature': signature }),
    },
  };
}

function sendAlert(bed: ApiTestBed, body: string, signing: Signing = {}): Promise<ApiResponse> {
  return bed.call('reportGitHubAlerts', null, alertCall(body, signing));
}

/**
 * Another Lambda container of the leaked-keys function: a handler of its own (a new service,
 * nothing in memory from the bed's), on the same table, reading its keys from `endpoint`.
 */
function anotherContainer(deps: ApiDeps, endpoint: KeyEndpoint): ApiHandler {
  vi.stubEnv(GITHUB_KEYS_URL_ENV, endpoint.url);
  try {
    return createApiHandler('leaked-keys', deps);
  } finally {
    vi.unstubAllEnvs();
  }
}

async function sendAlertTo(handler: ApiHandler, body: string): Promise<{ status: number; body: unknown }> {
  const result = await handler(apiEvent('reportGitHubAlerts', null, alertCall(body)), lambdaContext());
  return { status: result.statusCode, body: JSON.parse(result.body) as unknown };
}

const hex = (token: string): string => createHash('sha256').update(token).digest('hex');

describe('a GitHub secret scanning alert', () => {
  let endpoint: KeyEndpoint;
  let bed: ApiTestBed;

  beforeAll(async () => {
    endpoint = await serveGitHubKeys({ [GITHUB_KEY_ID]: GITHUB.publicKey });
    bed = await bedOn(endpoint);
  });

  afterAll(async () => {
    await endpoint.close();
  });

  async function actions(accountId: string): Promise<string[]> {
    return (await bed.deps.store.listEvents(accountId, { limit: 50 })).items.map((e) => e.action);
  }

  it('deletes the user key, flags the account key and labels each token; a repeat answers the same and writes nothing', async () => {
    // Prepare
    const other = await bed.otherAccount();
    const forged = `lks_${'A'.repeat(81)}`;
    const body = alertBody([
      { token: other.userKey, type: 'latchkey_user_key' },
      { token: other.accountKey, type: 'latchkey_account_key' },
      { token: forged, type: 'latchkey_user_key' },
    ]);

    // Act
    const first = await sendAlert(bed, body);
    const changesAfterFirst = (await tableChanges(bed.table)).length;
    const again = await sendAlert(bed, body);
    const changesAfterAgain = (await tableChanges(bed.table)).length;

    // Assess
    expect(first.status).toBe(200);
    expect(first.body).toEqual([
      { token_hash: hex(other.userKey), token_type: 'latchkey_user_key', label: 'true_positive' },
      { token_hash: hex(other.accountKey), token_type: 'latchkey_account_key', label: 'true_positive' },
      { token_hash: hex(forged), token_type: 'latchkey_user_key', label: 'false_positive' },
    ]);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(changesAfterAgain).toBe(changesAfterFirst);
    const logged = await actions(other.account.id);
    expect(logged.filter((a) => a === 'api-key.leak-reported')).toHaveLength(1);
    expect(logged.filter((a) => a === 'account-key.leak-reported')).toHaveLength(1);
    const held = await bed.deps.store.loadSecrets([{ accountId: other.account.id, keyId: other.keyId }, { accountId: other.account.id }]);
    expect(held.keys.get(`${other.account.id}/${other.keyId}`)).toBeUndefined();
    expect(held.accounts.get(other.account.id)?.accountKeyHash).toBeDefined();
    expect(endpoint.fetches).toBe(1);
  });

  it.each([
    ['a tampered body', (body: string): Signing => ({ sentBody: body.replace('content', 'commit') })],
    ['a signature by another key', (): Signing => ({ key: STRANGER.privateKey })],
    ['no identifier', (): Signing => ({ identifier: null })],
    ['no signature', (): Signing => ({ signature: null })],
    ['a signature that is not DER', (): Signing => ({ signature: Buffer.from('not a signature').toString('base64') })],
  ])('with %s is a 401 problem document and changes nothing', async (_name, signing) => {
    // Prepare
    const other = await bed.otherAccount();
    const body = alertBody([{ token: other.userKey, type: 'latchkey_user_key' }]);
    const changesBefore = (await tableChanges(bed.table)).length;

    // Act
    const response = await sendAlert(bed, body, signing(body));

    // Assess
    expect(response.status).toBe(401);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect((await tableChanges(bed.table)).length).toBe(changesBefore);
    expect(await actions(other.account.id)).not.toContain('api-key.leak-reported');
  });

  it('refuses a body that is not a list of 1 to 100 alerts, before anything is done', async () => {
    // Act
    const empty = await sendAlert(bed, '[]');
    const tooMany = await sendAlert(bed, alertBody(Array.from({ length: 101 }, () => ({ token: 'x', type: 'latchkey_user_key' }))));

    // Assess
    expect(empty.status).toBe(400);
    expect([400, 413]).toContain(tooMany.status);
  });
});

describe('a repeated GitHub alert answered by another container', () => {
  let endpoint: KeyEndpoint;
  let bed: ApiTestBed;

  beforeAll(async () => {
    endpoint = await serveGitHubKeys({ [GITHUB_KEY_ID]: GITHUB.publicKey });
    bed = await bedOn(endpoint);
  });

  afterAll(async () => {
    await endpoint.close();
  });

  async function leakRecord(accountId: string, token: string): Promise<Record<string, unknown> | undefined> {
    const key = { pk: `ACCOUNT#${accountId}`, sk: `LEAKED#${hex(token)}` };
    return (await bed.table.client.send(new GetCommand({ TableName: bed.table.tableName, Key: key, ConsistentRead: true }))).Item;
  }

  it('labels the user key the first alert deleted true_positive, from the leak record on the table, and writes nothing', async () => {
    // Prepare
    const other = await bed.otherAccount();
    const forged = `lks_${'C'.repeat(81)}`;
    const body = alertBody([
      { token: other.userKey, type: 'latchkey_user_key' },
      { token: other.accountKey, type: 'latchkey_account_key' },
      { token: forged, type: 'latchkey_user_key' },
    ]);
    const first = await sendAlert(bed, body);
    const fresh = anotherContainer(bed.deps, endpoint);
    const changesBefore = (await tableChanges(bed.table)).length;

    // Act
    const again = await sendAlertTo(fresh, body);

    // Assess
    expect(first.status).toBe(200);
    expect(again).toEqual({ status: 200, body: first.body });
    expect(again.body).toContainEqual({ token_hash: hex(other.userKey), token_type: 'latchkey_user_key', label: 'true_positive' });
    expect((await tableChanges(bed.table)).length).toBe(changesBefore);
    const logged = (await bed.deps.store.listEvents(other.account.id, { limit: 50 })).items.map((e) => e.action);
    expect(logged.filter((a) => a === 'api-key.leak-reported')).toHaveLength(1);
  });

  it('keeps, for each key a report acted on, only its SHA-256, under its account, until the TTL removes it', async () => {
    // Prepare
    const other = await bed.otherAccount();
    const body = alertBody([
      { token: other.userKey, type: 'latchkey_user_key' },
      { token: other.accountKey, type: 'latchkey_account_key' },
    ]);
    const before = Math.floor(Date.now() / 1000);

    // Act
    await sendAlert(bed, body);

    // Assess
    for (const token of [other.userKey, other.accountKey]) {
      const record = await leakRecord(other.account.id, token);
      expect(Object.keys(record ?? {}).sort()).toEqual(['expiresAt', 'pk', 'sk']);
      expect(JSON.stringify(record)).not.toContain(token);
      const days = ((record?.expiresAt as number) - before) / 86_400;
      expect(days).toBeGreaterThanOrEqual(LEAK_RECORD_DAYS);
      expect(days).toBeLessThan(LEAK_RECORD_DAYS + 1);
    }
    expect(await leakRecord(bed.account.account.id, other.userKey)).toBeUndefined();
  });

  it('labels true_positive a key the public leak route deleted before GitHub reported it', async () => {
    // Prepare
    const other = await bed.otherAccount();
    const reported = await bed.call('reportLeakedKeys', null, { body: { keys: [other.userKey] } });

    // Act
    const alert = await sendAlertTo(anotherContainer(bed.deps, endpoint), alertBody([{ token: other.userKey, type: 'latchkey_user_key' }]));

    // Assess
    expect(reported.status).toBe(202);
    expect(alert.body).toEqual([{ token_hash: hex(other.userKey), token_type: 'latchkey_user_key', label: 'true_positive' }]);
  });

  it('no longer counts a leak record past its days: the deleted key is then labelled false_positive', async () => {
    // Prepare
    const other = await bed.otherAccount();
    const body = alertBody([{ token: other.userKey, type: 'latchkey_user_key' }]);
    await sendAlert(bed, body);
    const later = new Date(Date.now() + (LEAK_RECORD_DAYS + 1) * 86_400_000);

    // Act
    const alert = await sendAlertTo(anotherContainer({ ...bed.deps, now: () => later }, endpoint), body);

    // Assess: the record is still on the table (TTL removes it some time after), but not read as live.
    expect(await leakRecord(other.account.id, other.userKey)).toBeDefined();
    expect(alert.body).toEqual([{ token_hash: hex(other.userKey), token_type: 'latchkey_user_key', label: 'false_positive' }]);
  });

  it('reads no leak record for a token that is live, nor for one that is no Latchkey key', async () => {
    // Prepare
    const other = await bed.otherAccount();
    const store = bed.deps.store;
    const asked: unknown[] = [];
    const counting = new Proxy(store, {
      get(target, name) {
        if (name === 'leaksRecorded') {
          return (...args: Parameters<typeof store.leaksRecorded>) => {
            asked.push(args[0]);
            return target.leaksRecorded(...args);
          };
        }
        const value: unknown = Reflect.get(target, name, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const body = alertBody([
      { token: other.accountKey, type: 'latchkey_account_key' },
      { token: `lks_${'D'.repeat(81)}`, type: 'latchkey_user_key' },
      { token: 'ghp_not-ours', type: 'latchkey_user_key' },
    ]);

    // Act
    const alert = await sendAlertTo(anotherContainer({ ...bed.deps, store: counting }, endpoint), body);

    // Assess
    expect(alert.status).toBe(200);
    expect(asked).toEqual([]);
  });
});

describe('a GitHub alert signed with a key identifier not in the cached list', () => {
  it('fetches the list once more, then answers 401', async () => {
    // Prepare
    const endpoint = await serveGitHubKeys({ [GITHUB_KEY_ID]: GITHUB.publicKey });
    const bed = await bedOn(endpoint);
    const body = alertBody([{ token: bed.account.userKey, type: 'latchkey_user_key' }]);
    await sendAlert(bed, alertBody([{ token: `lks_${'B'.repeat(81)}`, type: 'latchkey_user_key' }]));

    // Act
    const unknown = await sendAlert(bed, body, { identifier: 'rotated-in-later', key: STRANGER.privateKey });
    const unknownAgain = await sendAlert(bed, body, { identifier: 'rotated-in-later', key: STRANGER.privateKey });

    // Assess
    await endpoint.close();
    expect([unknown.status, unknownAgain.status]).toEqual([401, 401]);
    // The first alert's fetch, one for the unknown identifier; the second is within the minute.
    expect(endpoint.fetches).toBe(2);
    expect(await bed.deps.store.listEvents(bed.account.account.id, { limit: 50 }).then((p) => p.items.map((e) => e.action))).not.toContain('api-key.leak-reported');
  });
});

describe('a GitHub alert through the local gateway', () => {
  let endpoint: KeyEndpoint;
  let bed: GatewayTestBed;

  beforeAll(async () => {
    endpoint = await serveGitHubKeys({ [GITHUB_KEY_ID]: GITHUB.publicKey });
    vi.stubEnv(GITHUB_KEYS_URL_ENV, endpoint.url);
    try {
      bed = await createGatewayTestBed();
    } finally {
      vi.unstubAllEnvs();
    }
  });

  afterAll(async () => {
    await endpoint.close();
  });

  function send(body: string, signature: string): Promise<ApiResponse> {
    return bed.request('reportGitHubAlerts', {
      keys: {},
      rawBody: body,
      headers: { 'content-type': 'application/json', 'github-public-key-identifier': GITHUB_KEY_ID, 'github-public-key-signature': signature },
    });
  }

  it('verifies the body byte for byte as sent (spacing and non-ASCII kept) and deletes the reported key; the key no longer authorizes', async () => {
    // Prepare
    const account = await bed.newAccount();
    const user = await bed.addUser(account, 'viewer');
    // Not JSON.stringify's spacing, and a non-ASCII URL: re-serialising either would break the signature.
    const body = `[ {"token": "${user.userKey}", "type": "latchkey_user_key", "url": "https://github.com/octo/répo", "source": "content"} ]`;
    const signature = sign('sha256', Buffer.from(body, 'utf8'), GITHUB.privateKey).toString('base64');

    // Act
    const response = await send(body, signature);
    const tampered = await send(body.replace('content', 'commit'), signature);
    const whoami = await bed.request('whoami', { keys: user });

    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toEqual([{ token_hash: hex(user.userKey), token_type: 'latchkey_user_key', label: 'true_positive' }]);
    expect(tampered.status).toBe(401);
    expect(tampered.headers['content-type']).toContain('application/problem+json');
    expect(whoami.status).toBe(401);
  });
});
