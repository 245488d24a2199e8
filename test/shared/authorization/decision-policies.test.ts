import { randomBytes } from 'node:crypto';
import type { PolicyDocument } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { decide, headerValues, parseCredentials, type ParsedCredentials } from '#shared/authorization/decision.ts';
import { iamGlobMatches } from '#shared/authorization/iam-glob.ts';
import { allowPolicy, apiBaseArn, denyAllPolicy, routeResource } from '#shared/authorization/policies.ts';
import { evaluatePolicy } from '#local/gateway/policy-evaluator.ts';
import { PepperRing } from '#shared/domain/hashing.ts';
import { newId } from '#shared/domain/ids.ts';
import { formatAccountKey, formatUserKey } from '#shared/domain/key-format.ts';
import { KEY_ROLES, type Role } from '#shared/domain/roles.ts';
import { UNTAGGED_SECRET } from '#shared/domain/secret-tags.ts';
import type { AuthorizationRecords } from '#shared/ports/credentials.ts';
import { ROUTES } from '#shared/http/routes.ts';

const API_BASE = 'arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod';

/** A concrete method ARN for a route, with every `{param}` filled by an id. */
function methodArnOf(method: string, path: string, base = API_BASE): string {
  return `${base}/${method}${path.replace(/\{\w+\}/g, () => newId())}`;
}

const ring = new PepperRing([{ version: 1, secret: randomBytes(32) }]);

function credentialsAndRecords(
  overrides: { role?: Role; cidrs?: string[]; apiEnabled?: boolean } = {},
): { credentials: ParsedCredentials; records: AuthorizationRecords } {
  const accountId = newId();
  const keyId = newId();
  const accountKey = formatAccountKey(accountId);
  const userKey = formatUserKey(accountId, keyId);
  const accountDigest = ring.digest(accountKey);
  const userDigest = ring.digest(userKey);
  return {
    credentials: { accountId, keyId, accountKey, userKey },
    records: {
      account: {
        apiEnabled: overrides.apiEnabled ?? true,
        accountKeyHash: accountDigest.hash,
        accountKeyPepperVersion: accountDigest.pepperVersion,
      },
      key: {
        userId: newId(),
        role: overrides.role ?? 'owner',
        secretHash: userDigest.hash,
        pepperVersion: userDigest.pepperVersion,
        cidrs: overrides.cidrs ?? [],
      },
    },
  };
}

describe('parseCredentials', () => {
  const accountId = newId();
  const keyId = newId();
  const accountKey = formatAccountKey(accountId);
  const userKey = formatUserKey(accountId, keyId);

  it('yields the ids embedded in two well-formed keys of one account', () => {
    // Act
    const result = parseCredentials({ accountKey: [accountKey], userKey: [userKey], sourceIp: '203.0.113.7' });

    // Assess
    expect(result).toEqual({ ok: true, credentials: { accountId, keyId, accountKey, userKey } });
  });

  it.each([
    ['no account key', [], [userKey], 'account-key-missing'],
    ['an empty account key', [''], [userKey], 'account-key-missing'],
    ['no user key', [accountKey], [], 'user-key-missing'],
    ['the keys swapped', [userKey], [accountKey], 'account-key-malformed'],
    ['a bad account key checksum', [accountKey.slice(0, -1) + (accountKey.endsWith('A') ? 'B' : 'A')], [userKey], 'account-key-malformed'],
    ['a truncated user key', [accountKey], [userKey.slice(0, -1)], 'user-key-malformed'],
    ['two different account keys', [accountKey, formatAccountKey(accountId)], [userKey], 'account-key-malformed'],
    ['two different user keys', [accountKey], [userKey, formatUserKey(accountId, keyId)], 'user-key-malformed'],
    ['a user key of another account', [accountKey], [formatUserKey(newId(), keyId)], 'account-mismatch'],
  ])('refuses %s', (_case, accountKeys, userKeys, reason) => {
    // Act
    const result = parseCredentials({ accountKey: accountKeys, userKey: userKeys, sourceIp: '203.0.113.7' });

    // Assess
    expect(result).toMatchObject({ ok: false, decision: { outcome: 'deny-unauthorized', reason } });
  });
});

describe('headerValues', () => {
  it('matches names case-insensitively across both header maps and drops repeats of one value', () => {
    // Act
    const values = headerValues({ 'X-Api-Key': 'a' }, { 'x-api-key': ['a'], 'X-API-KEY': ['b'], other: ['c'] }, 'x-api-key');

    // Assess
    expect(values.sort()).toEqual(['a', 'b']);
  });

  it('copes with API Gateway sending null maps', () => {
    expect(headerValues(null, null, 'x-api-key')).toEqual([]);
  });
});

