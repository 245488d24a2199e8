import type { DailyUsage, Plan } from '../domain/plan.ts';

/**
 * An account's usage-plan key: an API Gateway API key (or the local runtime's stand-in) that
 * only the authorizer ever presents, as `usageIdentifierKey`. Never shown to anyone.
 */
export interface UsageKey {
  readonly id: string;
  readonly value: string;
  /** The usage plan the key is associated with; null locally. */
  readonly usagePlanId: string | null;
}

/** What an account has used of its plan in the current period, and per day over the last `USAGE_DAYS`. */
export interface UsageFigures {
  readonly used: number;
  readonly remaining: number | null;
  /** The `USAGE_DAYS` UTC days ending with the day of `at`, oldest first (`dailySeries`). */
  readonly daily: readonly DailyUsage[];
}

/**
 * Per-account usage plans: API Gateway's (usage plans, API keys and their usage data), or the
 * local runtime's limiter. The domain decides which plan an account is on; this applies it.
 */
export interface UsagePlans {
  /** Whether requests over an account's plan are refused (429) and counted; false where the gateway has no usage plans. */
  readonly enforced: boolean;
  /** A new usage-plan key for the account, associated with the usage plan of `plan` (null: the default plan). */
  createKey(accountId: string, plan: Plan | null): Promise<UsageKey>;
  /** Removes the key and its association; a key already gone is not an error. */
  deleteKey(key: UsageKey): Promise<void>;
  /** Associates the key with the usage plan of `plan` instead of its current one; returns the key as now associated. */
  assignPlan(key: UsageKey, plan: Plan | null): Promise<UsageKey>;
  /** Requests counted for the key from `from` (a period start) to `at`, and on each of the last `USAGE_DAYS` days to `at`. */
  usage(accountId: string, key: UsageKey | undefined, plan: Plan, from: Date, at: Date): Promise<UsageFigures>;
}
