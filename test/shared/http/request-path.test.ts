import { describe, expect, it } from 'vitest';
import { isCanonicalPath, pathFromTemplate } from '#shared/http/request-path.ts';

describe('isCanonicalPath', () => {
  it.each([
    '/v1/databases/db1\\password',
    '/a/%5c/b',
    '/a/b%2Fc',
    '/a/b%2fc',
    '/a/../b',
    '/a/./b',
    '/a/..',
    '/a/%2e%2e/b',
    '/a/%2E./b',
    '/a/.%2e/b',
    '/a/%2e/b',
    '/a/..;x=1/b',
    '/a/.;/b',
  ])('refuses %s', (path) => {
    expect(isCanonicalPath(path)).toBe(false);
  });

  it.each(['/', '/v1/users', '/v1/users/', '/a/x..y/.hidden/...', '/a/b%20c', '/a/%2e%2ex', '/a/;x', '/a/b;c'])('admits %s', (path) => {
    expect(isCanonicalPath(path)).toBe(true);
  });
});

describe('pathFromTemplate', () => {
  it('percent-encodes each parameter, a greedy one segment by segment, and keeps readable pchars', () => {
    expect(pathFromTemplate('/v1/databases/{databaseId}', { databaseId: 'db 1;x/..' })).toBe('/v1/databases/db%201%3Bx%2F..');
    expect(pathFromTemplate('/files/{proxy+}', { proxy: 'a b/c:d@e+f,g=h&i$/ü' })).toBe('/files/a%20b/c:d@e+f,g=h&i$/%C3%BC');
    expect(pathFromTemplate('/v1/things', null)).toBe('/v1/things');
  });

  it('throws for a parameter without a value rather than forward a path it did not authorize', () => {
    expect(() => pathFromTemplate('/v1/databases/{databaseId}', {})).toThrow('{databaseId}');
  });
});
