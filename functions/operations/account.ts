import { ACCOUNT_SCHEMAS } from '#shared/http/schemas/account.ts';
import type { AccountStore } from '#shared/ports/account-store.ts';
import type { AuditStore } from '#shared/ports/audit-store.ts';
import type { ApiDeps } from '#shared/ports/deps.ts';
import type { KeyLifecycleStore } from '#shared/ports/key-lifecycle-store.ts';
import type { KeyStore } from '#shared/ports/key-store.ts';
import { getAccount, revealAccountKey, setApiEnabled } from '#shared/services/accounts.ts';
import { rollAccountKey } from '#shared/services/key-rolls.ts';
import { getUsage } from '#shared/services/plans.ts';
import type { OperationGroup } from '../commons/operations.ts';
import { accountView } from '../commons/views.ts';

/** The only group that reads usage plans (API Gateway), and one of those that decrypt (KMS). */
export type AccountDeps = Pick<ApiDeps, 'secrets' | 'peppers' | 'authorizerCache' | 'logger' | 'now' | 'usagePlans' | 'defaultPlan'> & {
  readonly store: AccountStoreOfAccountGroup;
};

/** The store methods the account routes call, from the account, audit, key-lifecycle and key stores. */
export type AccountStoreOfAccountGroup = Pick<AccountStore, 'getAccount' | 'setApiEnabled' | 'getAccountLimits'> &
  Pick<AuditStore, 'recordEvent'> &
  Pick<KeyLifecycleStore, 'rollAccountKey'> &
  Pick<KeyStore, 'recordKeyUse'>;

export const ACCOUNT_OPERATIONS: OperationGroup<'account', AccountDeps> = {
  group: 'account',
  schemas: ACCOUNT_SCHEMAS,
  operations: {
    getAccount: async (deps, { principal }) => accountView(await getAccount(deps, principal.accountId)),
    revealAccountKey: async (deps, { principal, actor }) => ({ accountKey: await revealAccountKey(deps, principal.accountId, actor) }),
    updateAccount: async (deps, { principal, actor, body }) => accountView(await setApiEnabled(deps, principal.accountId, body.apiEnabled, actor)),
    rollAccountKey: async (deps, { principal, actor, body }) => {
      const rolled = await rollAccountKey(deps, principal.accountId, body.gracePeriodSeconds, actor);
      return { accountKey: rolled.accountKey, previousKeyExpiresAt: rolled.previousKeyExpiresAt };
    },
    getAccountUsage: async (deps, { principal }) => {
      const usage = await getUsage(deps, principal.accountId);
      const { rateLimit, burstLimit, quota } = usage.plan;
      return {
        plan: { rateLimit, burstLimit, quota: quota === null ? null : { limit: quota.limit, period: quota.period } },
        enforced: usage.enforced,
        used: usage.used,
        remaining: usage.remaining,
        periodStart: usage.periodStart,
        daily: usage.daily.map(({ date, requests }) => ({ date, requests })),
      };
    },
  },
};
