import * as z from 'zod/mini';
import { API_COMPONENTS, type GroupSchemas } from './common.ts';

/** A leak report names at most this many strings, each at most this long: the work one request can cause is bounded. */
export const MAX_LEAKED_KEYS = 100;
export const MAX_LEAKED_KEY_LENGTH = 256;

const LeakReportAcceptedView = z
  .strictObject({})
  .check(z.describe('Always empty: the answer says nothing about the keys'))
  .register(API_COMPONENTS, { id: 'LeakReportAccepted' });

/** GitHub's alert fields beyond the token are informative; bounded so that the body stays within the size limit. */
const MAX_ALERT_FIELD_LENGTH = 2048;

const GitHubAlert = z.object({
  token: z.string().check(z.maxLength(MAX_LEAKED_KEY_LENGTH, `must be at most ${MAX_LEAKED_KEY_LENGTH} characters`)),
  type: z.string().check(z.maxLength(100, 'must be at most 100 characters'), z.describe('The secret type, e.g. `latchkey_user_key`')),
  url: z.optional(z.string().check(z.maxLength(MAX_ALERT_FIELD_LENGTH, `must be at most ${MAX_ALERT_FIELD_LENGTH} characters`))),
  source: z.optional(z.string().check(z.maxLength(MAX_ALERT_FIELD_LENGTH, `must be at most ${MAX_ALERT_FIELD_LENGTH} characters`))),
});

const GitHubAlertFeedbackView = z
  .array(
    z.strictObject({
      token_hash: z.string().check(z.describe('Hex SHA-256 of the token')),
      token_type: z.string(),
      label: z.enum(['true_positive', 'false_positive']).check(z.describe('`true_positive` for a Latchkey key that was live')),
    }),
  )
  .check(z.describe("GitHub's feedback: one entry per alert, in order"))
  .register(API_COMPONENTS, { id: 'GitHubAlertFeedback' });

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
  reportGitHubAlerts: {
    // GitHub's own format; it may add fields, so unknown ones are passed over (object, not strictObject).
    body: z
      .array(GitHubAlert)
      .check(
        z.minLength(1, 'must hold at least 1 alert'),
        z.maxLength(MAX_LEAKED_KEYS, `must hold at most ${MAX_LEAKED_KEYS} alerts`),
        z.describe('Signed by GitHub: headers `Github-Public-Key-Identifier` and `Github-Public-Key-Signature` (ECDSA P-256, SHA-256, base64 DER over the raw body)'),
      ),
    response: GitHubAlertFeedbackView,
    refusals: [401],
  },
} as const satisfies GroupSchemas<'leaked-keys'>;
