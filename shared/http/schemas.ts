import * as z from 'zod';
import { MAX_KEY_LIFETIME_DAYS } from '../domain/key-lifecycle.ts';
import { KEY_NAME_MAX, KEY_NAME_MIN } from '../domain/key-name.ts';
import { QUOTA_PERIODS } from '../domain/plan.ts';
import { KEY_ROLES, ROLES } from '../domain/roles.ts';
import type { OperationId } from './routes.ts';

/**
 * Request and response schemas of every operation in the route table, keyed by operationId.
 * The handlers validate requests with them and the OpenAPI document is generated from them,
 * so the contract and the behaviour cannot drift apart. Objects are strict: an unknown field
 * in a request is refused (a misspelt field would otherwise be silently ignored), and an
 * unexpected field in a response is a fault rather than a leak.
 */

/** Named schemas: the OpenAPI document's `components.schemas`. */
export const API_COMPONENTS = z.registry<{ id: string }>();

const Id = z.string().regex(/^[0-9A-Za-z]{16}$/, 'must be a 16-character id').describe('16 base62 characters');
const Timestamp = z.iso.datetime().describe('ISO 8601, UTC').register(API_COMPONENTS, { id: 'Timestamp' });

/** Page size for listings. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;
/** Bodies are tiny; anything larger is refused before it is parsed. */
export const MAX_BODY_BYTES = 16 * 1024;

const Limit = z.coerce
  .number()
  .int('must be a whole number')
  .min(1, 'must be at least 1')
  .max(MAX_PAGE_SIZE, `must be at most ${MAX_PAGE_SIZE}`)
  .default(DEFAULT_PAGE_SIZE)
  .describe('Page size');
const Cursor = z.string().min(1).max(2048).optional().describe('The `nextCursor` of the previous page');

const UserName = z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters');
const Email = z.email('must be an email address').max(254, 'must be at most 254 characters');
const RoleSchema = z.enum(ROLES);
const KeyName = z
  .string()
  .min(KEY_NAME_MIN, `must be between ${KEY_NAME_MIN} and ${KEY_NAME_MAX} characters long`)
  .max(KEY_NAME_MAX, `must be between ${KEY_NAME_MIN} and ${KEY_NAME_MAX} characters long`)
  .regex(/^[A-Za-z0-9_-]+$/, 'may contain only letters, digits, hyphens and underscores; spaces are not allowed')
  .describe('Unique within the account');
const CidrInput = z
  .string()
  .max(64, 'must be at most 64 characters')
  .describe('An IPv4 or IPv6 CIDR in network form (`10.0.0.0/8`, `2001:db8::/32`); a bare address means /32 or /128');

export const CidrRuleView = z.strictObject({ id: Id, cidr: z.string(), createdAt: Timestamp }).register(API_COMPONENTS, { id: 'CidrRule' });

export const UserView = z
  .strictObject({ id: Id, name: z.string(), email: z.string(), role: RoleSchema, createdAt: Timestamp })
  .register(API_COMPONENTS, { id: 'User' });

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

export const AuditEventView = z
  .strictObject({
    id: Id,
    time: Timestamp,
    action: z.string().describe('e.g. `api-key.create`, `cidr-rule.delete`, `account-key.reveal`'),
    actor: z.strictObject({ userId: Id.nullable(), keyId: Id.nullable() }),
    target: z.string().describe('e.g. `api-key/<id>`'),
    sourceIp: z.string().nullable(),
  })
  .register(API_COMPONENTS, { id: 'AuditEvent' });

export const AccountView = z
  .strictObject({
    id: Id,
    name: z.string(),
    apiEnabled: z.boolean(),
    accountKey: z.strictObject({ masked: z.string().describe('The prefix and the last four characters') }),
    createdAt: Timestamp,
    accountKeyLeakReportedAt: Timestamp.nullable().describe(
      'When the account key was reported as leaked (`POST /v1/leaked-keys`): roll it. null = no report since its last roll',
    ),
  })
  .register(API_COMPONENTS, { id: 'Account' });

