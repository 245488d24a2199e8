import { type DailyUsage, type Plan, type QuotaPeriod, USAGE_DAYS, dailySeries, nextPeriodStart, periodStart } from '#shared/domain/plan.ts';
import { planFromContext } from '#shared/authorization/plan-context.ts';
import type { UsageFigures } from '#shared/ports/usage-plans.ts';

/**
 * The local runtime's stand-in for API Gateway's usage plans: per account, a token bucket
 * (`rateLimit` tokens a second, at most `burstLimit` held) and a request counter per quota
 * period. It runs after the authorizer and reads the account and its plan from the
 * authorizer's context, so it costs no read; requests without valid keys never reach it
 * (they are 401 before), and each account has its own bucket, so one account's traffic never
 * throttles another.
 *
 * Each account's requests are also counted per UTC day for the last `USAGE_DAYS` days (the
 * console's chart; API Gateway's GetUsage gives the same per day on AWS).
 *
 * State lives in this process's memory: a restart refills every bucket and restarts every
 * quota and day count. API Gateway's own quota counts are durable; this one is a development stand-in.
 */

export type LimiterVerdict = 'allow' | 'throttled' | 'quota-exceeded';

/** What the gateway asks before it invokes a handler for an authorized request. */
export interface RequestLimiter {
  admit(context: Readonly<Record<string, string | undefined>>): LimiterVerdict;
}

interface AccountState {
  tokens: number;
  refilledAt: number;
  /** The quota period the count belongs to (DAY when the plan has none: usage is still shown per day). */
  period: QuotaPeriod;
  periodStartsAt: number;
  periodEndsAt: number;
  count: number;
  /** Requests let through per UTC day (days since the epoch), the last `USAGE_DAYS` days only. */
  readonly days: Map<number, number>;
}

const DAY_MS = 86_400_000;

export interface AccountLimiterOptions {
  readonly defaultPlan: Plan;
  /** Milliseconds since the epoch. @default Date.now */
  readonly now?: () => number;
  /** Accounts tracked at once; the least recently seen is dropped past it. @default 100000 */
  readonly maxAccounts?: number;
}

export class AccountLimiter implements RequestLimiter {
  readonly defaultPlan: Plan;
  readonly #now: () => number;
  readonly #maxAccounts: number;
  readonly #accounts = new Map<string, AccountState>();

  constructor(options: AccountLimiterOptions) {
    this.defaultPlan = options.defaultPlan;
    this.#now = options.now ?? Date.now;
    this.#maxAccounts = options.maxAccounts ?? 100_000;
  }

  admit(context: Readonly<Record<string, string | undefined>>): LimiterVerdict {
    const accountId = context.accountId;
    // Only an authorized request reaches here, and the authorizer always names the account.
    if (accountId === undefined || accountId === '') return 'allow';
    return this.take(accountId, planFromContext(context) ?? this.defaultPlan);
  }

  /** One request of `accountId` under `plan`: counted and let through, or refused and not counted. */
  take(accountId: string, plan: Plan): LimiterVerdict {
    const now = this.#now();
    const state = this.#state(accountId, plan, now);
    if (plan.quota !== null && state.count >= plan.quota.limit) return 'quota-exceeded';
    state.tokens = Math.min(plan.burstLimit, state.tokens + ((now - state.refilledAt) / 1000) * plan.rateLimit);
    state.refilledAt = now;
    if (state.tokens < 1) return 'throttled';
    state.tokens -= 1;
    state.count += 1;
    countDay(state.days, Math.floor(now / DAY_MS));
    return 'allow';
  }

  /** The account's count in the current period of `plan` (from `from`), and what is left of its quota. */
  usage(accountId: string, plan: Plan, from: Date): Pick<UsageFigures, 'used' | 'remaining'> {
    const state = this.#accounts.get(accountId);
    const period = plan.quota?.period ?? 'DAY';
    const current = state !== undefined && state.period === period && state.periodStartsAt === from.getTime() && this.#now() < state.periodEndsAt;
    const used = current ? state.count : 0;
    return { used, remaining: plan.quota === null ? null : Math.max(0, plan.quota.limit - used) };
  }

  /** The account's requests on each of the `USAGE_DAYS` UTC days ending with `at`'s (the limiter's clock by default). */
  daily(accountId: string, at: Date = new Date(this.#now())): DailyUsage[] {
    const days = this.#accounts.get(accountId)?.days;
    return dailySeries(at, (date) => days?.get(Date.parse(date) / DAY_MS));
  }

  #state(accountId: string, plan: Plan, now: number): AccountState {
    const period = plan.quota?.period ?? 'DAY';
    let state = this.#accounts.get(accountId);
    if (state === undefined) {
      if (this.#accounts.size >= this.#maxAccounts) {
        const oldest = this.#accounts.keys().next();
        if (oldest.done !== true) this.#accounts.delete(oldest.value);
      }
      state = { tokens: plan.burstLimit, refilledAt: now, period, periodStartsAt: 0, periodEndsAt: 0, count: 0, days: new Map() };
    } else {
      // Re-inserted so that the map's order is least recently seen first.
      this.#accounts.delete(accountId);
    }
    this.#accounts.set(accountId, state);
    if (state.period !== period || now >= state.periodEndsAt || now < state.periodStartsAt) {
      const at = new Date(now);
      state.period = period;
      state.periodStartsAt = periodStart(period, at).getTime();
      state.periodEndsAt = nextPeriodStart(period, at).getTime();
      state.count = 0;
    }
    return state;
  }
}

/**
 * One more request on `day`. A day's first request drops the days the series no longer shows
 * (and any ahead of `day`, should the clock have gone back), so at most `USAGE_DAYS` are kept.
 */
function countDay(days: Map<number, number>, day: number): void {
  const count = days.get(day);
  if (count !== undefined) {
    days.set(day, count + 1);
    return;
  }
  for (const kept of days.keys()) if (kept <= day - USAGE_DAYS || kept > day) days.delete(kept);
  days.set(day, 1);
}

/** A method throttle's steady rate (requests per second) and burst. */
export interface ThrottleLimits {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

/**
 * API Gateway's method throttling, for the routes that need no keys: one token bucket per
 * method, shared by every caller (there is no account to tell callers apart before the
 * handler runs), the same buckets as the accounts' above, keyed by the method.
 */
export class MethodThrottle {
  readonly limits: ThrottleLimits;
  readonly #buckets: AccountLimiter;
  readonly #plan: Plan;

  constructor(limits: ThrottleLimits, options: { readonly now?: () => number } = {}) {
    this.limits = limits;
    this.#plan = { rateLimit: limits.rateLimit, burstLimit: limits.burstLimit, quota: null };
    this.#buckets = new AccountLimiter({ defaultPlan: this.#plan, ...(options.now === undefined ? {} : { now: options.now }) });
  }

  /** One request of the method: let through (and counted), or over the throttle. */
  admit(method: string, resourcePath: string): 'allow' | 'throttled' {
    return this.#buckets.take(`${method} ${resourcePath}`, this.#plan) === 'allow' ? 'allow' : 'throttled';
  }
}
