import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authorizationLapsed } from '#functions/commons/api-handler.ts';
import { type CachedPolicy, LocalAuthorizerCache } from '#local/gateway/authorizer-cache.ts';
import { type ParsedCredentials, decide } from '#shared/authorization/decision.ts';
import { PepperRing } from '#shared/domain/hashing.ts';
import { newId } from '#shared/domain/ids.ts';
import { formatAccountKey, formatUserKey } from '#shared/domain/key-format.ts';
import { graceDeadline, validateKeyExpiry } from '#shared/domain/key-lifecycle.ts';
import { UNTAGGED_SECRET, newSecretTag } from '#shared/domain/secret-tags.ts';
import type { AuthorizationRecords } from '#shared/ports/credentials.ts';
import { apiEvent } from '#test/support/api-events.ts';

/** The pure rules of a key's life: expiry and grace periods in the decision, and where a cached Allow stops. */

const ring = new PepperRing([{ version: 1, secret: randomBytes(32) }]);
const accountId = newId();
const keyId = newId();
const NOW = Date.parse('2030-01-01T00:00:00Z');

function credentials(accountKey: string, userKey: string): ParsedCredentials {
  return { accountId, keyId, accountKey, userKey };
}

function records(accountKey: string, userKey: string, extra: { key?: object; account?: object } = {}): AuthorizationRecords {
  return {
    account: { apiEnabled: true, accountKeyHash: ring.digest(accountKey).hash, accountKeyPepperVersion: 1, ...extra.account },
    key: { userId: newId(), role: 'owner', secretHash: ring.digest(userKey).hash, pepperVersion: 1, cidrs: [], ...extra.key },
  };
}

describe('decide', () => {
  const accountKey = formatAccountKey(accountId);
  const userKey = formatUserKey(accountId, keyId);
  const oldUserKey = formatUserKey(accountId, keyId);
  const oldAccountKey = formatAccountKey(accountId);
  const previousSecret = (expiresAt: number) => ({ previousSecret: { hash: ring.digest(oldUserKey).hash, pepperVersion: 1, expiresAt } });
  const previousAccountKey = (expiresAt: number) => ({ previousAccountKey: { hash: ring.digest(oldAccountKey).hash, pepperVersion: 1, expiresAt } });

  it('allows a key before its expiry, with the expiry as the deadline, and refuses it from then on', () => {
    const stored = records(accountKey, userKey, { key: { expiresAt: NOW + 1000 } });
    expect(decide(credentials(accountKey, userKey), stored, ring, '192.0.2.1', NOW)).toMatchObject({ outcome: 'allow', validUntil: NOW + 1000 });
    expect(decide(credentials(accountKey, userKey), stored, ring, '192.0.2.1', NOW + 1000)).toMatchObject({ reason: 'key-expired' });
  });

  it('allows a rolled secret until the end of its grace and never after; the new secret has no deadline', () => {
    const stored = records(accountKey, userKey, { key: previousSecret(NOW + 5000) });
    expect(decide(credentials(accountKey, oldUserKey), stored, ring, '192.0.2.1', NOW)).toMatchObject({ outcome: 'allow', validUntil: NOW + 5000 });
    expect(decide(credentials(accountKey, oldUserKey), stored, ring, '192.0.2.1', NOW + 5000)).toMatchObject({ reason: 'grace-period-over' });
    const current = decide(credentials(accountKey, userKey), stored, ring, '192.0.2.1', NOW + 5000);
    expect(current).toEqual({ outcome: 'allow', principal: expect.any(Object) as unknown, presentedSecrets: expect.any(Object) as unknown });
  });

  it('names the secrets that matched by their tags, current or previous, and untagged ones as such', () => {
    const tags = { key: newSecretTag(), previousKey: newSecretTag(), account: newSecretTag(), previousAccount: newSecretTag() };
    const stored = records(accountKey, userKey, {
      key: { secretTag: tags.key, previousSecret: { ...previousSecret(NOW + 5000).previousSecret, tag: tags.previousKey } },
      account: { accountKeyTag: tags.account, previousAccountKey: { ...previousAccountKey(NOW + 5000).previousAccountKey, tag: tags.previousAccount } },
    });
    expect(decide(credentials(accountKey, userKey), stored, ring, '192.0.2.1', NOW)).toMatchObject({
      presentedSecrets: { accountKey: tags.account, userKey: tags.key },
    });
    expect(decide(credentials(oldAccountKey, oldUserKey), stored, ring, '192.0.2.1', NOW)).toMatchObject({
      presentedSecrets: { accountKey: tags.previousAccount, userKey: tags.previousKey },
    });
    const untagged = records(accountKey, userKey, { key: previousSecret(NOW + 5000) });
    expect(decide(credentials(accountKey, oldUserKey), untagged, ring, '192.0.2.1', NOW)).toMatchObject({
      presentedSecrets: { accountKey: UNTAGGED_SECRET, userKey: UNTAGGED_SECRET },
    });
  });

  it('allows a rolled account key until the end of its grace, and takes the earliest of all deadlines', () => {
    const stored = records(accountKey, userKey, { account: previousAccountKey(NOW + 9000), key: { ...previousSecret(NOW + 7000), expiresAt: NOW + 8000 } });
    expect(decide(credentials(oldAccountKey, userKey), stored, ring, '192.0.2.1', NOW)).toMatchObject({ validUntil: NOW + 8000 });
    expect(decide(credentials(oldAccountKey, oldUserKey), stored, ring, '192.0.2.1', NOW)).toMatchObject({ validUntil: NOW + 7000 });
    expect(decide(credentials(oldAccountKey, userKey), stored, ring, '192.0.2.1', NOW + 9000)).toMatchObject({ reason: 'grace-period-over' });
  });

  it('never lets the grace of one key answer for another value', () => {
    const stored = records(accountKey, userKey, { key: previousSecret(NOW + 5000) });
    expect(decide(credentials(accountKey, formatUserKey(accountId, keyId)), stored, ring, '192.0.2.1', NOW)).toMatchObject({ reason: 'user-key-mismatch' });
  });
});

