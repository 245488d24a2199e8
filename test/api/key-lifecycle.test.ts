import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { USER_KEY_PATTERN, ACCOUNT_KEY_PATTERN } from '#shared/domain/key-format.ts';
import { type GatewayTestBed, type KeyPair, createGatewayTestBed } from '#test/support/api-events.ts';

/**
 * Key lifecycle through the whole request path (local gateway with its authorizer cache on,
 * the real authorizer and handlers, DynamoDB Local), on a clock the test moves: expiry, rolls
 * with a grace period, account key rolls and leak reports.
 */

let bed: GatewayTestBed;
let clock: number;

beforeAll(async () => {
  clock = Date.now();
  bed = await createGatewayTestBed({ authorizerTtlSeconds: 300, now: () => new Date(clock) });
});

beforeEach(() => {
  clock = Date.now();
});

const HOUR = 3_600_000;

function userKeys(account: KeyPair, userKey: string): KeyPair {
  return { ...account, userKey };
}

async function whoamiStatus(keys: { accountKey: string; userKey: string }): Promise<number> {
  return (await bed.request('whoami', { keys })).status;
}

async function newKey(account: KeyPair, body: Record<string, unknown> = {}): Promise<{ id: string; secret: string; json: Record<string, unknown> }> {
  const response = await bed.request('createApiKey', {
    keys: account,
    body: { name: `lifecycle-${Math.random().toString(36).slice(2, 12)}`, userId: account.principal.userId, ...body },
  });
  expect(response.status).toBe(201);
  return { id: response.json.id as string, secret: response.json.secret as string, json: response.json };
}

async function actions(account: KeyPair): Promise<{ action: string; target: string; actor: unknown }[]> {
  const page = await bed.app.store.listEvents(account.principal.accountId, { limit: 20 });
  return page.items.map((e) => ({ action: e.action, target: e.target, actor: e.actor }));
}

describe('key expiry', () => {
  it('shows expiresAt on the key, normalised to UTC, and null for a key without one', async () => {
    // Prepare
    const account = await bed.newAccount();
    const expiresAt = new Date(clock + HOUR);
    const withOffset = `${new Date(expiresAt.getTime() + 2 * HOUR).toISOString().slice(0, 19)}+02:00`;

    // Act
    const expiring = await newKey(account, { expiresAt: withOffset });
    const forever = await newKey(account);
    const listed = await bed.request('getApiKey', { keys: account, params: { keyId: expiring.id } });

    // Assess
    expect(expiring.json.expiresAt).toBe(`${expiresAt.toISOString().slice(0, 19)}.000Z`);
    expect(listed.json.expiresAt).toBe(expiring.json.expiresAt);
    expect(forever.json.expiresAt).toBeNull();
  });

  it.each([
    ['in the past', () => new Date(clock - 1000).toISOString(), 'future'],
    ['now', () => new Date(clock).toISOString(), 'future'],
    ['more than 366 days ahead', () => new Date(clock + 367 * 24 * HOUR).toISOString(), 'maximum'],
    ['not a date', () => 'next tuesday', 'datetime'],
    ['a date without a time', () => '2030-01-01', 'datetime'],
  ])('refuses an expiry %s with 400 naming the rule', async (_case, expiresAt, rule) => {
    // Act
    const response = await bed.request('createApiKey', {
      body: { name: `lifecycle-bad-${rule}`, userId: bed.owner.principal.userId, expiresAt: expiresAt() },
    });

    // Assess
    expect(response.status).toBe(400);
    expect(response.json.errors).toEqual([expect.objectContaining({ field: 'expiresAt', rule })]);
  });

  it('answers 401 once the key has expired, even though an Allow was cached before', async () => {
    // Prepare
    const account = await bed.newAccount();
    const key = await newKey(account, { expiresAt: new Date(clock + HOUR).toISOString() });
    const keys = userKeys(account, key.secret);
    expect(await whoamiStatus(keys)).toBe(200);
    expect(bed.app.authorizerCache.size).toBeGreaterThan(0);

    // Act
    clock += HOUR;
    const status = await whoamiStatus(keys);
    await bed.app.authorizerCache.flush();
    const uncached = await whoamiStatus(keys);

    // Assess
    expect(status).toBe(401);
    expect(uncached).toBe(401);
  });
});

