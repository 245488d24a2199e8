import { describe, expect, it } from 'vitest';
import { derivedId } from '#shared/domain/derived-id.ts';
import { ID_LENGTH, isId, newId } from '#shared/domain/ids.ts';

describe('newId', () => {
  it('is 16 base62 characters and unique', () => {
    // Act
    const ids = Array.from({ length: 1000 }, () => newId());

    // Assess
    expect(ID_LENGTH).toBe(16);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9A-Za-z]{16}$/);
      expect(isId(id)).toBe(true);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('isId', () => {
  it.each(['', 'abc', '0123456789abcdef0', '0123456789abcde', '0123456789abcde-', '0123456789abcde_', '0123456789abcdé', '0123456789abcdef\n', ' 0123456789abcdef'])(
    'refuses %j',
    (value) => {
      expect(isId(value)).toBe(false);
    },
  );

  it('accepts 16 base62 characters', () => {
    expect(isId('0123456789abcdeF')).toBe(true);
  });
});

describe('derivedId', () => {
  it('is an id, the same for the same parts and different for any other', () => {
    // Act
    const id = derivedId('api-key.expire', 'A1', 'K1');

    // Assess
    expect(isId(id)).toBe(true);
    expect(derivedId('api-key.expire', 'A1', 'K1')).toBe(id);
    expect(derivedId('api-key.expire', 'A1', 'K2')).not.toBe(id);
    // Parts are kept apart: moving a character from one to the next is another id.
    expect(derivedId('api-key.expire', 'A1K', '1')).not.toBe(id);
    expect(new Set(Array.from({ length: 1000 }, (_, i) => derivedId('k', String(i)))).size).toBe(1000);
  });
});
