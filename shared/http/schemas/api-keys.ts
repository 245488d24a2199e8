import * as z from 'zod';
import { MAX_KEY_LIFETIME_DAYS } from '../../domain/key-lifecycle.ts';
import { KEY_NAME_MAX, KEY_NAME_MIN } from '../../domain/key-name.ts';
import { CidrRuleView } from './cidr-allow-list.ts';
import { API_COMPONENTS, type GroupSchemas, Id, KeyIdParams, Timestamp } from './common.ts';
import { Cursor, Limit, NextCursor } from './paging.ts';
import { RollBody } from './rolls.ts';

const KeyName = z
  .string()
  .min(KEY_NAME_MIN, `must be between ${KEY_NAME_MIN} and ${KEY_NAME_MAX} characters long`)
  .max(KEY_NAME_MAX, `must be between ${KEY_NAME_MIN} and ${KEY_NAME_MAX} characters long`)
  .regex(/^[A-Za-z0-9_-]+$/, 'may contain only letters, digits, hyphens and underscores; spaces are not allowed')
  .describe('Unique within the account');

export const ApiKeyView = z
  .strictObject({
    id: Id,
    name: z.string(),
    userId: Id,
    createdAt: Timestamp,
    lastUsedAt: Timestamp.nullable().describe('Updated at most once a minute'),
    cidrAllowList: z.array(CidrRuleView).describe('Empty: every address is allowed'),
    expiresAt: Timestamp.nullable().describe('When the key stops working; null = never'),
    createdBy: z
      .strictObject({ userId: Id.nullable(), keyId: Id.nullable() })
      .describe('Who issued the key: the user and the key that made the request; both null when the system did (sign-up, admin CLI)'),
  })
  .register(API_COMPONENTS, { id: 'ApiKey' });

export const CreatedApiKeyView = ApiKeyView.extend({
  secret: z.string().describe('The user key (`x-api-secret-key`). Shown once: only its peppered hash is stored.'),
}).register(API_COMPONENTS, { id: 'CreatedApiKey' });

const ApiKeyListView = z
  .strictObject({ items: z.array(ApiKeyView), nextCursor: NextCursor })
  .register(API_COMPONENTS, { id: 'ApiKeyList' });
const RolledApiKeyView = CreatedApiKeyView.extend({
  previousSecretExpiresAt: Timestamp.nullable().describe('Until when the previous secret works; null: it stopped at once'),
}).register(API_COMPONENTS, { id: 'RolledApiKey' });

export const API_KEYS_SCHEMAS = {
  listApiKeys: {
    query: z.strictObject({ userId: Id.optional().describe("Only this user's keys"), limit: Limit, cursor: Cursor }),
    response: ApiKeyListView,
  },
  createApiKey: {
    body: z.strictObject({
      name: KeyName,
      userId: Id,
      expiresAt: z.iso
        .datetime({ offset: true, error: 'must be an RFC 3339 date-time, e.g. 2030-01-31T12:00:00Z' })
        .optional()
        .describe(`RFC 3339; in the future, at most ${MAX_KEY_LIFETIME_DAYS} days ahead. Absent: the key never expires`),
    }),
    response: CreatedApiKeyView,
    refusals: [404, 409, 422],
  },
  getApiKey: { params: KeyIdParams, response: ApiKeyView, refusals: [404] },
  deleteApiKey: { params: KeyIdParams, refusals: [404] },
  rollApiKey: { params: KeyIdParams, body: RollBody, response: RolledApiKeyView, refusals: [404, 409] },
} as const satisfies GroupSchemas<'api-keys'>;
