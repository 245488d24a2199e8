import { randomBytes } from 'node:crypto';
import { type Plan, dailySeries } from '../domain/plan.ts';
import type { UsageFigures, UsageKey, UsagePlans } from '../ports/usage-plans.ts';

/**
 * The usage plans of a gateway that has none: API Gateway's HTTP API (DESIGN 15). An account
 * still has a plan (it is what `set-plan` records, and what a move back to REST would apply),
 * but nothing holds it to it and nothing counts its requests, and the usage route says so
 * (`enforced: false`) rather than show a count of zero as if it were measured.
 */
export class UnenforcedUsagePlans implements UsagePlans {
  readonly enforced = false;

  /** A stand-in key that no gateway reads: the account item keeps the shape every flavor shares. */
  createKey(): Promise<UsageKey> {
    return Promise.resolve({ id: `unenforced-${randomBytes(8).toString('hex')}`, value: randomBytes(24).toString('hex'), usagePlanId: null });
  }

  deleteKey(): Promise<void> {
    return Promise.resolve();
  }

  assignPlan(key: UsageKey): Promise<UsageKey> {
    return Promise.resolve(key);
  }

  /** Nothing counted: no use, no days, and no quota left to spend since none is enforced. */
  usage(_accountId: string, _key: UsageKey | undefined, _plan: Plan, _from: Date, at: Date): Promise<UsageFigures> {
    return Promise.resolve({ used: 0, remaining: null, daily: dailySeries(at, () => 0) });
  }
}