export const WhoAmIView = z
  .strictObject({ accountId: Id, userId: Id, role: z.enum(KEY_ROLES), keyId: Id, sourceIp: z.string() })
  .register(API_COMPONENTS, { id: 'WhoAmI' });

export const PlanView = z
  .strictObject({
    rateLimit: z.number().describe('Requests per second (a token bucket refilled at this rate)'),
    burstLimit: z.int().describe('Requests that may arrive at once (the bucket\'s size)'),
    quota: z
      .strictObject({ limit: z.int(), period: z.enum(QUOTA_PERIODS).describe('Days start at 00:00 UTC, weeks on Sunday, months on the 1st') })
      .nullable()
      .describe('Requests per period; null: no quota'),
  })
  .register(API_COMPONENTS, { id: 'Plan' });

export const UsageView = z
  .strictObject({
    plan: PlanView,
    used: z.int().describe('Requests counted in the current period (the current UTC day without a quota)'),
    remaining: z.int().nullable().describe('Requests left before 429 Limit Exceeded; null without a quota'),
    periodStart: Timestamp,
  })
  .register(API_COMPONENTS, { id: 'Usage' });

const NextCursor = z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page');

export const ProblemFieldError = z
  .strictObject({ field: z.string(), rule: z.string(), message: z.string() })
  .register(API_COMPONENTS, { id: 'FieldError' });

/** RFC 9457 problem details. */
export const Problem = z
  .strictObject({
    type: z.string().describe('A URN naming the kind of problem'),
    title: z.string(),
    status: z.int().min(100).max(599),
    detail: z.string(),
    instance: z.string().optional().describe('The request path'),
    requestId: z.string().optional().describe('Quote it when reporting a problem'),
    errors: z.array(ProblemFieldError).optional().describe('Each field that broke a rule (validation problems only)'),
  })
  .register(API_COMPONENTS, { id: 'Problem' });

export interface OperationSchemas {
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly body?: z.ZodObject;
  /** Absent for 204 No Content. */
  readonly response?: z.ZodType;
  /**
   * The domain refusals the operation can answer with, beyond those every route can (400, 401,
   * 403, 500) and those of a route with a body (413, 415): documented in the OpenAPI document.
   */
  readonly refusals?: readonly (404 | 409 | 422)[];
}

const RevealedAccountKeyView = z
  .strictObject({ accountKey: z.string().describe('The account key (`x-api-key`)') })
  .register(API_COMPONENTS, { id: 'RevealedAccountKey' });
const UserListView = z.strictObject({ items: z.array(UserView) }).register(API_COMPONENTS, { id: 'UserList' });
const ApiKeyListView = z
  .strictObject({ items: z.array(ApiKeyView), nextCursor: NextCursor })
  .register(API_COMPONENTS, { id: 'ApiKeyList' });
const CidrAllowListView = z.strictObject({ rules: z.array(CidrRuleView) }).register(API_COMPONENTS, { id: 'CidrAllowList' });
const AuditEventListView = z
  .strictObject({ items: z.array(AuditEventView), nextCursor: NextCursor })
  .register(API_COMPONENTS, { id: 'AuditEventList' });

const KeyIdParams = z.strictObject({ keyId: Id });

/** A roll's grace period: at most a week, so that a replaced secret cannot stay alive indefinitely. */
export const MAX_GRACE_PERIOD_SECONDS = 604_800;
const RollBody = z.strictObject({
  gracePeriodSeconds: z
    .int('must be a whole number')
    .min(0, 'must be at least 0')
    .max(MAX_GRACE_PERIOD_SECONDS, `must be at most ${MAX_GRACE_PERIOD_SECONDS} (a week)`)
    .describe('How long the previous secret keeps working; 0 ends it at once'),
});
/** A leak report names at most this many strings, each at most this long: the work one request can cause is bounded. */
export const MAX_LEAKED_KEYS = 100;
export const MAX_LEAKED_KEY_LENGTH = 256;

