import * as z from 'zod/mini';

/** Page size for listings. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

export const Limit = z
  ._default(
    z.coerce
      .number()
      .check(z.int('must be a whole number'), z.gte(1, 'must be at least 1'), z.lte(MAX_PAGE_SIZE, `must be at most ${MAX_PAGE_SIZE}`)),
    DEFAULT_PAGE_SIZE,
  )
  .check(z.describe('Page size'));
export const Cursor = z.optional(z.string().check(z.minLength(1), z.maxLength(2048))).check(z.describe('The `nextCursor` of the previous page'));
export const NextCursor = z.nullable(z.string()).check(z.describe('Pass as `cursor` for the next page; null on the last page'));
