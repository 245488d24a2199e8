import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DigestStore, StoredDigest } from '../../authorization/digest-upgrades.ts';
import { META_SK, accountPk, keySk } from './items.ts';
import { ACCOUNT_KEY_DIGEST, type DigestAttributes, USER_KEY_DIGEST } from './items.ts';

/** How many stored digests use each pepper version. */
export interface PepperUsage {
  readonly version: number;
  readonly userKeys: number;
  readonly accountKeys: number;
}

/**
 * Digest upgrades (DigestUpgrader) and the pepper-usage report on the DynamoDB table. Each
 * upgrade touches the digest, its version and the record of the digest it replaced only,
 * conditioned on the digest it replaces.
 */
export class DynamoDbDigestStore implements DigestStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    this.#client = client;
    this.#tableName = tableName;
  }

  upgradeKeyDigest(accountId: string, keyId: string, from: StoredDigest, to: StoredDigest): Promise<boolean> {
    return this.#replace({ pk: accountPk(accountId), sk: keySk(keyId) }, USER_KEY_DIGEST, from, to);
  }

  upgradeAccountKeyDigest(accountId: string, from: StoredDigest, to: StoredDigest): Promise<boolean> {
    return this.#replace({ pk: accountPk(accountId), sk: META_SK }, ACCOUNT_KEY_DIGEST, from, to);
  }

  /**
   * Counts the digests per pepper version: a version no digest uses can be retired. An
   * operator's report, run rarely: it reads the whole table (a Scan, projected to the
   * version attributes), never on a request's path. A secret a roll replaced counts while it
   * is stored (its grace period): retiring its pepper would end that grace early.
   */
  async pepperUsage(): Promise<PepperUsage[]> {
    const counts = new Map<number, { userKeys: number; accountKeys: number }>();
    const count = (version: unknown, kind: 'userKeys' | 'accountKeys'): void => {
      if (typeof version !== 'number') return;
      const entry = counts.get(version) ?? { userKeys: 0, accountKeys: 0 };
      entry[kind] += 1;
      counts.set(version, entry);
    };
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.#client.send(
        new ScanCommand({
          TableName: this.#tableName,
          ProjectionExpression: '#v, #av, #pv, #pav',
          FilterExpression: 'attribute_exists(#v) OR attribute_exists(#av)',
          ExpressionAttributeNames: {
            '#v': 'pepperVersion',
            '#av': 'accountKeyPepperVersion',
            '#pv': 'previousPepperVersion',
            '#pav': 'previousAccountKeyPepperVersion',
          },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        count(item.pepperVersion, 'userKeys');
        count(item.accountKeyPepperVersion, 'accountKeys');
        count(item.previousPepperVersion, 'userKeys');
        count(item.previousAccountKeyPepperVersion, 'accountKeys');
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return [...counts.entries()].sort(([a], [b]) => a - b).map(([version, entry]) => ({ version, ...entry }));
  }

  async #replace(key: { pk: string; sk: string }, names: DigestAttributes, from: StoredDigest, to: StoredDigest): Promise<boolean> {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: key,
          // The replaced digest stays beside the new one: it is how the table's stream tells this
          // change from a roll, so that an upgrade costs no flush of the authorizer cache (narrowing.ts).
          UpdateExpression: 'SET #hash = :to, #version = :toVersion, #upgradedFrom = :from',
          // Only the digest that was verified: a key deleted, rolled or upgraded meanwhile stays as it is.
          ConditionExpression: 'attribute_exists(#pk) AND #hash = :from AND #version = :fromVersion',
          ExpressionAttributeNames: { '#pk': 'pk', '#hash': names.hash, '#version': names.pepperVersion, '#upgradedFrom': names.upgradedFrom },
          ExpressionAttributeValues: { ':to': to.hash, ':toVersion': to.pepperVersion, ':from': from.hash, ':fromVersion': from.pepperVersion },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
