import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Account } from '../../domain/model.ts';
import { ACCOUNT_PREFIX, META_SK, accountFromItem } from './items.ts';

/**
 * Every account of the table, for the operator (the admin CLI's list-accounts): the ids that
 * create-key and set-plan need, once the keys printed at creation are lost. No route lists
 * accounts, since an account sees only itself; this reads the whole table (a Scan filtered to
 * account items), as pepper-usage does, and never runs on a request's path.
 */
export class DynamoDbAccountDirectory {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    this.#client = client;
    this.#tableName = tableName;
  }

  async listAccounts(): Promise<Account[]> {
    const accounts: Account[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.#client.send(
        new ScanCommand({
          TableName: this.#tableName,
          FilterExpression: '#sk = :meta AND begins_with(#pk, :account)',
          ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
          ExpressionAttributeValues: { ':meta': META_SK, ':account': ACCOUNT_PREFIX },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) accounts.push(accountFromItem(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return accounts.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }
}