describe('POST /v1/api-keys/{keyId}/roll', () => {
  it('returns a new secret once, keeps id, name and allow list, and with no grace refuses the old secret at once', async () => {
    // Prepare
    const account = await bed.newAccount();
    const key = await newKey(account);
    await bed.request('addCidrRule', { keys: account, params: { keyId: key.id }, body: { cidr: '0.0.0.0/0' } });
    const oldKeys = userKeys(account, key.secret);
    expect(await whoamiStatus(oldKeys)).toBe(200);

    // Act
    const rolled = await bed.request('rollApiKey', { keys: account, params: { keyId: key.id }, body: { gracePeriodSeconds: 0 } });

    // Assess
    expect(rolled.status).toBe(200);
    expect(rolled.headers['cache-control']).toBe('no-store');
    const secret = rolled.json.secret as string;
    expect(secret).toMatch(USER_KEY_PATTERN);
    expect(secret).not.toBe(key.secret);
    expect(rolled.json).toMatchObject({ id: key.id, name: key.json.name, previousSecretExpiresAt: null });
    expect((rolled.json.cidrAllowList as { cidr: string }[]).map((r) => r.cidr)).toEqual(['0.0.0.0/0']);
    expect(await whoamiStatus(oldKeys)).toBe(401);
    expect(await whoamiStatus(userKeys(account, secret))).toBe(200);
    const events = await actions(account);
    expect(events).toContainEqual({ action: 'api-key.roll', target: `api-key/${key.id}`, actor: { userId: account.principal.userId, keyId: account.principal.keyId } });
    expect(JSON.stringify(events)).not.toContain(secret);
  });

  it('keeps the old secret working until previousSecretExpiresAt and never after, even with a cached Allow', async () => {
    // Prepare
    const account = await bed.newAccount();
    const key = await newKey(account);
    const oldKeys = userKeys(account, key.secret);

    // Act
    const rolled = await bed.request('rollApiKey', { keys: account, params: { keyId: key.id }, body: { gracePeriodSeconds: 600 } });
    const duringGrace = await whoamiStatus(oldKeys);
    clock += 600_000;
    const afterGrace = await whoamiStatus(oldKeys);

    // Assess
    expect(rolled.json.previousSecretExpiresAt).toBe(new Date(Date.parse(rolled.json.previousSecretExpiresAt as string)).toISOString());
    expect(Date.parse(rolled.json.previousSecretExpiresAt as string)).toBe(clock);
    expect(duringGrace).toBe(200);
    expect(afterGrace).toBe(401);
    expect(await whoamiStatus(userKeys(account, rolled.json.secret as string))).toBe(200);
  });

  it('ends the older secret at once when a key in its grace period is rolled again: at most two live secrets', async () => {
    // Prepare
    const account = await bed.newAccount();
    const key = await newKey(account);
    const first = await bed.request('rollApiKey', { keys: account, params: { keyId: key.id }, body: { gracePeriodSeconds: 600 } });
    expect(await whoamiStatus(userKeys(account, key.secret))).toBe(200);

    // Act
    const second = await bed.request('rollApiKey', { keys: account, params: { keyId: key.id }, body: { gracePeriodSeconds: 600 } });

    // Assess
    expect(second.status).toBe(200);
    expect(await whoamiStatus(userKeys(account, key.secret))).toBe(401);
    expect(await whoamiStatus(userKeys(account, first.json.secret as string))).toBe(200);
    expect(await whoamiStatus(userKeys(account, second.json.secret as string))).toBe(200);
  });

  it.each([[-1], [604_801], [1.5], ['60']])('refuses a grace period of %j with 400', async (gracePeriodSeconds) => {
    // Act
    const response = await bed.request('rollApiKey', { params: { keyId: bed.owner.principal.keyId }, body: { gracePeriodSeconds } });

    // Assess
    expect(response.status).toBe(400);
    expect(response.json.errors).toEqual([expect.objectContaining({ field: 'gracePeriodSeconds' })]);
  });

  it('refuses to roll an expired key with 409', async () => {
    // Prepare
    const account = await bed.newAccount();
    const key = await newKey(account, { expiresAt: new Date(clock + HOUR).toISOString() });
    clock += HOUR;

    // Act
    const response = await bed.request('rollApiKey', { keys: account, params: { keyId: key.id }, body: { gracePeriodSeconds: 0 } });

    // Assess
    expect(response.status).toBe(409);
  });

  it('answers 404 for a key that does not exist', async () => {
    // Act
    const response = await bed.request('rollApiKey', { params: { keyId: 'AAAAAAAAAAAAAAAA' }, body: { gracePeriodSeconds: 0 } });

    // Assess
    expect(response.status).toBe(404);
  });
});

