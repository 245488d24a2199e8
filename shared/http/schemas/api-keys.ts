import * as z from 'zod/mini';
import { MAX_KEY_LIFETIME_DAYS } from '../../domain/key-lifecycle.ts';
import { KEY_NAME_MAX, KEY_NAME_MIN } from '../../domain/key-name.ts';
import { CidrRuleView } from './cidr-allow-list.ts';
import { API_COMPONENTS, type GroupSchemas, Id, KeyIdParams, Timestamp } from './common.ts';
import { Cursor, Limit, NextCursor } from './paging.ts';
import { PermissionList } from './permissions.ts';
import { RollBody } from './rolls.ts';

const KeyName = z
  .string()
  .check(
    z.minLength(KEY_NAME_MIN, `must be between ${KEY_NAME_MIN} and ${KEY_NAME_MAX} characters long`),
    z.maxLength(KEY_NAME_MAX, `must be between ${KEY_NAME_MIN} and ${KEY_NAME_MAX} characters long`),
    z.regex(/^[A-Za-z0-9_-]+$/, 'may contain only letters, digits, hyphens and underscores; spaces are not allowed'),
    z.describe('Unique within the account'),
  );

export const ApiKeyView = z
  .strictObject({
    id: Id,
    name: z.string(),
    userId: Id,
    createdAt: Timestamp,
    lastUsedAt: z.nullable(Timestamp).check(z.describe('Updated at most once a minute')),
    cidrAllowList: z.array(CidrRuleView).check(z.describe('Empty: every address is allowed')),
    expiresAt: z.nullable(Timestamp).check(z.describe('When the key stops working; null = never')),
    createdBy: z
      .strictObject({ userId: z.nullable(Id), keyId: z.nullable(Id) })
      .check(z.describe('Who issued the key: the user and the key that made the request; both null when the system did (sign-up, admin CLI)')),
    permissions: z
      .nullable(z.array(z.string()))
      .check(z.describe("What the key is restricted to; null = unrestricted, all of its holder's role's. A permission the holder's role no longer grants stays listed and grants nothing")),
  })
  .register(API_COMPONENTS, { id: 'ApiKey' });

export const CreatedApiKeyView = z
  .extend(ApiKeyView, {
    secret: z.string().check(z.describe('The user key (`x-api-secret-key`). Shown once: only its peppered hash is stored.')),
  })
  .register(API_COMPONENTS, { id: 'CreatedApiKey' });

const ApiKeyListView = z
  .strictObject({ items: z.array(ApiKeyView), nextCursor: NextCursor })
  .register(API_COMPONENTS, { id: 'ApiKeyList' });
const RolledApiKeyView = z
  .extend(CreatedApiKeyView, {
    previousSecretExpiresAt: z.nullable(Timestamp).check(z.describe('Until when the previous secret works; null: it stopped at once')),
  })
  .register(API_COMPONENTS, { id: 'RolledApiKey' });

export const API_KEYS_SCHEMAS = {
  listApiKeys: {
    query: z.strictObject({ userId: z.optional(Id).check(z.describe("Only this user's keys")), limit: Limit, cursor: Cursor }),
    response: ApiKeyListView,
  },
  createApiKey: {
    body: z.strictObject({
      name: KeyName,
      userId: Id,
      expiresAt: z
        .optional(z.iso.datetime({ offset: true, error: 'must be an RFC 3339 date-time, e.g. 2030-01-31T12:00:00Z' }))
        .check(z.describe(`RFC 3339; in the future, at most ${MAX_KEY_LIFETIME_DAYS} days ahead. Absent: the key never expires`)),
      permissions: z.optional(PermissionList).check(z.describe('Restricts the key (see PATCH). Absent: unrestricted')),
    }),
    response: CreatedApiKeyView,
    refusals: [404, 409, 422],
  },
  getApiKey: { params: KeyIdParams, response: ApiKeyView, refusals: [404] },
  deleteApiKey: { params: KeyIdParams, refusals: [404] },
  rollApiKey: { params: KeyIdParams, body: RollBody, response: RolledApiKeyView, refusals: [404, 409] },
  updateApiKey: {
    params: KeyIdParams,
    body: z.strictObject({
      permissions: z.nullable(PermissionList).check(z.describe("The key's new restriction, in effect at once (narrowing or widening); null lifts it")),
    }),
    response: ApiKeyView,
    refusals: [404, 409, 422],
  },
} as const satisfies GroupSchemas<'api-keys'>;
