import { isQuotaPeriod, type Plan } from '../domain/plan.ts';

/**
 * An account's own plan as the authorizer passes it on in its context (strings and numbers
 * only, as API Gateway requires), so that the local runtime applies it without another read.
 * No plan fields: the account is on the default plan.
 */
export function planContext(plan: Plan | undefined): Record<string, string | number> {
  if (plan === undefined) return {};
  return {
    rateLimit: plan.rateLimit,
    burstLimit: plan.burstLimit,
    ...(plan.quota === null ? {} : { quotaLimit: plan.quota.limit, quotaPeriod: plan.quota.period }),
  };
}

/** The plan from an authorizer context (values arrive as strings); undefined when absent or malformed. */
export function planFromContext(context: Readonly<Record<string, string | undefined>>): Plan | undefined {
  const { rateLimit, burstLimit, quotaLimit, quotaPeriod } = context;
  if (rateLimit === undefined || burstLimit === undefined) return undefined;
  const rate = Number(rateLimit);
  const burst = Number(burstLimit);
  if (!Number.isFinite(rate) || rate <= 0 || !Number.isInteger(burst) || burst < 1) return undefined;
  if (quotaLimit === undefined || quotaPeriod === undefined) return { rateLimit: rate, burstLimit: burst, quota: null };
  const limit = Number(quotaLimit);
  if (!Number.isInteger(limit) || limit < 1 || !isQuotaPeriod(quotaPeriod)) return undefined;
  return { rateLimit: rate, burstLimit: burst, quota: { limit, period: quotaPeriod } };
}