const RolledApiKeyView = CreatedApiKeyView.extend({
  previousSecretExpiresAt: Timestamp.nullable().describe('Until when the previous secret works; null: it stopped at once'),
}).register(API_COMPONENTS, { id: 'RolledApiKey' });
const RolledAccountKeyView = z
  .strictObject({
    accountKey: z.string().describe('The new account key (`x-api-key`); `GET /v1/account/key` reveals it again'),
    previousKeyExpiresAt: Timestamp.nullable().describe('Until when the previous account key works; null: it stopped at once'),
  })
  .register(API_COMPONENTS, { id: 'RolledAccountKey' });
const LeakReportAcceptedView = z.strictObject({}).describe('Always empty: the answer says nothing about the keys').register(API_COMPONENTS, {
  id: 'LeakReportAccepted',
});
const RuleParams = z.strictObject({ keyId: Id, ruleId: Id });
const UserIdParams = z.strictObject({ userId: Id });
const CidrBody = z.strictObject({ cidr: CidrInput });

export const API_SCHEMAS = {
  whoami: { response: WhoAmIView },
  getAccount: { response: AccountView },
  revealAccountKey: { response: RevealedAccountKeyView },
  listUsers: { response: UserListView },
  createUser: { body: z.strictObject({ name: UserName, email: Email, role: RoleSchema }), response: UserView },
  updateUser: { params: UserIdParams, body: z.strictObject({ role: RoleSchema }), response: UserView, refusals: [404, 409] },
  deleteUser: { params: UserIdParams, refusals: [404, 409] },
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
  listCidrRules: { params: KeyIdParams, response: CidrAllowListView, refusals: [404] },
  addCidrRule: { params: KeyIdParams, body: CidrBody, response: CidrRuleView, refusals: [404, 409] },
  updateCidrRule: { params: RuleParams, body: CidrBody, response: CidrRuleView, refusals: [404, 409] },
  deleteCidrRule: { params: RuleParams, refusals: [404] },
  listEvents: {
    query: z.strictObject({ limit: Limit, cursor: Cursor }),
    response: AuditEventListView,
  },
  rollApiKey: { params: KeyIdParams, body: RollBody, response: RolledApiKeyView, refusals: [404, 409] },
  rollAccountKey: { body: RollBody, response: RolledAccountKeyView, refusals: [409] },
  reportLeakedKeys: {
    body: z.strictObject({
      keys: z
        .array(z.string().max(MAX_LEAKED_KEY_LENGTH, `must be at most ${MAX_LEAKED_KEY_LENGTH} characters`))
        .min(1, 'must name at least 1 key')
        .max(MAX_LEAKED_KEYS, `must name at most ${MAX_LEAKED_KEYS} keys`)
        .describe('Account keys (`lka_…`) and user keys (`lks_…`) found where they should not be'),
    }),
    response: LeakReportAcceptedView,
  },
  getAccountUsage: { response: UsageView },
  updateAccount: {
    body: z.strictObject({ apiEnabled: z.boolean().describe('false: every request of the account is 401, except GET and PATCH /v1/account with an owner key') }),
    response: AccountView,
  },
} as const satisfies Record<OperationId, OperationSchemas>;

type Schemas = typeof API_SCHEMAS;
type Part<K extends OperationId, P extends keyof OperationSchemas> = Schemas[K] extends { readonly [Q in P]: infer S extends z.ZodType }
  ? z.output<S>
  : undefined;

export type ParamsOf<K extends OperationId> = Part<K, 'params'>;
export type QueryOf<K extends OperationId> = Part<K, 'query'>;
export type BodyOf<K extends OperationId> = Part<K, 'body'>;
export type ResponseOf<K extends OperationId> = Part<K, 'response'>;

export function schemasOf(operationId: OperationId): OperationSchemas {
  return API_SCHEMAS[operationId];
}