describe('POST /v1/account/key/roll', () => {
  it('returns the new account key once, reveal shows it, and the old one works until previousKeyExpiresAt', async () => {
    // Prepare
    const account = await bed.newAccount();
    expect(await whoamiStatus(account)).toBe(200);

    // Act
    const rolled = await bed.request('rollAccountKey', { keys: account, body: { gracePeriodSeconds: 600 } });
    const accountKey = rolled.json.accountKey as string;
    const revealed = await bed.request('revealAccountKey', { keys: { ...account, accountKey } });
    const duringGrace = await whoamiStatus(account);
    clock += 600_000;
    const afterGrace = await whoamiStatus(account);

    // Assess
    expect(rolled.status).toBe(200);
    expect(rolled.headers['cache-control']).toBe('no-store');
    expect(accountKey).toMatch(ACCOUNT_KEY_PATTERN);
    expect(accountKey).not.toBe(account.accountKey);
    expect(Date.parse(rolled.json.previousKeyExpiresAt as string)).toBe(clock);
    expect(revealed.json.accountKey).toBe(accountKey);
    expect(duringGrace).toBe(200);
    expect(afterGrace).toBe(401);
    expect(await whoamiStatus({ ...account, accountKey })).toBe(200);
    const masked = await bed.request('getAccount', { keys: { ...account, accountKey } });
    expect((masked.json.accountKey as { masked: string }).masked.slice(-4)).toBe(accountKey.slice(-4));
    expect((await actions(account)).map((e) => e.action)).toContain('account-key.roll');
  });

  it('with no grace refuses the old account key at once, even though an Allow was cached before', async () => {
    // Prepare
    const account = await bed.newAccount();
    expect(await whoamiStatus(account)).toBe(200);

    // Act
    const rolled = await bed.request('rollAccountKey', { keys: account, body: { gracePeriodSeconds: 0 } });

    // Assess
    expect(rolled.json.previousKeyExpiresAt).toBeNull();
    expect(await whoamiStatus(account)).toBe(401);
    expect(await whoamiStatus({ ...account, accountKey: rolled.json.accountKey as string })).toBe(200);
  });
});

