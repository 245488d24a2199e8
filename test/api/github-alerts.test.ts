import { type KeyObject, createHash, generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GITHUB_KEYS_URL_ENV } from '#shared/adapters/github-keys.ts';
import { type ApiResponse, type ApiTestBed, type GatewayTestBed, createApiTestBed, createGatewayTestBed } from '#test/support/api-events.ts';
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

function sendAlert(bed: ApiTestBed, body: string, signing: Signing = {}): Promise<ApiResponse> {
  const signature = signing.signature === undefined ? sign('sha256', Buffer.from(body, 'utf8'), signing.key ?? GITHUB.privateKey).toString('base64') : signing.signature;
  const identifier = signing.identifier === undefined ? GITHUB_KEY_ID : signing.identifier;
  return bed.call('reportGitHubAlerts', null, {
    rawBody: signing.sentBody ?? body,
    headers: {
      'Content-Type': 'application/json',
      ...(identifier === null ? {} : { 'Github-Public-Key-Identifier': identifier }),
      ...(signature === null ? {} : { 'Github-Public-Key-Signature': signature }),
    },
  });
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
