import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BASE62_ALPHABET } from '#shared/domain/base62.ts';
import {
  ACCOUNT_KEY_LENGTH,
  ACCOUNT_KEY_PATTERN,
  ACCOUNT_KEY_PREFIX,
  checksum,
  formatAccountKey,
  formatUserKey,
  maskAccountKey,
  parseAccountKey,
  parseUserKey,
  SECRET_LENGTH,
  USER_KEY_LENGTH,
  USER_KEY_PATTERN,
  USER_KEY_PREFIX,
} from '#shared/domain/key-format.ts';

// An independent CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), so the golden vectors
// below do not rest on the implementation under test.
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function referenceCrc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of Buffer.from(text, 'utf8')) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function referenceBase62(value: number, width: number): string {
  let digits = '';
  for (let n = value; n > 0; n = Math.floor(n / 62)) digits = BASE62_ALPHABET.charAt(n % 62) + digits;
  return digits.padStart(width, '0');
}

function referenceChecksum(payload: string): string {
  return referenceBase62(referenceCrc32(payload), 6);
}

const ACCOUNT_ID = 'AcCt0123456789Zz';
const KEY_ID = 'KeY0abcdefghijkl';
const SECRET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg';

const GOLDEN_ACCOUNT_KEY = 'lka_AcCt0123456789Zz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg2Pg9jR';
const GOLDEN_USER_KEY = 'lks_AcCt0123456789ZzKeY0abcdefghijkl0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg0B4vWj';
const GOLDEN_ZERO_ACCOUNT_KEY = 'lka_000000000000000000000000000000000000000000000000000000000003mttGT';
const GOLDEN_Z_USER_KEY = 'lks_zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz1tSc9l';

const base62Char = fc.constantFrom(...Array.from(BASE62_ALPHABET));
const base62String = (length: number) => fc.string({ unit: base62Char, minLength: length, maxLength: length });

/** Replaces the character at `index` (one UTF-16 unit for one, so the length is kept). */
function withCharAt(value: string, index: number, replacement: string): string {
  return value.slice(0, index) + replacement + value.slice(index + 1);
}

describe('key format golden vectors', () => {
  it('the reference CRC-32 and base62 agree with the standard check value, worked by hand', () => {
    // CRC-32('123456789') = 0xCBF43926 = 3421780262 (the standard check value);
    // 3421780262 = 3*62^5 + 45*62^4 + 35*62^3 + 27*62^2 + 22*62 + 14 -> '3' 'j' 'Z' 'R' 'M' 'E'.
    expect(referenceCrc32('123456789')).toBe(0xcbf43926);
    expect(referenceBase62(3421780262, 6)).toBe('3jZRME');
    expect(checksum('123456789')).toBe('3jZRME');
  });

  it('the pinned keys carry the checksum of everything before it', () => {
    for (const key of [GOLDEN_ACCOUNT_KEY, GOLDEN_USER_KEY, GOLDEN_ZERO_ACCOUNT_KEY, GOLDEN_Z_USER_KEY]) {
      expect(key.slice(-6)).toBe(referenceChecksum(key.slice(0, -6)));
    }
  });

  it('formats an account key exactly', () => {
    // Act
    const key = formatAccountKey(ACCOUNT_ID, SECRET);

    // Assess
    expect(key).toBe(GOLDEN_ACCOUNT_KEY);
    expect(formatAccountKey('0000000000000000', '0'.repeat(43))).toBe(GOLDEN_ZERO_ACCOUNT_KEY);
  });

  it('formats a user key exactly', () => {
    expect(formatUserKey(ACCOUNT_ID, KEY_ID, SECRET)).toBe(GOLDEN_USER_KEY);
    expect(formatUserKey('z'.repeat(16), 'z'.repeat(16), 'z'.repeat(43))).toBe(GOLDEN_Z_USER_KEY);
  });

  it('checksum matches the reference for arbitrary payloads, unicode included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 120 }), (payload) => {
        expect(checksum(payload)).toBe(referenceChecksum(payload));
      }),
      { numRuns: 500 },
    );
  });
});

