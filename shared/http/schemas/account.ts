import * as z from 'zod';
import { QUOTA_PERIODS } from '../../domain/plan.ts';
import { API_COMPONENTS, type GroupSchemas, Id, Timestamp } from './common.ts';
import { RollBody } from './rolls.ts';

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
    daily: z
      .array(
        z.strictObject({
          date: z.iso.date().describe('A UTC day, YYYY-MM-DD'),
          requests: z.int().describe('Requests counted that day'),
        }),
      )
      .describe('The last 30 UTC days, oldest first, today last; 0 for a day without traffic'),
  })
  .register(API_COMPONENTS, { id: 'Usage' });

const RevealedAccountKeyView = z
  .strictObject({ accountKey: z.string().describe('The account key (`x-api-key`)') })
  .register(API_COMPONENTS, { id: 'RevealedAccountKey' });
const RolledAccountKeyView = z
  .strictObject({
    accountKey: z.string().describe('The new account key (`x-api-key`); `GET /v1/account/key` reveals it again'),
    previousKeyExpiresAt: Timestamp.nullable().describe('Until when the previous account key works; null: it stopped at once'),
  })
  .register(API_COMPONENTS, { id: 'RolledAccountKey' });

export const ACCOUNT_SCHEMAS = {
  getAccount: { response: AccountView },
  revealAccountKey: { response: RevealedAccountKeyView },
  rollAccountKey: { body: RollBody, response: RolledAccountKeyView, refusals: [409] },
  getAccountUsage: { response: UsageView },
  updateAccount: {
    body: z.strictObject({ apiEnabled: z.boolean().describe('false: every request of the account is 401, except GET and PATCH /v1/account with an owner key') }),
    response: AccountView,
  },
} as const satisfies GroupSchemas<'account'>;
