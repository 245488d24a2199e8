import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import { type Plan, validatePlan } from '#shared/domain/plan.ts';
import { setPlan } from '#shared/services/plans.ts';
import { createLogger } from '#functions/commons/logger.ts';
import type { Command, CommandInput } from './command.ts';
import { UsageError, onlyAccountId, print, type Values } from './options.ts';
import { requireUsagePlans } from './target.ts';

/** Plans: an account's own rate, burst and quota, or the default plan again. */

/** `--default`, or `--rate` and `--burst` with an optional `--quota` and `--period` (checked by validatePlan). */
function planFromOptions(values: Values): Plan | null {
  const given = [values.rate, values.burst, values.quota, values.period].some((v) => v !== undefined);
  if (values.default) {
    if (given) throw new UsageError('--default takes no --rate, --burst, --quota or --period');
    return null;
  }
  if (values.rate === undefined || values.burst === undefined) throw new UsageError('set-plan needs --rate and --burst (or --default)');
  if ((values.quota === undefined) !== (values.period === undefined)) throw new UsageError('--quota and --period go together');
  const number = (raw: string): number => (raw.trim() === '' ? Number.NaN : Number(raw));
  return validatePlan({
    rateLimit: number(values.rate),
    burstLimit: number(values.burst),
    quota: values.quota === undefined || values.period === undefined ? null : { limit: number(values.quota), period: values.period.toUpperCase() },
  });
}

async function setPlanCommand({ command, positionals, values, target, now }: CommandInput): Promise<void> {
  const accountId = onlyAccountId(command, positionals);
  const plan = planFromOptions(values);
  const usagePlans = requireUsagePlans(target, command);
  const logger = createLogger('latchkey-admin');
  const applied = await setPlan({ store: target.store, usagePlans, authorizerCache: target.authorizerCache, logger, now }, accountId, plan, SYSTEM_ACTOR);
  const described =
    applied === null
      ? 'the default plan'
      : `${String(applied.rateLimit)} requests/s, burst ${String(applied.burstLimit)}${
          applied.quota === null ? ', no quota' : `, ${String(applied.quota.limit)} requests per ${applied.quota.period}`
        }`;
  print(values.json, { accountId, plan: applied }, [`Account ${accountId} is now on ${described}.`]);
}

export const PLAN_COMMANDS: Readonly<Record<string, Command>> = {
  'set-plan': setPlanCommand,
};
