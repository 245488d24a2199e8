import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../../domain/errors.ts';
import type { Plan } from '../../domain/plan.ts';
import type { Account, AccountRecord, ApiKeyRecord, AuditEvent, User } from '../../domain/model.ts';
import type { AccountLimits, AccountStore } from '../../ports/account-store.ts';
import type { UsageKey } from '../../ports/usage-plans.ts';
import { META_SK, accountFromItem, accountItem, accountPk, accountRecordFromItem, keyItem, keyNameItem, userItem } from './items.ts';
import { planAttribute, planFromItem, usageKeyAttributes, usageKeyFromItem } from './plan-items.ts';
import { retrying } from './retry.ts';
import { DynamoDbTable, type DynamoDbStoreOptions } from './table.ts';

/** Accounts on the table: created with their owner, the owner's key and its name in one transaction. */
export class DynamoDbAccountStore implements AccountStore {
  readonly #table: DynamoDbTable;

  constructor(client: DynamoDBDocumentClient, tableName: string, options: DynamoDbStoreOptions = {}) {
    this.#table = new DynamoDbTable(client, tableName, options);
  }

  async createAccount(input: {
    readonly account: AccountRecord;
    readonly owner: User;
    readonly ownerKey: ApiKeyRecord;
    readonly event: AuditEvent;
    readonly usageKey?: UsageKey | undefined;
  }): Promise<void> {
    const { account, owner, ownerKey, event, usageKey } = input;
    if (owner.accountId !== account.id || ownerKey.accountId !== account.id || ownerKey.userId !== owner.id || owner.role !== 'owner') {
      throw new Error('an account is created with its own owner and that owner\'s key');
    }
    const table = this.#table;
    const cancellation = await table.transact([
      table.putNew({ ...accountItem(account, 1), ...usageKeyAttributes(usageKey) }),
      table.putNew(userItem(owner, [ownerKey.id])),
      table.putNew(keyItem(ownerKey)),
      table.putNew(keyNameItem(ownerKey)),
      table.putEvent(event),
    ]);
    if (cancellation !== undefined) {
      if (cancellation.onlyConflicts) throw new ConflictError('the account is being created concurrently; retry');
      throw new ConflictError('the account already exists');
    }
  }

  async getAccount(accountId: string): Promise<AccountRecord | undefined> {
    const item = await this.#table.get(accountPk(accountId), META_SK);
    return item === undefined ? undefined : accountRecordFromItem(item);
  }

  async getAccountLimits(accountId: string): Promise<AccountLimits> {
    const item = await this.#table.get(accountPk(accountId), META_SK);
    if (item === undefined) throw new NotFoundError('account');
    return { plan: planFromItem(item), usageKey: usageKeyFromItem(item) };
  }

  async setPlan(accountId: string, plan: Plan | null, usageKey: UsageKey, event: AuditEvent): Promise<void> {
    const key = usageKeyAttributes(usageKey);
    const names: Record<string, string> = { '#pk': 'pk', '#plan': 'plan', '#usagePlanId': 'usagePlanId' };
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    for (const [name, value] of Object.entries(key)) {
      names[`#${name}`] = name;
      values[`:${name}`] = value;
      sets.push(`#${name} = :${name}`);
    }
    if (plan !== null) {
      values[':plan'] = planAttribute(plan);
      sets.push('#plan = :plan');
    }
    const removes = [...(plan === null ? ['#plan'] : []), ...(usageKey.usagePlanId === null ? ['#usagePlanId'] : [])];
    const cancellation = await this.#table.transact([
      {
        Update: {
          TableName: this.#table.name,
          Key: { pk: accountPk(accountId), sk: META_SK },
          UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        },
      },
      this.#table.putEvent(event),
    ]);
    if (cancellation === undefined) return;
    if (cancellation.failed(0)) throw new NotFoundError('account');
    throw new ConflictError('the account changed concurrently; retry');
  }

  async setApiEnabled(accountId: string, enabled: boolean, event: AuditEvent): Promise<Account> {
    await retrying('the account changed concurrently; retry', async () => {
      const cancellation = await this.#table.transact([
        {
          Update: {
            TableName: this.#table.name,
            Key: { pk: accountPk(accountId), sk: META_SK },
            UpdateExpression: 'SET #apiEnabled = :enabled',
            ConditionExpression: 'attribute_exists(#pk)',
            ExpressionAttributeNames: { '#pk': 'pk', '#apiEnabled': 'apiEnabled' },
            ExpressionAttributeValues: { ':enabled': enabled },
          },
        },
        this.#table.putEvent(event),
      ]);
      if (cancellation === undefined) return true;
      if (cancellation.failed(0)) throw new NotFoundError('account');
      return undefined;
    });
    const item = await this.#table.get(accountPk(accountId), META_SK);
    if (item === undefined) throw new NotFoundError('account');
    return accountFromItem(item);
  }
}
