import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatAccountKey, formatUserKey } from '#shared/domain/key-format.ts';
import { newId } from '#shared/domain/ids.ts';
import { parseRouteSpec } from '#smoke/checks/team-routes.ts';
import { AWS_REVOCATION_BOUND_MS, LOCAL_REVOCATION_BOUND_MS, SmokeUsageError, parseSmokeOptions } from '#smoke/options.ts';
import { describeAnswer, redactSecrets } from '#smoke/report.ts';

/** `latchkey smoke`'s command line, its bounds as the docs state them, and what it refuses to print. */

const KEYS = { LATCHKEY_ACCOUNT_KEY: 'lka_x', LATCHKEY_USER_KEY: 'lks_x' };

describe('latchkey smoke options', () => {
  it('takes the local bound for a loopback URL and the deployed bound otherwise', () => {
    expect(parseSmokeOptions(['--url', 'http://127.0.0.1:3000'], KEYS)?.revocationBoundMs).toBe(LOCAL_REVOCATION_BOUND_MS);
    expect(parseSmokeOptions(['--url', 'http://[::1]:3000/'], KEYS)?.revocationBoundMs).toBe(LOCAL_REVOCATION_BOUND_MS);
    expect(parseSmokeOptions(['--url', 'https://abc.execute-api.eu-west-1.amazonaws.com/prod/'], KEYS)?.revocationBoundMs).toBe(AWS_REVOCATION_BOUND_MS);
    expect(parseSmokeOptions(['--url', 'https://api.example.com/', '--revocation-bound', '8000'], KEYS)?.revocationBoundMs).toBe(8000);
  });

  it('states in the docs the bounds it applies', () => {
    const deploy = readFileSync('docs/deploy.md', 'utf8');
    const security = readFileSync('docs/security.md', 'utf8');
    expect(deploy).toContain(`The default bound is **${AWS_REVOCATION_BOUND_MS / 1000} s**`);
    expect(deploy).toContain(`${LOCAL_REVOCATION_BOUND_MS / 1000} s against a loopback URL`);
    expect(security).toContain(`taken as ${AWS_REVOCATION_BOUND_MS / 1000} s by the smoke test`);
  });

  it('refuses to run without both of the owner keys or without a URL', () => {
    expect(() => parseSmokeOptions(['--url', 'http://127.0.0.1:3000'], { LATCHKEY_ACCOUNT_KEY: 'lka_x' })).toThrow(SmokeUsageError);
    expect(() => parseSmokeOptions([], KEYS)).toThrow('--url is required');
    expect(() => parseSmokeOptions(['--url', 'ftp://x'], KEYS)).toThrow(SmokeUsageError);
    expect(() => parseSmokeOptions(['--url', 'http://x', '--trials', '0'], KEYS)).toThrow('--trials');
  });

  it('reads a team route with the default role rule, or with the roles it names', () => {
    expect(parseRouteSpec('GET /v1/hello')).toEqual({ method: 'GET', path: '/v1/hello', roles: ['owner', 'viewer'] });
    expect(parseRouteSpec('post /v1/hello')).toEqual({ method: 'POST', path: '/v1/hello', roles: ['owner'] });
    expect(parseRouteSpec('GET /v1/audit owner,logs-viewer').roles).toEqual(['owner', 'logs-viewer']);
    expect(() => parseRouteSpec('GET v1/hello')).toThrow('must start with /');
    expect(() => parseRouteSpec('GET /v1/hello billing-admin')).toThrow('may hold keys');
    expect(() => parseRouteSpec('GET /v1/hello viewer')).toThrow('must include owner');
  });
});

describe('latchkey smoke output', () => {
  it('replaces every key-shaped string before it shortens a quoted answer, so no part of a key is left at the cut', () => {
    const accountKey = formatAccountKey(newId());
    const userKey = formatUserKey(newId(), newId());
    // The account key starts 7 characters before the 120-character cut.
    const padding = 'x'.repeat(90);
    const quoted = describeAnswer({ status: 200, body: {}, text: `{"pad":"${padding}","x-api-key":"${accountKey}","x-api-secret-key":"${userKey}"}` });

    expect(quoted).toContain('"x-api-key":"lka_');
    expect(quoted).not.toContain(accountKey.slice(0, 7));
    expect(redactSecrets(`${accountKey} ${userKey}`)).toBe('lka_[secret] lks_[secret]');
  });
});
