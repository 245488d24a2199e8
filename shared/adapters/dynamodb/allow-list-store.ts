import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CidrAllowList, type CidrRule } from '../../domain/cidr.ts';
import { NotFoundError } from '../../domain/errors.ts';
import type { AuditEvent } from '../../domain/model.ts';
import type { AllowListStore } from '../../ports/allow-list-store.ts';
import type { Limits } from '../../ports/limits.ts';
import { accountPk, allowListFromAttributes, cidrSet, keySk, readNumber, readRules, rulesItem } from './items.ts';
import { retrying } from './retry.ts';
import { DynamoDbTable, type DynamoDbStoreOptions } from './table.ts';
import type { TransactItem } from './transact-item.ts';

/**
 * Each key's CIDR allow list, stored on the key's own item (so that the authorizer reads it in
 * the same round trip) with a set of its CIDRs that lets a condition refuse a duplicate.
 */
export class DynamoDbAllowListStore implements AllowListStore {
  readonly #table: DynamoDbTable;

  constructor(client: DynamoDBDocumentClient, tableName: string, options: DynamoDbStoreOptions = {}) {
    this.#table = new DynamoDbTable(client, tableName, options);
  }

  async editAllowList<T>(
    accountId: string,
    keyId: string,
    edit: (list: CidrAllowList) => { readonly list: CidrAllowList; readonly result: T },
    event: AuditEvent,
    limits: Limits,
  ): Promise<T> {
    const table = this.#table;
    let current: { rules: readonly CidrRule[]; rev: number } | undefined;
    const outcome = await retrying('the allow list changed concurrently; retry', async () => {
      const state = current ?? (await this.#readAllowList(accountId, keyId));
      current = undefined;
      const edited = edit(new CidrAllowList(state.rules, limits.rulesPerKey));
      // The CIDR set follows the list it indexes, or addCidrRule's duplicate check goes wrong.
      const cidrs = cidrSet(edited.list.rules);
      const cancellation = await table.transact([
        {
          Update: {
            TableName: table.name,
            Key: { pk: accountPk(accountId), sk: keySk(keyId) },
            UpdateExpression: `SET #rules = :rules, #rev = :next${cidrs === undefined ? ' REMOVE #cidrs' : ', #cidrs = :cidrs'}`,
            // Conditioned on the revision read: a concurrent edit makes this one re-apply to
            // the list as it now is, so no rule is lost and the limit holds.
            ConditionExpression: '#rev = :rev',
            ExpressionAttributeNames: { '#rules': 'rules', '#rev': 'rev', '#cidrs': 'cidrs' },
            ExpressionAttributeValues: {
              ':rules': rulesItem(edited.list.rules),
              ':rev': state.rev,
              ':next': state.rev + 1,
              ...(cidrs === undefined ? {} : { ':cidrs': cidrs }),
            },
            // The key as the winner left it comes back with the refusal: no second read needed.
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        table.putEvent(event),
      ]);
      if (cancellation === undefined) return { value: edited.result };
      const winner = cancellation.failed(0) ? cancellation.oldItem(0) : undefined;
      // No item with the refusal means the key is gone: the next read answers 404.
      if (winner !== undefined) current = allowListFromAttributes(winner);
      return undefined;
    });
    return outcome.value;
  }

  async addCidrRule(accountId: string, keyId: string, rule: CidrRule, event: AuditEvent, limits: Limits): Promise<CidrRule> {
    const table = this.#table;
    const key = { pk: accountPk(accountId), sk: keySk(keyId) };
    const items: TransactItem[] = [
      {
        Update: {
          TableName: table.name,
          Key: key,
          // An append, not a rewrite of the list read: concurrent adds need no re-read, each one
          // lands or is refused by the state it meets. The revision still moves, so that an
          // edit in flight (editAllowList) re-applies to the list with this rule in it.
          UpdateExpression: 'SET #rules = list_append(#rules, :newRules), #rev = #rev + :one ADD #cidrs :newCidrs',
          // The set must be there whenever there are rules, or a duplicate would slip past it.
          ConditionExpression:
            'attribute_exists(#pk) AND size(#rules) < :limit AND NOT contains(#cidrs, :cidr) AND (attribute_exists(#cidrs) OR size(#rules) = :zero)',
          ExpressionAttributeNames: { '#pk': 'pk', '#rules': 'rules', '#rev': 'rev', '#cidrs': 'cidrs' },
          ExpressionAttributeValues: {
            ':newRules': rulesItem([rule]),
            ':newCidrs': new Set([rule.cidr]),
            ':cidr': rule.cidr,
            ':limit': limits.rulesPerKey,
            ':one': 1,
            ':zero': 0,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      table.putEvent(event),
    ];
    const outcome = await retrying('the allow list changed concurrently; retry', async () => {
      const cancellation = await table.transact(items);
      if (cancellation === undefined) return 'added';
      if (!cancellation.failed(0)) return undefined;
      const old = cancellation.oldItem(0);
      const rules = old === undefined ? (await this.#readAllowList(accountId, keyId)).rules : allowListFromAttributes(old).rules;
      // The list as the refusal found it explains the refusal in the domain's own words: full,
      // or the CIDR is already on it.
      new CidrAllowList(rules, limits.rulesPerKey).add(rule);
      // It would have fitted: the CIDR set is missing or out of step with the list.
      return 'unindexed';
    });
    if (outcome === 'added') return rule;
    // The whole-list edit rewrites the set from the rules, so the next add is a plain append.
    return this.editAllowList(accountId, keyId, (list) => ({ list: list.add(rule), result: rule }), event, limits);
  }

  async #readAllowList(accountId: string, keyId: string): Promise<{ rules: readonly CidrRule[]; rev: number }> {
    const item = await this.#table.get(accountPk(accountId), keySk(keyId));
    if (item === undefined) throw new NotFoundError('api key');
    return { rules: readRules(item), rev: readNumber(item, 'rev') };
  }
}