describe('decide', () => {
  it('allows two valid keys of an enabled account from anywhere when the allow list is empty', () => {
    // Prepare
    const { credentials, records } = credentialsAndRecords({ role: 'viewer' });

    // Act
    const decision = decide(credentials, records, ring, '198.51.100.1');

    // Assess
    expect(decision).toEqual({
      outcome: 'allow',
      principal: { accountId: credentials.accountId, keyId: credentials.keyId, userId: records.key?.userId, role: 'viewer' },
      // Stored without tags: the untagged slots.
      presentedSecrets: { accountKey: UNTAGGED_SECRET, userKey: UNTAGGED_SECRET },
    });
  });

  it('refuses an unknown account and an unknown key', () => {
    // Prepare
    const { credentials, records } = credentialsAndRecords();

    // Act
    const noAccount = decide(credentials, { ...records, account: undefined }, ring, '198.51.100.1');
    const noKey = decide(credentials, { ...records, key: undefined }, ring, '198.51.100.1');

    // Assess
    expect(noAccount).toMatchObject({ outcome: 'deny-unauthorized', reason: 'unknown-account' });
    expect(noKey).toMatchObject({ outcome: 'deny-unauthorized', reason: 'unknown-key' });
  });

  it('refuses a well-formed account key whose digest does not match, whatever the user key', () => {
    // Prepare
    const { credentials, records } = credentialsAndRecords();
    const forged = { ...credentials, accountKey: formatAccountKey(credentials.accountId) };

    // Act
    const decision = decide(forged, records, ring, '198.51.100.1');

    // Assess
    expect(decision).toMatchObject({ outcome: 'deny-unauthorized', reason: 'account-key-mismatch' });
  });

  it('refuses a well-formed user key whose digest does not match', () => {
    // Prepare
    const { credentials, records } = credentialsAndRecords();
    const forged = { ...credentials, userKey: formatUserKey(credentials.accountId, credentials.keyId) };

    // Act
    const decision = decide(forged, records, ring, '198.51.100.1');

    // Assess
    expect(decision).toMatchObject({ outcome: 'deny-unauthorized', reason: 'user-key-mismatch' });
  });

  it('refuses a digest made with a pepper version the container does not have', () => {
    // Prepare
    const { credentials, records } = credentialsAndRecords();
    const { key } = records;
    const otherVersion = { ...records, key: key && { ...key, pepperVersion: 2 } };

    // Act
    const decision = decide(credentials, otherVersion, ring, '198.51.100.1');

    // Assess
    expect(decision).toMatchObject({ outcome: 'deny-unauthorized', reason: 'user-key-mismatch' });
  });

  it('verifies each digest with its own pepper version after a rotation', () => {
    // Prepare
    const { credentials, records } = credentialsAndRecords();
    const rotated = new PepperRing([{ version: 1, secret: ring.get(1)! }, { version: 2, secret: randomBytes(32) }]);

    // Act
    const decision = decide(credentials, records, rotated, '198.51.100.1');

    // Assess
    expect(decision.outcome).toBe('allow');
  });

  it('refuses valid keys of an account whose API is disabled', () => {
    // Prepare
    const { credentials, records } = credentialsAndRecords({ apiEnabled: false });

    // Act
    const decision = decide(credentials, records, ring, '198.51.100.1');

    // Assess
    expect(decision).toMatchObject({ outcome: 'deny-unauthorized', reason: 'api-disabled' });
  });

  it.each(['manager', 'member', 'billing-admin'] as const)('refuses a key whose user now has the role %s', (role) => {
    // Prepare
    const { credentials, records } = credentialsAndRecords({ role });

    // Act
    const decision = decide(credentials, records, ring, '198.51.100.1');

    // Assess
    expect(decision).toMatchObject({ outcome: 'deny-unauthorized', reason: 'role-cannot-hold-keys' });
  });

  it('denies by source address only callers that proved both keys', () => {
    // Prepare
    const { credentials, records } = credentialsAndRecords({ cidrs: ['10.0.0.0/8'] });
    const forged = { ...credentials, userKey: formatUserKey(credentials.accountId, credentials.keyId) };

    // Act
    const withValidKeys = decide(credentials, records, ring, '198.51.100.1');
    const withForgedKey = decide(forged, records, ring, '198.51.100.1');

    // Assess
    expect(withValidKeys.outcome).toBe('deny-source-ip');
    expect(withForgedKey.outcome).toBe('deny-unauthorized');
  });

  it('allows an address inside one of the rules (IPv4 and IPv6) and denies one outside them', () => {
    // Prepare
    const { credentials, records } = credentialsAndRecords({ cidrs: ['10.0.0.0/8', '2001:db8::/32'] });

    // Act
    const outcomes = ['10.200.3.4', '2001:db8:1::7', '11.0.0.1', '2001:db9::1', 'not-an-address', ''].map(
      (ip) => decide(credentials, records, ring, ip).outcome,
    );

    // Assess
    expect(outcomes).toEqual(['allow', 'allow', 'deny-source-ip', 'deny-source-ip', 'deny-source-ip', 'deny-source-ip']);
  });
});

