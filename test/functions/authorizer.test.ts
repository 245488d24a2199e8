import { randomBytes } from 'node:crypto';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { AuthorizerFaultError, createAuthorizerHandler } from '#functions/authorizer.ts';
import { apiBaseArn } from '#shared/authorization/policies.ts';
import { evaluatePolicy } from '#local/gateway/policy-evaluator.ts';
import { PepperRing } from '#shared/domain/hashing.ts';
import { newId } from '#shared/domain/ids.ts';
import { formatAccountKey, formatUserKey } from '#shared/domain/key-format.ts';
import type { Role } from '#shared/domain/roles.ts';
import { UNTAGGED_SECRET, newSecretTag } from '#shared/domain/secret-tags.ts';
import type { AuthorizationRecords } from '#shared/ports/credentials.ts';
import { ROUTES } from '#shared/http/routes.ts';
import requestFixture from '#test/events/authorizer-request.json' with { type: 'json' };
import forwardedFixture from '#test/events/authorizer-request-forwarded.json' with { type: 'json' };
import { FakeCredentialStore } from '#test/support/fakes/credential-store.ts';
import { quietLogger } from '#test/support/fakes/logger.ts';

/**
 * The handler's decisions against an in-memory CredentialStore (the port, not a DynamoDB
 * imitation); the SDK-level behaviour (round trips, KMS calls, faults) is in
 * authorizer-sdk.test.ts.
 */

type Fixture = typeof requestFixture | typeof forwardedFixture;

/** The fixture with its key headers (whatever their case) set to these values; undefined drops the header. */
function eventWith(fixture: Fixture, keys: { accountKey?: string | undefined; userKey?: string | undefined }, sourceIp?: string): APIGatewayRequestAuthorizerEvent {
  const event = structuredClone(fixture) as unknown as APIGatewayRequestAuthorizerEvent;
  const replace = (name: string): string | undefined =>
    name.toLowerCase() === 'x-api-key' ? keys.accountKey : name.toLowerCase() === 'x-api-secret-key' ? keys.userKey : name;
  const headers: Record<string, string | undefined> = {};
  const multiValueHeaders: Record<string, string[] | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    const replaced = replace(name);
    if (replaced === name) headers[name] = value;
    else if (replaced !== undefined) headers[name] = replaced;
  }
  for (const [name, values] of Object.entries(event.multiValueHeaders ?? {})) {
    const replaced = replace(name);
    if (replaced === name) multiValueHeaders[name] = values;
    else if (replaced !== undefined) multiValueHeaders[name] = [replaced];
  }
  event.headers = headers;
  event.multiValueHeaders = multiValueHeaders;
  if (sourceIp !== undefined) event.requestContext.identity.sourceIp = sourceIp;
  return event;
}

const ring = new PepperRing([{ version: 1, secret: randomBytes(32) }]);

