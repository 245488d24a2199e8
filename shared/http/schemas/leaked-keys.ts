import * as z from 'zod/mini';
import { API_COMPONENTS, type GroupSchemas } from './common.ts';

/** A leak report names at most this many strings, each at most this long: the work one request can cause is bounded. */
export const MAX_LEAKED_KEYS = 100;
export const MAX_LEAKED_KEY_LENGTH = 256;

const LeakReportAcceptedView = z
  .strictObject({})
  .check(z.describe('Always empty: the answer says nothing about the keys'))
  .register(API_COMPONENTS, { id: 'LeakReportAccepted' });

export const LEAKED_KEYS_SCHEMAS = {
  reportLeakedKeys: {
    body: z.strictObject({
      keys: z
        .array(z.string().check(z.maxLength(MAX_LEAKED_KEY_LENGTH, `must be at most ${MAX_LEAKED_KEY_LENGTH} characters`)))
        .check(
          z.minLength(1, 'must name at least 1 key'),
          z.maxLength(MAX_LEAKED_KEYS, `must name at most ${MAX_LEAKED_KEYS} keys`),
          z.describe('Account keys (`lka_…`) and user keys (`lks_…`) found where they should not be'),
        ),
    }),
    response: LeakReportAcceptedView,
  },
} as const satisfies GroupSchemas<'leaked-keys'>;
