import * as z from 'zod';

/** Page size for listings. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

export const Limit = z.coerce
  .number()
  .int('must be a whole number')
  .min(1, 'must be at least 1')
  .max(MAX_PAGE_SIZE, `must be at most ${MAX_PAGE_SIZE}`)
  .default(DEFAULT_PAGE_SIZE)
  .describe('Page size');
export const Cursor = z.string().min(1).max(2048).optional().describe('The `nextCursor` of the previous page');
export const NextCursor = z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page');