describe('POST /v1/leaked-keys', () => {
  it('answers 202 {} to keys that are malformed, unknown or of no account, and changes nothing', async () => {
    // Prepare
    const account = await bed.newAccount();
    const before = await actions(account);
    const unknownUserKey = account.userKey.slice(0, 20);

    // Act
    const response = await bed.request('reportLeakedKeys', { keys: {}, body: { keys: ['nonsense', unknownUserKey, 'lks_' + 'A'.repeat(81)] } });

    // Assess
    expect(response.status).toBe(202);
    expect(response.body).toEqual({});
    expect(await whoamiStatus(account)).toBe(200);
    expect(await actions(account)).toEqual(before);
  });

  it('deletes a reported user key at once, even though an Allow was cached before, and audits it without the key', async () => {
    // Prepare
    const account = await bed.newAccount();
    const key = await newKey(account);
    const keys = userKeys(account, key.secret);
    expect(await whoamiStatus(keys)).toBe(200);

    // Act
    const response = await bed.request('reportLeakedKeys', { keys: {}, body: { keys: [key.secret] } });

    // Assess
    expect(response.status).toBe(202);
    expect(response.body).toEqual({});
    expect(await whoamiStatus(keys)).toBe(401);
    expect((await bed.request('getApiKey', { keys: account, params: { keyId: key.id } })).status).toBe(404);
    const events = await actions(account);
    expect(events).toContainEqual({ action: 'api-key.leak-reported', target: `api-key/${key.id}`, actor: { userId: null, keyId: null } });
    expect(JSON.stringify(events)).not.toContain(key.secret);
  });

  it('ends the grace of a reported previous secret and keeps the key with its new secret', async () => {
    // Prepare
    const account = await bed.newAccount();
    const key = await newKey(account);
    const rolled = await bed.request('rollApiKey', { keys: account, params: { keyId: key.id }, body: { gracePeriodSeconds: 600 } });
    expect(await whoamiStatus(userKeys(account, key.secret))).toBe(200);

    // Act
    await bed.request('reportLeakedKeys', { keys: {}, body: { keys: [key.secret] } });

    // Assess
    expect(await whoamiStatus(userKeys(account, key.secret))).toBe(401);
    expect(await whoamiStatus(userKeys(account, rolled.json.secret as string))).toBe(200);
  });

  it('flags a reported account key for its owners without breaking it, until the key is rolled', async () => {
    // Prepare
    const account = await bed.newAccount();

    // Act
    const response = await bed.request('reportLeakedKeys', { keys: {}, body: { keys: [account.accountKey] } });
    const flagged = await bed.request('getAccount', { keys: account });
    const rolled = await bed.request('rollAccountKey', { keys: account, body: { gracePeriodSeconds: 0 } });
    const cleared = await bed.request('getAccount', { keys: { ...account, accountKey: rolled.json.accountKey as string } });

    // Assess
    expect(response.status).toBe(202);
    expect(response.body).toEqual({});
    expect(flagged.status).toBe(200);
    expect(flagged.json.accountKeyLeakReportedAt).toBe(new Date(clock).toISOString());
    expect(cleared.json.accountKeyLeakReportedAt).toBeNull();
    const events = await actions(account);
    expect(events.map((e) => e.action)).toContain('account-key.leak-reported');
    expect(JSON.stringify(events)).not.toContain(account.accountKey);
  });

  it('answers the same to a report of valid keys as to one of invalid keys', async () => {
    // Prepare
    const account = await bed.newAccount();
    const key = await newKey(account);

    // Act
    const valid = await bed.request('reportLeakedKeys', { keys: {}, body: { keys: [key.secret] } });
    const invalid = await bed.request('reportLeakedKeys', { keys: {}, body: { keys: [key.secret] } });

    // Assess
    expect([valid.status, valid.raw]).toEqual([invalid.status, invalid.raw]);
    expect(Object.keys(valid.headers).sort()).toEqual(Object.keys(invalid.headers).sort());
  });

  it.each([
    ['no keys', { keys: [] }, 'minimum'],
    ['101 keys', { keys: Array.from({ length: 101 }, (_v, i) => `k${i}`) }, 'maximum'],
    ['a key that is not a string', { keys: [42] }, 'type'],
    ['a string over 256 characters', { keys: ['x'.repeat(257)] }, 'maximum'],
    ['no keys field', {}, 'required'],
  ])('refuses %s with 400', async (_case, body, rule) => {
    // Act
    const response = await bed.request('reportLeakedKeys', { keys: {}, body });

    // Assess
    expect(response.status).toBe(400);
    expect(response.json.errors).toEqual([expect.objectContaining({ rule })]);
  });
});
