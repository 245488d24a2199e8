import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { digestsEqual, keyDigest, PepperRing } from '#shared/domain/hashing.ts';

const PEPPER_V1 = Buffer.from('latchkey-test-pepper-0123456789ab');
const PEPPER_V2 = Buffer.from('latchkey-test-pepper-rotated-v2!!');
const USER_KEY = 'lks_AcCt0123456789ZzKeY0abcdefghijkl0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg0B4vWj';
const OTHER_USER_KEY = 'lks_AcCt0123456789ZzKeY0abcdefghijklz123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg0B4vWj';

describe('keyDigest', () => {
  it('is HMAC-SHA256 (RFC 4231 test case 1)', () => {
    expect(keyDigest(Buffer.alloc(20, 0x0b), 'Hi There').toString('hex')).toBe(
      'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    );
  });

  it('pins the digest of a key under a fixed pepper', () => {
    // Prepare
    const independent = createHmac('sha256', PEPPER_V1).update(USER_KEY, 'utf8').digest('hex');

    // Act
    const digest = keyDigest(PEPPER_V1, USER_KEY);

    // Assess
    expect(independent).toBe('966f0d5cd089da95c9e33b9ed9c7be802a23b9ba3dd8d79ff6369867be433b65');
    expect(digest.toString('hex')).toBe(independent);
    expect(digest).toHaveLength(32);
  });

  it('depends on the pepper: a table copy without it cannot test guesses', () => {
    expect(keyDigest(PEPPER_V2, USER_KEY).equals(keyDigest(PEPPER_V1, USER_KEY))).toBe(false);
    expect(keyDigest(new Uint8Array(0), USER_KEY).equals(keyDigest(PEPPER_V1, USER_KEY))).toBe(false);
  });
});

describe('digestsEqual', () => {
  it('is true for equal digests', () => {
    expect(digestsEqual(keyDigest(PEPPER_V1, USER_KEY), new Uint8Array(keyDigest(PEPPER_V1, USER_KEY)))).toBe(true);
  });

  it('is false for different contents of the same length', () => {
    const digest = keyDigest(PEPPER_V1, USER_KEY);
    for (let i = 0; i < digest.length; i += 1) {
      const changed = Buffer.from(digest);
      changed[i] = (changed[i] ?? 0) ^ 0x01;
      expect(digestsEqual(digest, changed)).toBe(false);
    }
  });

  it('is false, without throwing, for different lengths', () => {
    const digest = keyDigest(PEPPER_V1, USER_KEY);
    expect(digestsEqual(digest, digest.subarray(0, 31))).toBe(false);
    expect(digestsEqual(digest, Buffer.concat([digest, Buffer.alloc(1)]))).toBe(false);
    expect(digestsEqual(digest, new Uint8Array(0))).toBe(false);
  });
});

describe('PepperRing', () => {
  it('refuses to exist without a pepper', () => {
    expect(() => new PepperRing([])).toThrow(Error);
  });

  it('makes the newest version current whatever the order', () => {
    // Act
    const ring = new PepperRing([
      { version: 2, secret: PEPPER_V2 },
      { version: 1, secret: PEPPER_V1 },
      { version: 3, secret: randomBytes(32) },
    ]);

    // Assess
    expect(ring.current.version).toBe(3);
    expect(ring.get(1)).toEqual(PEPPER_V1);
    expect(ring.get(2)).toEqual(PEPPER_V2);
    expect(ring.get(4)).toBeUndefined();
  });

  it('digests with the current pepper and reports its version', () => {
    // Prepare
    const ring = new PepperRing([
      { version: 1, secret: PEPPER_V1 },
      { version: 2, secret: PEPPER_V2 },
    ]);

    // Act
    const { hash, pepperVersion } = ring.digest(USER_KEY);

    // Assess
    expect(pepperVersion).toBe(2);
    expect(hash.toString('hex')).toBe(createHmac('sha256', PEPPER_V2).update(USER_KEY).digest('hex'));
  });

  it('verifies with the version the digest was stored with', () => {
    // Prepare
    const ring = new PepperRing([
      { version: 1, secret: PEPPER_V1 },
      { version: 2, secret: PEPPER_V2 },
    ]);
    const storedV1 = keyDigest(PEPPER_V1, USER_KEY);

    // Act / Assess
    expect(ring.verify(USER_KEY, storedV1, 1)).toBe(true);
    expect(ring.verify(USER_KEY, storedV1, 2)).toBe(false);
    expect(ring.verify(OTHER_USER_KEY, storedV1, 1)).toBe(false);
  });

  it('never matches an unknown pepper version', () => {
    // Prepare
    const ring = new PepperRing([{ version: 1, secret: PEPPER_V1 }]);
    const stored = keyDigest(PEPPER_V1, USER_KEY);

    // Act / Assess
    for (const version of [0, 2, -1, Number.NaN]) expect(ring.verify(USER_KEY, stored, version)).toBe(false);
  });

  it('never matches a truncated or empty stored digest', () => {
    const ring = new PepperRing([{ version: 1, secret: PEPPER_V1 }]);
    const stored = keyDigest(PEPPER_V1, USER_KEY);
    expect(ring.verify(USER_KEY, stored.subarray(0, 16), 1)).toBe(false);
    expect(ring.verify(USER_KEY, new Uint8Array(0), 1)).toBe(false);
  });

  it('keeps old digests verifying across a rotation while new ones use the new pepper', () => {
    // Prepare: a key stored before the rotation
    const before = new PepperRing([{ version: 1, secret: PEPPER_V1 }]);
    const stored = before.digest(USER_KEY);

    // Act: version 2 is added
    const after = new PepperRing([
      { version: 1, secret: PEPPER_V1 },
      { version: 2, secret: PEPPER_V2 },
    ]);
    const fresh = after.digest(OTHER_USER_KEY);

    // Assess
    expect(stored.pepperVersion).toBe(1);
    expect(after.verify(USER_KEY, stored.hash, stored.pepperVersion)).toBe(true);
    expect(fresh.pepperVersion).toBe(2);
    expect(after.verify(OTHER_USER_KEY, fresh.hash, fresh.pepperVersion)).toBe(true);
    expect(before.verify(OTHER_USER_KEY, fresh.hash, fresh.pepperVersion)).toBe(false);
    expect(digestsEqual(fresh.hash, keyDigest(PEPPER_V1, OTHER_USER_KEY))).toBe(false);
  });
});
