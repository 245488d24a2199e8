import { ValidationError } from './errors.ts';

/**
 * An account's plan: how fast it may call (a token bucket of `rateLimit` requests per second
 * holding at most `burstLimit`) and, optionally, how many requests it may make per day, week
 * or month. The same numbers configure an API Gateway usage plan and the local limiter.
 */
export const QUOTA_PERIODS = ['DAY', 'WEEK', 'MONTH'] as const;
export type QuotaPeriod = (typeof QUOTA_PERIODS)[number];

export interface Quota {
  readonly limit: number;
  readonly period: QuotaPeriod;
}

export interface Plan {
  readonly rateLimit: number;
  readonly burstLimit: number;
  readonly quota: Quota | null;
}

/** API Gateway's own bounds are far above these; they keep a typo from meaning "unlimited". */
export const MAX_RATE_LIMIT = 10_000;
export const MAX_BURST_LIMIT = 5_000;
export const MAX_QUOTA_LIMIT = 2_000_000_000;

export const DEFAULT_PLAN: Plan = { rateLimit: 50, burstLimit: 100, quota: null };

export function isQuotaPeriod(value: unknown): value is QuotaPeriod {
  return typeof value === 'string' && (QUOTA_PERIODS as readonly string[]).includes(value);
}

/**
 * Checks a plan's numbers: a rate above 0 (fractions allowed, as in API Gateway), a whole
 * burst of at least 1, and a whole quota of at least 1 with a known period.
 */
export function validatePlan(plan: { rateLimit: number; burstLimit: number; quota: { limit: number; period: string } | null }): Plan {
  if (!Number.isFinite(plan.rateLimit) || plan.rateLimit <= 0 || plan.rateLimit > MAX_RATE_LIMIT) {
    throw new ValidationError('rateLimit', 'range', `rateLimit must be a number of requests per second above 0 and at most ${MAX_RATE_LIMIT}`);
  }
  if (!Number.isInteger(plan.burstLimit) || plan.burstLimit < 1 || plan.burstLimit > MAX_BURST_LIMIT) {
    throw new ValidationError('burstLimit', 'range', `burstLimit must be a whole number from 1 to ${MAX_BURST_LIMIT}`);
  }
  if (plan.quota === null) return { rateLimit: plan.rateLimit, burstLimit: plan.burstLimit, quota: null };
  const { limit, period } = plan.quota;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_QUOTA_LIMIT) {
    throw new ValidationError('quota.limit', 'range', `the quota must be a whole number of requests from 1 to ${MAX_QUOTA_LIMIT}`);
  }
  if (!isQuotaPeriod(period)) throw new ValidationError('quota.period', 'enum', `the quota period must be one of ${QUOTA_PERIODS.join(', ')}`);
  return { rateLimit: plan.rateLimit, burstLimit: plan.burstLimit, quota: { limit, period } };
}

/**
 * The start of the quota period holding `at`, in UTC, as API Gateway counts it: days from
 * midnight, weeks from Sunday (a usage plan's quota offset 0), months from the first.
 */
export function periodStart(period: QuotaPeriod, at: Date): Date {
  const day = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
  switch (period) {
    case 'DAY':
      return new Date(day);
    case 'WEEK':
      return new Date(day - at.getUTCDay() * 86_400_000);
    case 'MONTH':
      return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
  }
}

/** The start of the period after the one holding `at`. */
export function nextPeriodStart(period: QuotaPeriod, at: Date): Date {
  const start = periodStart(period, at);
  switch (period) {
    case 'DAY':
      return new Date(start.getTime() + 86_400_000);
    case 'WEEK':
      return new Date(start.getTime() + 7 * 86_400_000);
    case 'MONTH':
      return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
  }
}

/** Usage as owners and viewers see it: requests counted in the current period (a day when the plan has no quota). */
export interface Usage {
  readonly plan: Plan;
  /**
   * Whether the gateway holds the account to its plan: API Gateway REST's usage plans (and the
   * local runtime's limiter) do; HTTP API has none (DESIGN 15), so there the plan is not enforced
   * and nothing is counted.
   */
  readonly enforced: boolean;
  readonly used: number;
  /** Requests left before the quota answers 429; null without a quota. */
  readonly remaining: number | null;
  readonly periodStart: string;
  /** The last `USAGE_DAYS` UTC days, oldest first, today last. */
  readonly daily: readonly DailyUsage[];
}

/** Requests counted on one UTC day (`date`: YYYY-MM-DD). */
export interface DailyUsage {
  readonly date: string;
  readonly requests: number;
}

/** How many days the daily series covers (the console's chart): a month whichever month. */
export const USAGE_DAYS = 30;

const DAY_MS = 86_400_000;

/** The UTC day of `at` as YYYY-MM-DD. */
export function utcDate(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** The `USAGE_DAYS` UTC days ending with `at`'s, oldest first, as YYYY-MM-DD. */
export function usageDays(at: Date): string[] {
  const today = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
  return Array.from({ length: USAGE_DAYS }, (_, index) => utcDate(new Date(today - (USAGE_DAYS - 1 - index) * DAY_MS)));
}

/** The series over `usageDays(at)`, each day's count from `requestsOn` (0 for a day it does not know). */
export function dailySeries(at: Date, requestsOn: (date: string) => number | undefined): DailyUsage[] {
  return usageDays(at).map((date) => ({ date, requests: requestsOn(date) ?? 0 }));
}

/** Two plans are the same tier when every number matches. */
export function samePlan(a: Plan, b: Plan): boolean {
  return (
    a.rateLimit === b.rateLimit &&
    a.burstLimit === b.burstLimit &&
    (a.quota === null ? b.quota === null : b.quota !== null && a.quota.limit === b.quota.limit && a.quota.period === b.quota.period)
  );
}
