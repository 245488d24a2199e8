import * as z from 'zod/mini';
import { QUOTA_PERIODS } from '../../domain/plan.ts';
import { API_COMPONENTS, type GroupSchemas, Id, Timestamp } from './common.ts';
import { RollBody } from './rolls.ts';

export const AccountView = z
  .strictObject({
    id: Id,
    name: z.string(),
    apiEnabled: z.boolean(),
    accountKey: z.strictObject({ masked: z.string().check(z.describe('The prefix and the last four characters')) }),
    createdAt: Timestamp,
    accountKeyLeakReportedAt: z
      .nullable(Timestamp)
      .check(z.describe('When the account key was reported as leaked (`POST /v1/leaked-keys`): roll it. null = no report since its last roll')),
  })
  .register(API_COMPONENTS, { id: 'Account' });

export const PlanView = z
  .strictObject({
    rateLimit: z.number().check(z.describe('Requests per second (a token bucket refilled at this rate)')),
    burstLimit: z.int().check(z.describe('Requests that may arrive at once (the bucket\'s size)')),
    quota: z
      .nullable(z.strictObject({ limit: z.int(), period: z.enum(QUOTA_PERIODS).check(z.describe('Days start at 00:00 UTC, weeks on Sunday, months on the 1st')) }))
      .check(z.describe('Requests per period; null: no quota')),
  })
  .register(API_COMPONENTS, { id: 'Plan' });

export const UsageView = z
  .strictObject({
    plan: PlanView,
    enforced: z
      .boolean()
      .check(
        z.describe(
          'Whether the gateway holds the account to its plan. true on API Gateway REST (usage plans); false on the HTTP API flavor, which has no usage plans: nothing is refused for the plan and nothing is counted (used and daily are 0, remaining null)',
        ),
      ),
    used: z.int().check(z.describe('Requests counted in the current period (the current UTC day without a quota)')),
    remaining: z.nullable(z.int()).check(z.describe('Requests left before 429 Limit Exceeded; null without a quota')),
    periodStart: Timestamp,
    daily: z
      .array(
        z.strictObject({
          date: z.iso.date().check(z.describe('A UTC day, YYYY-MM-DD')),
          requests: z.int().check(z.describe('Requests counted that day')),
        }),
      )
      .check(z.describe('The last 30 UTC days, oldest first, today last; 0 for a day without traffic')),
  })
  .register(API_COMPONENTS, { id: 'Usage' });

const RevealedAccountKeyView = z
  .strictObject({ accountKey: z.string().check(z.describe('The account key (`x-api-key`)')) })
  .register(API_COMPONENTS, { id: 'RevealedAccountKey' });
const RolledAccountKeyView = z
  .strictObject({
    accountKey: z.string().check(z.describe('The new account key (`x-api-key`); `GET /v1/account/key` reveals it again')),
    previousKeyExpiresAt: z.nullable(Timestamp).check(z.describe('Until when the previous account key works; null: it stopped at once')),
  })
  .register(API_COMPONENTS, { id: 'RolledAccountKey' });

export const ACCOUNT_SCHEMAS = {
  getAccount: { response: AccountView },
  revealAccountKey: { response: RevealedAccountKeyView },
  rollAccountKey: { body: RollBody, response: RolledAccountKeyView, refusals: [409] },
  getAccountUsage: { response: UsageView },
  updateAccount: {
    body: z.strictObject({
      apiEnabled: z.boolean().check(z.describe('false: every request of the account is 401, except GET and PATCH /v1/account with an owner key')),
    }),
    response: AccountView,
  },
} as const satisfies GroupSchemas<'account'>;
