import { type Actor, auditEvent } from '../domain/audit.ts';
import { type Plan, type Usage, periodStart, validatePlan } from '../domain/plan.ts';
import type { AccountStore } from '../ports/account-store.ts';
import type { ApiDeps } from '../ports/deps.ts';
import { withAuthorizerCacheFlush } from './revocation.ts';

type PlanDeps = Pick<ApiDeps, 'store' | 'usagePlans' | 'authorizerCache' | 'logger' | 'now'>;

/**
 * Puts the account on `plan` (null: back to the default plan). The usage-plan key moves to
 * the plan's usage plan first (made with the account if it has none yet, e.g. an account from
 * before plans existed), then the account records the plan with its audit event. Running it
 * again with the same plan repairs a half-done earlier run. A lower plan narrows access, so
 * cached authorizer decisions, which carry the plan, are dropped.
 */
export async function setPlan(deps: PlanDeps, accountId: string, plan: Plan | null, actor: Actor): Promise<Plan | null> {
  const valid = plan === null ? null : validatePlan(plan);
  const limits = await deps.store.getAccountLimits(accountId);
  const created = limits.usageKey === undefined;
  const key = created ? await deps.usagePlans.createKey(accountId, valid) : await deps.usagePlans.assignPlan(limits.usageKey, valid);
  const event = auditEvent(accountId, actor, 'account.plan-set', `account/${accountId}`, deps.now());
  try {
    await withAuthorizerCacheFlush(deps, () => deps.store.setPlan(accountId, valid, key, event));
  } catch (error) {
    if (created) {
      await deps.usagePlans.deleteKey(key).catch((cleanup: unknown) => {
        deps.logger.error('could not remove a usage-plan key', { error: cleanup });
      });
    }
    throw error;
  }
  return valid;
}

/** The account's plan and what it has used of it this period (this day, without a quota). */
export async function getUsage(
  deps: Pick<ApiDeps, 'usagePlans' | 'defaultPlan' | 'now'> & { readonly store: Pick<AccountStore, 'getAccountLimits'> },
  accountId: string,
): Promise<Usage> {
  const limits = await deps.store.getAccountLimits(accountId);
  const plan = limits.plan ?? deps.defaultPlan;
  const now = deps.now();
  const from = periodStart(plan.quota?.period ?? 'DAY', now);
  const figures = await deps.usagePlans.usage(accountId, limits.usageKey, plan, from, now);
  return { plan, enforced: deps.usagePlans.enforced, used: figures.used, remaining: figures.remaining, periodStart: from.toISOString(), daily: figures.daily };
}
