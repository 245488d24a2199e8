import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '#shared/adapters/dynamodb/cursor.ts';
import { ValidationError } from '#shared/domain/errors.ts';

const accountShape = { pk: 'ACCOUNT#a1', skPrefix: 'KEY#' };
const userShape = { ...accountShape, indexPk: 'ACCOUNT#a1#USER#u1' };
const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('page cursors', () => {
  it('round-trips the last evaluated key of a table query and of an index query', () => {
    const tableKey = { pk: 'ACCOUNT#a1', sk: 'KEY#k1' };
    const indexKey = { ...tableKey, gsi1pk: 'ACCOUNT#a1#USER#u1', gsi1sk: 'KEY#k1' };

    expect(decodeCursor(encodeCursor(tableKey)!, accountShape)).toEqual(tableKey);
    expect(decodeCursor(encodeCursor(indexKey)!, userShape)).toEqual(indexKey);
  });

  it('has no cursor after the last page', () => {
    expect(encodeCursor(undefined)).toBeNull();
    expect(encodeCursor({})).toBeNull();
  });

  it.each([
    ['another account', { pk: 'ACCOUNT#a2', sk: 'KEY#k1' }, accountShape],
    ['another kind of item', { pk: 'ACCOUNT#a1', sk: 'USER#u1' }, accountShape],
    ['an empty id', { pk: 'ACCOUNT#a1', sk: 'KEY#' }, accountShape],
    ['an extra attribute', { pk: 'ACCOUNT#a1', sk: 'KEY#k1', x: 'y' }, accountShape],
    ['a number', { pk: 'ACCOUNT#a1', sk: 7 }, accountShape],
    ['a typed attribute value', { pk: { S: 'ACCOUNT#a1' }, sk: { S: 'KEY#k1' } }, accountShape],
    ['a sort key past DynamoDB\'s byte limit in few characters', { pk: 'ACCOUNT#a1', sk: `KEY#${'€'.repeat(500)}` }, accountShape],
    ['a control character', { pk: 'ACCOUNT#a1', sk: 'KEY#k1\n' }, accountShape],
    ['a table cursor in a user listing', { pk: 'ACCOUNT#a1', sk: 'KEY#k1' }, userShape],
    ['another user', { pk: 'ACCOUNT#a1', sk: 'KEY#k1', gsi1pk: 'ACCOUNT#a1#USER#u2', gsi1sk: 'KEY#k1' }, userShape],
    ['a mismatched index key', { pk: 'ACCOUNT#a1', sk: 'KEY#k1', gsi1pk: 'ACCOUNT#a1#USER#u1', gsi1sk: 'KEY#k2' }, userShape],
    ['an index cursor in an account listing', { pk: 'ACCOUNT#a1', sk: 'KEY#k1', gsi1pk: 'ACCOUNT#a1#USER#u1', gsi1sk: 'KEY#k1' }, accountShape],
    ['an array', [{ pk: 'ACCOUNT#a1', sk: 'KEY#k1' }], accountShape],
    ['null', null, accountShape],
  ])('refuses a cursor naming %s', (_, value, shape) => {
    expect(() => decodeCursor(encode(value), shape)).toThrow(ValidationError);
  });

  it('answers any string with a key of the caller\'s own partition or a ValidationError, nothing else', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.base64String(), fc.json().map(encode)), (cursor) => {
        try {
          const key = decodeCursor(cursor, accountShape);
          expect(key.pk).toBe('ACCOUNT#a1');
          expect(key.sk?.startsWith('KEY#')).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError);
          expect(error).toMatchObject({ field: 'cursor', rule: 'format' });
        }
      }),
    );
  });
});