describe('generated keys', () => {
  it('have the documented prefix and lengths (69 and 85)', () => {
    // Act
    const accountKey = formatAccountKey(ACCOUNT_ID);
    const userKey = formatUserKey(ACCOUNT_ID, KEY_ID);

    // Assess
    expect(ACCOUNT_KEY_LENGTH).toBe(69);
    expect(USER_KEY_LENGTH).toBe(85);
    expect(accountKey).toHaveLength(69);
    expect(userKey).toHaveLength(85);
    expect(accountKey.startsWith(`lka_${ACCOUNT_ID}`)).toBe(true);
    expect(userKey.startsWith(`lks_${ACCOUNT_ID}${KEY_ID}`)).toBe(true);
  });

  it('carry a 43-character base62 secret that differs on every key', () => {
    // Act
    const secrets = Array.from({ length: 200 }, () => formatUserKey(ACCOUNT_ID, KEY_ID).slice(36, 36 + SECRET_LENGTH));

    // Assess: 43 base62 characters hold 43 * log2(62) = 256 bits, the 32 bytes the design asks for.
    expect(SECRET_LENGTH).toBe(43);
    expect(SECRET_LENGTH * Math.log2(62)).toBeGreaterThanOrEqual(256);
    for (const secret of secrets) expect(secret).toMatch(/^[0-9A-Za-z]{43}$/);
    expect(new Set(secrets).size).toBe(secrets.length);
  });

  it('are valid for their own parser and the scanner patterns', () => {
    for (let i = 0; i < 50; i += 1) {
      const accountKey = formatAccountKey(ACCOUNT_ID);
      const userKey = formatUserKey(ACCOUNT_ID, KEY_ID);
      expect(parseAccountKey(accountKey).ok).toBe(true);
      expect(parseUserKey(userKey).ok).toBe(true);
      expect(ACCOUNT_KEY_PATTERN.test(`x-api-key: ${accountKey}\n`)).toBe(true);
      expect(USER_KEY_PATTERN.test(`"${userKey}"`)).toBe(true);
    }
  });

  it('change their checksum with any single-character change of the payload', () => {
    const payload = GOLDEN_USER_KEY.slice(0, -6);
    const original = checksum(payload);
    for (let index = 0; index < payload.length; index += 1) {
      for (const replacement of BASE62_ALPHABET) {
        if (replacement === payload[index]) continue;
        expect(checksum(withCharAt(payload, index, replacement))).not.toBe(original);
      }
    }
  });
});

describe('parseAccountKey', () => {
  it('accepts a valid key and extracts the account id', () => {
    // Act
    const result = parseAccountKey(GOLDEN_ACCOUNT_KEY);

    // Assess
    expect(result).toEqual({ ok: true, key: { kind: 'account', accountId: ACCOUNT_ID, value: GOLDEN_ACCOUNT_KEY } });
  });

  it.each([
    ['a user key', GOLDEN_USER_KEY, 'prefix'],
    ['an upper-case prefix', `LKA_${GOLDEN_ACCOUNT_KEY.slice(4)}`, 'prefix'],
    ['no prefix', GOLDEN_ACCOUNT_KEY.slice(4), 'prefix'],
    ['an empty string', '', 'prefix'],
    ['a truncated key', GOLDEN_ACCOUNT_KEY.slice(0, -1), 'length'],
    ['an extended key', `${GOLDEN_ACCOUNT_KEY}0`, 'length'],
    ['surrounding whitespace', ` ${GOLDEN_ACCOUNT_KEY}`, 'prefix'],
    ['a trailing newline', `${GOLDEN_ACCOUNT_KEY.slice(0, -1)}\n`, 'alphabet'],
    ['a hyphen in the body', withCharAt(GOLDEN_ACCOUNT_KEY, 30, '-'), 'alphabet'],
    ['a non-ASCII letter', withCharAt(GOLDEN_ACCOUNT_KEY, 30, 'é'), 'alphabet'],
    ['one changed secret character', withCharAt(GOLDEN_ACCOUNT_KEY, 30, 'x'), 'checksum'],
    ['one changed account id character', withCharAt(GOLDEN_ACCOUNT_KEY, 4, 'B'), 'checksum'],
    ['one changed checksum character', withCharAt(GOLDEN_ACCOUNT_KEY, 68, 'Q'), 'checksum'],
  ])('rejects %s', (_label, value, fault) => {
    expect(parseAccountKey(value)).toEqual({ ok: false, fault });
  });

  it.each([undefined, null, 42, {}, [GOLDEN_ACCOUNT_KEY], Buffer.from(GOLDEN_ACCOUNT_KEY)])('rejects the non-string %o', (value) => {
    expect(parseAccountKey(value)).toEqual({ ok: false, fault: 'prefix' });
  });
});