describe('authorizer', () => {
  let credentials: FakeCredentialStore;
  let pepperLoads: number;
  let pepperFailure: Error | undefined;
  let handler: ReturnType<typeof createAuthorizerHandler>;

  beforeEach(() => {
    credentials = new FakeCredentialStore();
    pepperLoads = 0;
    pepperFailure = undefined;
    handler = createAuthorizerHandler({
      credentials,
      peppers: () => {
        pepperLoads += 1;
        return pepperFailure === undefined ? Promise.resolve(ring) : Promise.reject(pepperFailure);
      },
      // What is logged is asserted in authorizer-logs.test.ts.
      logger: quietLogger(),
    });
  });

  function provision(overrides: { role?: Role; cidrs?: string[]; apiEnabled?: boolean } = {}) {
    const accountId = newId();
    const keyId = newId();
    const userId = newId();
    const accountKey = formatAccountKey(accountId);
    const userKey = formatUserKey(accountId, keyId);
    const accountDigest = ring.digest(accountKey);
    const userDigest = ring.digest(userKey);
    credentials.records.set(`${accountId}/${keyId}`, {
      account: { apiEnabled: overrides.apiEnabled ?? true, accountKeyHash: accountDigest.hash, accountKeyPepperVersion: 1 },
      key: {
        userId,
        role: overrides.role ?? 'owner',
        secretHash: userDigest.hash,
        pepperVersion: userDigest.pepperVersion,
        cidrs: overrides.cidrs ?? [],
      },
    });
    return { accountId, keyId, userId, accountKey, userKey };
  }

  const apiBase = apiBaseArn(requestFixture.methodArn);
  const arnOf = (method: string, path: string): string => `${apiBase}/${method}${path.replace(/\{\w+\}/g, () => newId())}`;

  describe('allow', () => {
    it('answers valid keys with the principal, its context and a policy for every route of its role', async () => {
      // Prepare
      const { accountId, keyId, userId, accountKey, userKey } = provision({ role: 'viewer' });

      // Act
      const result = await handler(eventWith(requestFixture, { accountKey, userKey }));

      // Assess
      expect(result.principalId).toBe(userId);
      // Stored without secret tags: the context names the untagged slots.
      expect(result.context).toEqual({ accountId, userId, role: 'viewer', keyId, accountKeyTag: UNTAGGED_SECRET, userKeyTag: UNTAGGED_SECRET });
      for (const route of ROUTES) {
        const expected = (route.roles as readonly string[]).includes('viewer') ? 'allow' : 'implicit-deny';
        expect(evaluatePolicy(result.policyDocument, arnOf(route.method, route.path)), `${route.method} ${route.path}`).toBe(expected);
      }
    });

    it('passes on the tags of the two secrets that matched, and nothing of the secrets or their digests', async () => {
      // Prepare
      const { accountId, keyId, accountKey, userKey } = provision();
      const stored = credentials.records.get(`${accountId}/${keyId}`);
      const tags = { accountKey: newSecretTag(), userKey: newSecretTag() };
      if (stored?.account === undefined || stored.key === undefined) throw new Error('not provisioned');
      credentials.records.set(`${accountId}/${keyId}`, {
        account: { ...stored.account, accountKeyTag: tags.accountKey },
        key: { ...stored.key, secretTag: tags.userKey },
      });

      // Act
      const result = await handler(eventWith(requestFixture, { accountKey, userKey }));

      // Assess
      expect(result.context).toMatchObject({ accountKeyTag: tags.accountKey, userKeyTag: tags.userKey });
      const digests = [stored.account.accountKeyHash, stored.key.secretHash].flatMap((d) => [Buffer.from(d).toString('hex'), Buffer.from(d).toString('base64')]);
      for (const value of Object.values(result.context ?? {}).map(String)) {
        for (const secret of [accountKey, userKey, ...digests]) expect(value.includes(secret)).toBe(false);
      }
      // (The ids are part of the key strings by design; the tags are not part of anything.)
      for (const secret of [accountKey, userKey, ...digests]) expect(secret.includes(tags.accountKey) || secret.includes(tags.userKey)).toBe(false);
    });

    it('builds the policy from the API and stage, not from the one method ARN it was asked about', async () => {
      // Prepare: asked about GET /v1/whoami, the cached policy must also serve GET /v1/logs.
      const { accountKey, userKey } = provision({ role: 'logs-viewer' });

      // Act
      const result = await handler(eventWith(requestFixture, { accountKey, userKey }));

      // Assess
      expect(evaluatePolicy(result.policyDocument, `${apiBase}/GET/v1/logs`)).toBe('allow');
      expect(evaluatePolicy(result.policyDocument, `${apiBase}/GET/v1/users`)).toBe('implicit-deny');
    });

    it('reads header names case-insensitively', async () => {
      // Prepare: this fixture spells them X-Api-Key and X-API-SECRET-KEY.
      const { accountKey, userKey } = provision();

      // Act
      const result = await handler(eventWith(forwardedFixture, { accountKey, userKey }));

      // Assess
      expect(result.context).toMatchObject({ role: 'owner' });
    });

    it('reads the store once per request', async () => {
      // Prepare
      const { accountId, keyId, accountKey, userKey } = provision();

      // Act
      await handler(eventWith(requestFixture, { accountKey, userKey }));

      // Assess
      expect(credentials.reads).toEqual([{ accountId, keyId }]);
    });
  });

  describe('401 without any I/O', () => {
    it.each([
      ['no headers at all', () => ({})],
      ['no account key', (k: Keys) => ({ userKey: k.userKey })],
      ['no user key', (k: Keys) => ({ accountKey: k.accountKey })],
      ['an empty account key', (k: Keys) => ({ accountKey: '', userKey: k.userKey })],
      ['the keys swapped', (k: Keys) => ({ accountKey: k.userKey, userKey: k.accountKey })],
      ['a bad checksum', (k: Keys) => ({ accountKey: k.accountKey, userKey: k.userKey.slice(0, -1) + (k.userKey.endsWith('0') ? '1' : '0') })],
      ['a truncated account key', (k: Keys) => ({ accountKey: k.accountKey.slice(0, -1), userKey: k.userKey })],
      ['a lowercased key', (k: Keys) => ({ accountKey: k.accountKey.toLowerCase(), userKey: k.userKey })],
      ['a user key of another account', (k: Keys) => ({ accountKey: k.accountKey, userKey: formatUserKey(newId(), newId()) })],
      ['an account key of another account', (k: Keys) => ({ accountKey: formatAccountKey(newId()), userKey: k.userKey })],
    ])('refuses %s', async (_case, keysFor) => {
      // Prepare
      const keys = provision();

      // Act
      const outcome = handler(eventWith(requestFixture, keysFor(keys)));

      // Assess
      await expect(outcome).rejects.toThrow(new Error('Unauthorized'));
      expect(credentials.reads).toEqual([]);
      expect(pepperLoads).toBe(0);
    });

    it('refuses a key header sent twice with different values', async () => {
      // Prepare
      const keys = provision();
      const event = eventWith(requestFixture, keys);
      event.multiValueHeaders = { ...event.multiValueHeaders, 'x-api-secret-key': [keys.userKey, formatUserKey(keys.accountId, keys.keyId)] };

      // Act
      const outcome = handler(event);

      // Assess
      await expect(outcome).rejects.toThrow(new Error('Unauthorized'));
      expect(credentials.reads).toEqual([]);
    });
  });

  describe('401 after the read', () => {
    it.each([
      ['an unknown account', (k: Keys) => credentials.records.delete(`${k.accountId}/${k.keyId}`)],
      [
        'a deleted key',
        (k: Keys) => {
          const records = credentials.records.get(`${k.accountId}/${k.keyId}`)!;
          credentials.records.set(`${k.accountId}/${k.keyId}`, { ...records, key: undefined });
        },
      ],
      ['a disabled API', (k: Keys) => { patch(k, { apiEnabled: false }); }],
      ['a user now a manager', (k: Keys) => { patchKey(k, { role: 'manager' }); }],
      ['a user now a billing-admin', (k: Keys) => { patchKey(k, { role: 'billing-admin' }); }],
      ['an account key digest that does not match', (k: Keys) => { patch(k, { accountKeyHash: ring.digest(formatAccountKey(k.accountId)).hash }); }],
      ['a user key digest that does not match', (k: Keys) => { patchKey(k, { secretHash: ring.digest(formatUserKey(k.accountId, k.keyId)).hash }); }],
      ['a digest of an unknown pepper version', (k: Keys) => { patchKey(k, { pepperVersion: 7 }); }],
    ])('refuses %s', async (_case, change) => {
      // Prepare
      const keys = provision();
      change(keys);

      // Act
      const outcome = handler(eventWith(requestFixture, keys));

      // Assess
      await expect(outcome).rejects.toThrow(new Error('Unauthorized'));
      expect(credentials.reads).toHaveLength(1);
    });

    it('refuses a guessed user key for a real key id even from an allowed address', async () => {
      // Prepare: the 403 for a source address must not tell a guesser that the key id exists.
      const keys = provision({ cidrs: ['10.0.0.0/8'] });

      // Act
      const outcome = handler(eventWith(requestFixture, { ...keys, userKey: formatUserKey(keys.accountId, keys.keyId) }, '192.0.2.1'));

      // Assess
      await expect(outcome).rejects.toThrow(new Error('Unauthorized'));
    });
  });

  describe('403 by source address', () => {
    it('answers an address outside the allow list with an explicit Deny on every route', async () => {
      // Prepare
      const { userId, accountKey, userKey } = provision({ cidrs: ['10.0.0.0/8', '2001:db8::/32'] });

      // Act
      const result = await handler(eventWith(requestFixture, { accountKey, userKey }, '192.0.2.1'));

      // Assess
      expect(result.principalId).toBe(userId);
      for (const route of ROUTES) expect(evaluatePolicy(result.policyDocument, arnOf(route.method, route.path))).toBe('explicit-deny');
    });

    it('allows an address inside the allow list', async () => {
      // Prepare
      const { accountKey, userKey } = provision({ cidrs: ['10.0.0.0/8', '2001:db8::/32'] });

      // Act
      const v4 = await handler(eventWith(requestFixture, { accountKey, userKey }, '10.9.8.7'));
      const v6 = await handler(eventWith(requestFixture, { accountKey, userKey }, '2001:db8:0:1::5'));

      // Assess
      expect(evaluatePolicy(v4.policyDocument, requestFixture.methodArn)).toBe('allow');
      expect(evaluatePolicy(v6.policyDocument, requestFixture.methodArn)).toBe('allow');
    });

    it('ignores X-Forwarded-For, Forwarded and X-Real-IP: an allowed address in them lets nobody in', async () => {
      // Prepare: the fixture's forwarding headers all claim 10.1.2.3; the connection is 203.0.113.7.
      const { accountKey, userKey } = provision({ cidrs: ['10.1.2.0/24'] });

      // Act
      const result = await handler(eventWith(forwardedFixture, { accountKey, userKey }));

      // Assess
      expect(forwardedFixture.headers['X-Forwarded-For']).toContain('10.1.2.3');
      expect(evaluatePolicy(result.policyDocument, forwardedFixture.methodArn)).toBe('explicit-deny');
    });

    it('ignores X-Forwarded-For, Forwarded and X-Real-IP: a refused address in them keeps nobody out', async () => {
      // Prepare
      const { accountKey, userKey } = provision({ cidrs: ['203.0.113.0/24'] });

      // Act
      const result = await handler(eventWith(forwardedFixture, { accountKey, userKey }));

      // Assess
      expect(evaluatePolicy(result.policyDocument, forwardedFixture.methodArn)).toBe('allow');
    });
  });

  describe('the API switch (an account whose API is off)', () => {
    const switchArn = `${apiBase}/GET/v1/account`;
    const eventOn = (methodArn: string, keys: { accountKey: string; userKey: string }, sourceIp?: string) => ({
      ...eventWith(requestFixture, keys, sourceIp),
      methodArn,
    });

    it('gives an owner on a switch route an Allow of the switch routes and nothing else', async () => {
      // Prepare
      const keys = provision({ apiEnabled: false });

      // Act
      const result = await handler(eventOn(switchArn, keys));

      // Assess
      expect(result.context).toMatchObject({ role: 'owner', userId: keys.userId });
      for (const route of ROUTES) {
        const expected = ['GET /v1/account', 'PATCH /v1/account'].includes(`${route.method} ${route.path}`) ? 'allow' : 'implicit-deny';
        expect(evaluatePolicy(result.policyDocument, arnOf(route.method, route.path)), `${route.method} ${route.path}`).toBe(expected);
      }
    });

    it('refuses an owner on any other route with 401, not a restricted policy', async () => {
      // Prepare
      const keys = provision({ apiEnabled: false });

      // Act
      const outcome = handler(eventOn(`${apiBase}/GET/v1/api-keys`, keys));

      // Assess
      await expect(outcome).rejects.toThrow(new Error('Unauthorized'));
    });

    it.each(['viewer', 'logs-viewer'] as const)('refuses a %s even on a switch route', async (role) => {
      // Prepare
      const keys = provision({ apiEnabled: false, role });

      // Act
      const outcome = handler(eventOn(switchArn, keys));

      // Assess
      await expect(outcome).rejects.toThrow(new Error('Unauthorized'));
    });

    it("keeps the owner key's allow list on a switch route", async () => {
      // Prepare
      const keys = provision({ apiEnabled: false, cidrs: ['192.0.2.0/24'] });

      // Act
      const result = await handler(eventOn(switchArn, keys, '203.0.113.1'));

      // Assess
      expect(evaluatePolicy(result.policyDocument, switchArn)).toBe('explicit-deny');
    });

    it('gives the full policy of the role on a switch route while the API is on', async () => {
      // Prepare
      const keys = provision();

      // Act
      const result = await handler(eventOn(switchArn, keys));

      // Assess
      expect(evaluatePolicy(result.policyDocument, `${apiBase}/GET/v1/api-keys`)).toBe('allow');
    });
  });

  describe('faults', () => {
    it('fails with a fault, never Unauthorized and never a policy, when the store fails', async () => {
      // Prepare
      const keys = provision();
      credentials.failure = new Error('ProvisionedThroughputExceededException');

      // Act
      const outcome = handler(eventWith(requestFixture, keys));

      // Assess
      await expect(outcome).rejects.toBeInstanceOf(AuthorizerFaultError);
      await expect(outcome).rejects.not.toThrow('Unauthorized');
    });

    it('fails with a fault when the peppers cannot be loaded', async () => {
      // Prepare
      const keys = provision();
      pepperFailure = new Error('AccessDeniedException');

      // Act
      const outcome = handler(eventWith(requestFixture, keys));

      // Assess
      await expect(outcome).rejects.toBeInstanceOf(AuthorizerFaultError);
    });

    it('keeps a fault a fault even when the underlying error says Unauthorized', async () => {
      // Prepare
      const keys = provision();
      credentials.failure = new Error('Unauthorized');

      // Act
      const outcome = handler(eventWith(requestFixture, keys));

      // Assess
      await expect(outcome).rejects.toBeInstanceOf(AuthorizerFaultError);
    });

    it('fails with a fault on a method ARN that is not API Gateway', async () => {
      // Prepare
      const keys = provision();
      const event = eventWith(requestFixture, keys);
      event.methodArn = 'arn:aws:lambda:eu-west-1:123456789012:function:x';

      // Act
      const outcome = handler(event);

      // Assess
      await expect(outcome).rejects.toThrow(/not an execute-api method ARN/);
    });
  });

  type Keys = ReturnType<typeof provision>;

  function patch(k: Keys, account: Partial<NonNullable<AuthorizationRecords['account']>>): void {
    const records = credentials.records.get(`${k.accountId}/${k.keyId}`)!;
    credentials.records.set(`${k.accountId}/${k.keyId}`, { ...records, account: { ...records.account!, ...account } });
  }

  function patchKey(k: Keys, key: Partial<NonNullable<AuthorizationRecords['key']>>): void {
    const records = credentials.records.get(`${k.accountId}/${k.keyId}`)!;
    credentials.records.set(`${k.accountId}/${k.keyId}`, { ...records, key: { ...records.key!, ...key } });
  }
});