describe('apiBaseArn', () => {
  it('keeps the API and stage of a method ARN and drops the method and path', () => {
    expect(apiBaseArn(`${API_BASE}/DELETE/v1/api-keys/abc/cidr-allow-list/def`)).toBe(API_BASE);
  });

  it.each(['', 'arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5', 'arn:aws:lambda:eu-west-1:1:function/prod/GET/x', 'nonsense/prod/GET'])(
    'refuses %j',
    (arn) => {
      expect(() => apiBaseArn(arn)).toThrow(/not an execute-api method ARN/);
    },
  );
});

describe('allowPolicy', () => {
  it('turns path parameters into wildcards', () => {
    expect(routeResource(API_BASE, 'PUT', '/v1/api-keys/{keyId}/cidr-allow-list/{ruleId}')).toBe(
      `${API_BASE}/PUT/v1/api-keys/*/cidr-allow-list/*`,
    );
  });

  describe.each(KEY_ROLES)('for role %s', (role) => {
    const policy = allowPolicy(role, API_BASE);

    it.each(ROUTES.filter((route) => (route.roles as readonly string[]).includes(role)))(
      'allows $method $path',
      (route) => {
        expect(evaluatePolicy(policy, methodArnOf(route.method, route.path))).toBe('allow');
      },
    );

    // A wildcard for one route's parameter must never reach a route the role may not call.
    it.each(ROUTES.filter((route) => !(route.roles as readonly string[]).includes(role)))(
      'leaves $method $path implicitly denied',
      (route) => {
        expect(evaluatePolicy(policy, methodArnOf(route.method, route.path))).toBe('implicit-deny');
      },
    );

    it('grants nothing on another stage or another API', () => {
      const route = ROUTES[0];
      expect(evaluatePolicy(policy, methodArnOf(route.method, route.path, API_BASE.replace('/prod', '/dev')))).toBe('implicit-deny');
      expect(evaluatePolicy(policy, methodArnOf(route.method, route.path, API_BASE.replace('a1b2c3d4e5', 'zzzzzzzzzz')))).toBe(
        'implicit-deny',
      );
    });

    it('grants nothing for a method or path outside the route table', () => {
      expect(evaluatePolicy(policy, `${API_BASE}/GET/v1/admin`)).toBe('implicit-deny');
      expect(evaluatePolicy(policy, `${API_BASE}/OPTIONS/v1/whoami`)).toBe('implicit-deny');
    });
  });

  it('gives the logs-viewer exactly whoami and logs', () => {
    // Act
    const statement = allowPolicy('logs-viewer', API_BASE).Statement[0];

    // Assess
    expect(statement).toEqual({
      Effect: 'Allow',
      Action: 'execute-api:Invoke',
      Resource: [`${API_BASE}/GET/v1/whoami`, `${API_BASE}/GET/v1/logs`],
    });
  });
});

describe('allowPolicy reuse', () => {
  it('builds each role and stage once, and no caller can widen the shared policy', () => {
    // Prepare
    const first = allowPolicy('viewer', API_BASE);
    const resources = first.Statement[0] as { Resource: string[] };

    // Act
    const widen = (): number => resources.Resource.push(`${API_BASE}/DELETE/v1/api-keys/*`);

    // Assess
    expect(allowPolicy('viewer', API_BASE)).toBe(first);
    expect(widen).toThrow(TypeError);
    expect(evaluatePolicy(allowPolicy('viewer', API_BASE), methodArnOf('DELETE', '/v1/api-keys/{keyId}'))).toBe('implicit-deny');
    expect(allowPolicy('viewer', API_BASE.replace('/prod', '/dev'))).not.toBe(first);
  });
});

describe('denyAllPolicy', () => {
  it('explicitly denies every route of the stage and nothing elsewhere', () => {
    // Prepare
    const policy = denyAllPolicy(API_BASE);

    // Act
    const outcomes = ROUTES.map((route) => evaluatePolicy(policy, methodArnOf(route.method, route.path)));

    // Assess
    expect(new Set(outcomes)).toEqual(new Set(['explicit-deny']));
    expect(evaluatePolicy(policy, methodArnOf('GET', '/v1/whoami', API_BASE.replace('/prod', '/dev')))).toBe('implicit-deny');
  });
});

