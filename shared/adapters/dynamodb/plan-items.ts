import { isQuotaPeriod, type Plan } from '../../domain/plan.ts';
import type { UsageKey } from '../../ports/usage-plans.ts';
import type { Item } from './items.ts';

/**
 * An account's plan and usage-plan key, as attributes of its META item: the authorizer reads
 * that item anyway, so handing API Gateway the usage identifier costs no extra read.
 */

function malformed(name: string): Error {
  return new Error(`stored item has a missing or malformed '${name}'`);
}

export function planAttribute(plan: Plan): Item {
  return {
    rateLimit: plan.rateLimit,
    burstLimit: plan.burstLimit,
    ...(plan.quota === null ? {} : { quotaLimit: plan.quota.limit, quotaPeriod: plan.quota.period }),
  };
}

/** The account's own plan; undefined when it has none (the default plan applies). */
export function planFromItem(item: Item): Plan | undefined {
  const value = item.plan;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object') throw malformed('plan');
  const { rateLimit, burstLimit, quotaLimit, quotaPeriod } = value as Item;
  if (typeof rateLimit !== 'number' || typeof burstLimit !== 'number') throw malformed('plan');
  if (quotaLimit === undefined && quotaPeriod === undefined) return { rateLimit, burstLimit, quota: null };
  if (typeof quotaLimit !== 'number' || !isQuotaPeriod(quotaPeriod)) throw malformed('plan');
  return { rateLimit, burstLimit, quota: { limit: quotaLimit, period: quotaPeriod } };
}

export function usageKeyAttributes(key: UsageKey | undefined): Item {
  if (key === undefined) return {};
  return { usageKeyId: key.id, usageKeyValue: key.value, ...(key.usagePlanId === null ? {} : { usagePlanId: key.usagePlanId }) };
}

export function usageKeyFromItem(item: Item): UsageKey | undefined {
  const { usageKeyId, usageKeyValue, usagePlanId } = item;
  if (usageKeyId === undefined && usageKeyValue === undefined) return undefined;
  if (typeof usageKeyId !== 'string' || typeof usageKeyValue !== 'string') throw malformed('usageKeyId');
  if (usagePlanId !== undefined && typeof usagePlanId !== 'string') throw malformed('usagePlanId');
  return { id: usageKeyId, value: usageKeyValue, usagePlanId: usagePlanId ?? null };
}

/** What the authorizer needs of them: the plan for the local limiter, the key's value for API Gateway. */
export function authorizationLimitsFromItem(item: Item): { plan: Plan | undefined; usageIdentifierKey: string | undefined } {
  const value = item.usageKeyValue;
  if (value !== undefined && typeof value !== 'string') throw malformed('usageKeyValue');
  return { plan: planFromItem(item), usageIdentifierKey: value };
}
