import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PepperStore, StoredPepper } from '../../ports/pepper-store.ts';
import { writeIfCondition } from './conditional-write.ts';
import { CONFIG_PK, PEPPER_PREFIX, pepperFromItem, pepperSk } from './items.ts';
import { DynamoDbTable, type DynamoDbStoreOptions } from './table.ts';

/** The pepper versions on the table's configuration partition, each as KMS ciphertext. */
export class DynamoDbPepperStore implements PepperStore {
  readonly #table: DynamoDbTable;

  constructor(client: DynamoDBDocumentClient, tableName: string, options: DynamoDbStoreOptions = {}) {
    this.#table = new DynamoDbTable(client, tableName, options);
  }

  async listPeppers(): Promise<readonly StoredPepper[]> {
    const items = await this.#table.queryAll({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
      ExpressionAttributeValues: { ':pk': CONFIG_PK, ':prefix': PEPPER_PREFIX },
    });
    return items.map(pepperFromItem);
  }

  async addPepper(pepper: StoredPepper): Promise<boolean> {
    return writeIfCondition(() => this.#table.client.send(
      new PutCommand({
        TableName: this.#table.name,
        Item: { pk: CONFIG_PK, sk: pepperSk(pepper.version), version: pepper.version, ciphertext: pepper.ciphertext },
        // A pepper version is written once: overwriting it would orphan every digest made with it.
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': 'pk' },
      }),
    ));
  }
}
