import type { Plan } from '../domain/plan.ts';
import type { Account, AccountRecord, ApiKeyRecord, AuditEvent, User } from '../domain/model.ts';
import type { UsageKey } from './usage-plans.ts';

export interface AccountLimits {
  readonly plan: Plan | undefined;
  readonly usageKey: UsageKey | undefined;
}

/** Accounts: their record, plan and API switch. */
export interface AccountStore {
  createAccount(input: {
    readonly account: AccountRecord;
    readonly owner: User;
    readonly ownerKey: ApiKeyRecord;
    readonly event: AuditEvent;
    readonly usageKey?: UsageKey | undefined;
  }): Promise<void>;
  /** The account's plan (undefined: the default plan) and usage-plan key; NotFoundError without the account. */
  getAccountLimits(accountId: string): Promise<AccountLimits>;
  /** Stores the account's plan (null: back to the default) and its usage-plan key with the event, in one transaction. */
  setPlan(accountId: string, plan: Plan | null, usageKey: UsageKey, event: AuditEvent): Promise<void>;
  getAccount(accountId: string): Promise<AccountRecord | undefined>;
  setApiEnabled(accountId: string, enabled: boolean, event: AuditEvent): Promise<Account>;
}