describe('evaluatePolicy', () => {
  const arn = `${API_BASE}/GET/v1/api-keys/k1/cidr-allow-list`;
  const policy = (...Statement: PolicyDocument['Statement']): PolicyDocument => ({ Version: '2012-10-17', Statement });

  it('allows a method ARN an Allow statement names exactly', () => {
    expect(evaluatePolicy(policy({ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: arn }), arn)).toBe('allow');
  });

  it('denies implicitly when no statement matches, including an empty policy', () => {
    expect(evaluatePolicy(policy(), arn)).toBe('implicit-deny');
    expect(evaluatePolicy(policy({ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: `${API_BASE}/GET/v1/users` }), arn)).toBe(
      'implicit-deny',
    );
  });

  it('lets a matching Deny win over any Allow, in either order', () => {
    // Prepare
    const allow = { Effect: 'Allow' as const, Action: 'execute-api:Invoke', Resource: `${API_BASE}/*` };
    const deny = { Effect: 'Deny' as const, Action: 'execute-api:Invoke', Resource: arn };

    // Act / Assess
    expect(evaluatePolicy(policy(allow, deny), arn)).toBe('explicit-deny');
    expect(evaluatePolicy(policy(deny, allow), arn)).toBe('explicit-deny');
  });

  it('matches * across path segments and ? as exactly one character', () => {
    const allowed = (resource: string): string =>
      evaluatePolicy(policy({ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: resource }), arn);
    expect(allowed(`${API_BASE}/*/*`)).toBe('allow');
    expect(allowed(`${API_BASE}/GET/v1/api-keys/*`)).toBe('allow');
    expect(allowed(`${API_BASE}/GET/v1/api-keys/*/cidr-allow-list`)).toBe('allow');
    expect(allowed('arn:aws:execute-api:*:*:*')).toBe('allow');
    expect(allowed(`${API_BASE}/GET/v1/api-keys/k?/cidr-allow-list`)).toBe('allow');
    expect(allowed(`${API_BASE}/GET/v1/api-keys/k??/cidr-allow-list`)).toBe('implicit-deny');
    expect(allowed(`${API_BASE}/POST/*`)).toBe('implicit-deny');
    expect(allowed(`${API_BASE}/GET/v1/api-keys/*/cidr-allow-list/*`)).toBe('implicit-deny');
  });

  it('matches resources case-sensitively and actions case-insensitively', () => {
    expect(evaluatePolicy(policy({ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: arn.replace('GET', 'get') }), arn)).toBe(
      'implicit-deny',
    );
    expect(evaluatePolicy(policy({ Effect: 'Allow', Action: 'Execute-API:invoke', Resource: arn }), arn)).toBe('allow');
  });

  it('honours action wildcards and ignores statements about other actions', () => {
    expect(evaluatePolicy(policy({ Effect: 'Allow', Action: ['execute-api:*'], Resource: arn }), arn)).toBe('allow');
    expect(evaluatePolicy(policy({ Effect: 'Allow', Action: '*', Resource: arn }), arn)).toBe('allow');
    expect(evaluatePolicy(policy({ Effect: 'Deny', Action: 'execute-api:ManageConnections', Resource: arn }), arn)).toBe(
      'implicit-deny',
    );
  });

  it('supports NotAction and NotResource', () => {
    expect(evaluatePolicy(policy({ Effect: 'Allow', NotAction: 'execute-api:ManageConnections', Resource: arn }), arn)).toBe('allow');
    expect(evaluatePolicy(policy({ Effect: 'Allow', Action: 'execute-api:Invoke', NotResource: `${API_BASE}/POST/*` }), arn)).toBe(
      'allow',
    );
    expect(evaluatePolicy(policy({ Effect: 'Allow', Action: 'execute-api:Invoke', NotResource: `${API_BASE}/GET/*` }), arn)).toBe(
      'implicit-deny',
    );
  });

  it('fails closed on conditions it cannot evaluate', () => {
    // Prepare
    const Condition = { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } };

    // Act / Assess
    expect(evaluatePolicy(policy({ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: arn, Condition }), arn)).toBe(
      'implicit-deny',
    );
    expect(
      evaluatePolicy(
        policy(
          { Effect: 'Allow', Action: 'execute-api:Invoke', Resource: arn },
          { Effect: 'Deny', Action: 'execute-api:Invoke', Resource: arn, Condition },
        ),
        arn,
      ),
    ).toBe('explicit-deny');
  });
});

describe('iamGlobMatches', () => {
  it.each([
    ['', '', true],
    ['*', '', true],
    ['a*', 'a', true],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXbYY', false],
    ['*a', 'bbbb', false],
    ['**', 'x/y', true],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['abc', 'abcd', false],
    ['abcd', 'abc', false],
  ])('%j against %j is %s', (pattern, value, expected) => {
    expect(iamGlobMatches(pattern, value, false)).toBe(expected);
  });

  it('matches many wildcards against a long value', () => {
    expect(iamGlobMatches('*a'.repeat(50), 'a'.repeat(5_000), false)).toBe(true);
    expect(iamGlobMatches(`${'*a'.repeat(50)}b`, 'a'.repeat(5_000), false)).toBe(false);
  });
});
