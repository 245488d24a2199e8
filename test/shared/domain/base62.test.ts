import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BASE62_ALPHABET, encodeBase62, isBase62, randomBase62 } from '#shared/domain/base62.ts';

describe('randomBase62', () => {
  it('returns exactly the requested number of alphabet characters', () => {
    for (const length of [0, 1, 16, 43, 200, 1000]) {
      const value = randomBase62(length);
      expect(value).toHaveLength(length);
      expect(value).toMatch(/^[0-9A-Za-z]*$/);
    }
  });

  it('draws every symbol uniformly (no modulo bias)', () => {
    // Prepare
    const draws = 62_000;
    const expected = draws / 62;
    const counts = new Map<string, number>();

    // Act
    for (const char of randomBase62(draws)) counts.set(char, (counts.get(char) ?? 0) + 1);

    // Assess: the bounds sit beyond six standard deviations of a fair draw, so this cannot
    // flake; `byte % 62` without rejection puts about 1210 on each of '0'-'7' and a chi-square
    // near 400, well past them.
    expect([...counts.keys()].sort().join('')).toBe(Array.from(BASE62_ALPHABET).sort().join(''));
    let chiSquare = 0;
    for (const symbol of BASE62_ALPHABET) {
      const count = counts.get(symbol) ?? 0;
      expect(count).toBeGreaterThan(800);
      expect(count).toBeLessThan(1200);
      chiSquare += (count - expected) ** 2 / expected;
    }
    expect(chiSquare).toBeLessThan(200);
  });

  it('does not repeat itself', () => {
    const values = new Set(Array.from({ length: 1000 }, () => randomBase62(12)));
    expect(values.size).toBe(1000);
  });
});

describe('encodeBase62', () => {
  it.each([
    [0, 6, '000000'],
    [0, 1, '0'],
    [9, 1, '9'],
    [10, 1, 'A'],
    [35, 1, 'Z'],
    [36, 1, 'a'],
    [61, 2, '0z'],
    [62, 2, '10'],
    [62 * 62 - 1, 0, 'zz'],
    [62 ** 6 - 1, 6, 'zzzzzz'],
    [0xffffffff, 6, '4gfFC3'],
  ])('encodes %i at width %i as %s', (value, width, encoded) => {
    expect(encodeBase62(value, width)).toBe(encoded);
  });

  it('never truncates a value wider than the width', () => {
    expect(encodeBase62(62 ** 3, 2)).toBe('1000');
  });

  it('round-trips every safe non-negative integer and pads to the width', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.integer({ min: 0, max: 12 }), (value, width) => {
        const encoded = encodeBase62(value, width);
        expect(encoded.length).toBeGreaterThanOrEqual(width);
        expect(isBase62(encoded)).toBe(true);
        let decoded = 0n;
        for (const char of encoded) decoded = decoded * 62n + BigInt(BASE62_ALPHABET.indexOf(char));
        expect(decoded).toBe(BigInt(value));
      }),
      { numRuns: 500 },
    );
  });

  it.each([-1, -62, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])('refuses %d instead of looping or encoding garbage', (value) => {
    expect(() => encodeBase62(value, 6)).toThrow(RangeError);
  });
});

describe('isBase62', () => {
  it.each(['', '0', 'azAZ09', BASE62_ALPHABET])('accepts %j', (value) => {
    expect(isBase62(value)).toBe(true);
  });

  it.each(['-', '_', ' ', 'abc\n', 'é', 'ab+c', 'a/b', 'a=b'])('refuses %j', (value) => {
    expect(isBase62(value)).toBe(false);
  });
});