describe('parseUserKey', () => {
  it('accepts a valid key and extracts the account id and key id', () => {
    expect(parseUserKey(GOLDEN_USER_KEY)).toEqual({
      ok: true,
      key: { kind: 'user', accountId: ACCOUNT_ID, keyId: KEY_ID, value: GOLDEN_USER_KEY },
    });
  });

  it.each([
    ['an account key', GOLDEN_ACCOUNT_KEY, 'prefix'],
    ['a truncated key', GOLDEN_USER_KEY.slice(0, 69), 'length'],
    ['an extended key', `${GOLDEN_USER_KEY}A`, 'length'],
    ['a space in the body', withCharAt(GOLDEN_USER_KEY, 50, ' '), 'alphabet'],
    ['an underscore in the body', withCharAt(GOLDEN_USER_KEY, 20, '_'), 'alphabet'],
    ['one changed key id character', withCharAt(GOLDEN_USER_KEY, 25, 'Z'), 'checksum'],
    ['one changed checksum character', withCharAt(GOLDEN_USER_KEY, 84, 'k'), 'checksum'],
  ])('rejects %s', (_label, value, fault) => {
    expect(parseUserKey(value)).toEqual({ ok: false, fault });
  });

  it('extracts the ids of generated keys', () => {
    fc.assert(
      fc.property(base62String(16), base62String(16), (accountId, keyId) => {
        const result = parseUserKey(formatUserKey(accountId, keyId));
        expect(result.ok && result.key.accountId === accountId && result.key.keyId === keyId).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('key parsers on arbitrary input (property)', () => {
  const arbitraryInput = fc.oneof(
    fc.string({ maxLength: 100 }),
    fc.string({ unit: 'grapheme', maxLength: 100 }),
    fc.string({ unit: 'binary', maxLength: 100 }),
    fc.string({ minLength: 65, maxLength: 65 }).map((body) => `${ACCOUNT_KEY_PREFIX}${body}`),
    fc.string({ unit: 'binary', minLength: 81, maxLength: 81 }).map((body) => `${USER_KEY_PREFIX}${body}`),
    fc.anything(),
  );

  it('never throw, and accept only values that are exactly a formatted key', () => {
    fc.assert(
      fc.property(arbitraryInput, (value) => {
        const account = parseAccountKey(value);
        const user = parseUserKey(value);
        if (account.ok) expect(formatAccountKey(account.key.accountId, (value as string).slice(20, 63))).toBe(value);
        if (user.ok) expect(formatUserKey(user.key.accountId, user.key.keyId, (value as string).slice(36, 79))).toBe(value);
      }),
      { numRuns: 2000 },
    );
  });

  it('accept a well-shaped key exactly when its checksum is right', () => {
    fc.assert(
      fc.property(base62String(59), base62String(6), fc.boolean(), (body, claimed, useRight) => {
        // Prepare
        const payload = `${ACCOUNT_KEY_PREFIX}${body}`;
        const value = payload + (useRight ? referenceChecksum(payload) : claimed);

        // Act
        const result = parseAccountKey(value);

        // Assess
        const valid = value.slice(-6) === referenceChecksum(payload);
        expect(result).toEqual(valid ? { ok: true, key: { kind: 'account', accountId: body.slice(0, 16), value } } : { ok: false, fault: 'checksum' });
      }),
      { numRuns: 1000 },
    );
  });

  it('reject a generated key with any one character changed', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.nat(),
        fc.integer({ min: 0, max: 0xffff }),
        (userKey, position, codeUnit) => {
          // Prepare
          const key = userKey ? formatUserKey(ACCOUNT_ID, KEY_ID) : formatAccountKey(ACCOUNT_ID);
          const index = position % key.length;
          const replacement = String.fromCharCode(codeUnit);
          fc.pre(replacement !== key[index]);
          const flipped = withCharAt(key, index, replacement);

          // Act
          const result = userKey ? parseUserKey(flipped) : parseAccountKey(flipped);

          // Assess
          const expectedFaults = index < 4 ? ['prefix'] : ['checksum', 'alphabet'];
          expect(result.ok).toBe(false);
          if (!result.ok) expect(expectedFaults).toContain(result.fault);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('scanner patterns', () => {
  it('do not match truncated, extended or mistyped keys', () => {
    expect(ACCOUNT_KEY_PATTERN.test(GOLDEN_ACCOUNT_KEY)).toBe(true);
    expect(USER_KEY_PATTERN.test(GOLDEN_USER_KEY)).toBe(true);
    expect(ACCOUNT_KEY_PATTERN.test(GOLDEN_ACCOUNT_KEY.slice(0, -1))).toBe(false);
    expect(ACCOUNT_KEY_PATTERN.test(`${GOLDEN_ACCOUNT_KEY}a`)).toBe(false);
    expect(USER_KEY_PATTERN.test(GOLDEN_USER_KEY.slice(0, -1))).toBe(false);
    expect(USER_KEY_PATTERN.test(`${GOLDEN_USER_KEY}a`)).toBe(false);
    expect(ACCOUNT_KEY_PATTERN.test(GOLDEN_USER_KEY)).toBe(false);
    expect(USER_KEY_PATTERN.test(GOLDEN_ACCOUNT_KEY)).toBe(false);
  });
});

describe('maskAccountKey', () => {
  it('shows only the prefix and the last four characters', () => {
    // Act
    const masked = maskAccountKey(GOLDEN_ACCOUNT_KEY);

    // Assess
    expect(masked).toBe('lka_********g9jR');
    expect(masked).not.toContain(ACCOUNT_ID.slice(0, 4));
    expect(masked).not.toContain(SECRET.slice(0, 4));
  });

  it('reveals no character of the account id or secret for generated keys', () => {
    for (let i = 0; i < 20; i += 1) {
      const key = formatAccountKey(ACCOUNT_ID);
      const masked = maskAccountKey(key);
      expect(masked).toBe(`lka_********${key.slice(-4)}`);
      expect(masked.replace(/[*]/g, '')).toHaveLength(8);
    }
  });
});