describe('the deadline of a cached Allow', () => {
  it('is refused by the handlers from the deadline on, and anything unreadable counts as passed', () => {
    const event = (validUntil: unknown) => {
      const base = apiEvent('whoami', { accountId, userId: newId(), role: 'owner', keyId });
      return { ...base, requestContext: { ...base.requestContext, authorizer: { ...base.requestContext.authorizer, validUntil } } };
    };
    const deadline = new Date(NOW).toISOString();
    expect(authorizationLapsed(event(deadline), new Date(NOW - 1))).toBe(false);
    expect(authorizationLapsed(event(deadline), new Date(NOW))).toBe(true);
    expect(authorizationLapsed(event('soon'), new Date(NOW - 1))).toBe(true);
    expect(authorizationLapsed(apiEvent('whoami', { accountId, userId: newId(), role: 'owner', keyId }), new Date(NOW))).toBe(false);
  });

  it('ends the local cache entry, however long the cache TTL', () => {
    let now = NOW;
    const cache = new LocalAuthorizerCache(300, () => now);
    const policy = (validUntil?: string): CachedPolicy => ({
      principalId: 'u',
      policyDocument: { Version: '2012-10-17', Statement: [] },
      context: validUntil === undefined ? {} : ({ validUntil }),
    });
    cache.put('with', policy(new Date(NOW + 10_000).toISOString()), cache.generation);
    cache.put('without', policy(), cache.generation);
    now += 10_000;
    expect(cache.get('with')).toBeUndefined();
    expect(cache.get('without')).toBeDefined();
  });
});

describe('key lifecycle rules', () => {
  it('caps a grace period at the key expiry, and has none for a grace of 0', () => {
    const now = new Date(NOW);
    expect(graceDeadline(now, 0)).toBeUndefined();
    expect(graceDeadline(now, 60)).toBe(new Date(NOW + 60_000).toISOString());
    expect(graceDeadline(now, 60, new Date(NOW + 1000).toISOString())).toBe(new Date(NOW + 1000).toISOString());
  });

  it('normalises an RFC 3339 expiry with an offset to UTC', () => {
    expect(validateKeyExpiry('2030-01-01T02:00:00+02:00', new Date(NOW - 1000))).toBe('2030-01-01T00:00:00.000Z');
  });
});
