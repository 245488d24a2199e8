import { randomBytes } from 'node:crypto';
import type { Plan } from '../../shared/domain/plan.ts';
import type { UsageFigures, UsageKey, UsagePlans } from '../../shared/ports/usage-plans.ts';

/** What counts an account's requests locally (the local runtime's limiter). */
export interface UsageCounter {
  usage(accountId: string, plan: Plan, from: Date): UsageFigures;
}

/**
 * The local runtime's usage plans: a usage-plan key is made for every account (so that the
 * authorizer behaves as in AWS), the limiter applies each account's plan from the authorizer's
 * context, and usage is read from the limiter. Without a counter (a command-line tool) usage
 * is not known and reads as none.
 */
export class LocalUsagePlans implements UsagePlans {
  readonly #counter: UsageCounter | undefined;

  constructor(counter?: UsageCounter) {
    this.#counter = counter;
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

  usage(accountId: string, _key: UsageKey | undefined, plan: Plan, from: Date): Promise<UsageFigures> {
    return Promise.resolve(this.#counter?.usage(accountId, plan, from) ?? { used: 0, remaining: plan.quota?.limit ?? null });
  }
}
