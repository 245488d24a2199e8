import { randomBytes } from 'node:crypto';
import { type DailyUsage, type Plan, dailySeries } from '../../shared/domain/plan.ts';
import type { UsageFigures, UsageKey, UsagePlans } from '../../shared/ports/usage-plans.ts';

/** What counts an account's requests locally (the local runtime's limiter). */
export interface UsageCounter {
  usage(accountId: string, plan: Plan, from: Date): Pick<UsageFigures, 'used' | 'remaining'>;
  /** Requests per UTC day over the `USAGE_DAYS` days ending with `at`'s. */
  daily(accountId: string, at: Date): readonly DailyUsage[];
}

/**
 * The local runtime's usage plans: a usage-plan key is made for every account (so that the
 * authorizer behaves as in AWS), the limiter applies each account's plan from the authorizer's
 * context, and usage is read from the limiter. Without a counter (a command-line tool) usage
 * is not known and reads as none.
 */
export class LocalUsagePlans implements UsagePlans {
  /** Whether the local gateway holds accounts to their plans (true unless it emulates a gateway without usage plans). */
  readonly enforced: boolean;
  readonly #counter: UsageCounter | undefined;

  constructor(counter?: UsageCounter, options: { readonly enforced?: boolean } = {}) {
    this.#counter = counter;
    this.enforced = options.enforced ?? true;
  }

  createKey(): Promise<UsageKey> {
    return Promise.resolve({ id: `local-${randomBytes(8).toString('hex')}`, value: randomBytes(24).toString('hex'), usagePlanId: null });
  }

  deleteKey(): Promise<void> {
    return Promise.resolve();
  }

  assignPlan(key: UsageKey): Promise<UsageKey> {
    return Promise.resolve(key);
  }

  usage(accountId: string, _key: UsageKey | undefined, plan: Plan, from: Date, at: Date): Promise<UsageFigures> {
    if (this.#counter === undefined) return Promise.resolve({ used: 0, remaining: plan.quota?.limit ?? null, daily: dailySeries(at, () => 0) });
    return Promise.resolve({ ...this.#counter.usage(accountId, plan, from), daily: this.#counter.daily(accountId, at) });
  }
}
