import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AuditEvent, Page } from '../../domain/model.ts';
import type { AuditStore } from '../../ports/audit-store.ts';
import type { ListOptions } from '../../ports/list-options.ts';
import { EVENT_PREFIX, accountPk, eventFromItem } from './items.ts';
import { retrying } from './retry.ts';
import { DynamoDbTable, type DynamoDbStoreOptions } from './table.ts';

/** An account's audit events on the table, under its partition, newest read first. */
export class DynamoDbAuditStore implements AuditStore {
  readonly #table: DynamoDbTable;

  constructor(client: DynamoDBDocumentClient, tableName: string, options: DynamoDbStoreOptions = {}) {
    this.#table = new DynamoDbTable(client, tableName, options);
  }

  async recordEvent(event: AuditEvent): Promise<void> {
    const table = this.#table;
    if (event.actor.keyId === null) {
      await table.client.send(new PutCommand({ TableName: table.name, Item: table.eventItem(event) }));
      return;
    }
    // An event a key causes (the reveal of the account key) is a transaction, so that it gets
    // its actor's checks (principal-check.ts): a stale key, or a secret rolled away, records
    // nothing, and the caller shows nothing.
    await retrying('the account changed concurrently; retry', async () =>
      (await table.transact([table.putEvent(event)])) === undefined ? true : undefined,
    );
  }

  async listEvents(accountId: string, options: ListOptions): Promise<Page<AuditEvent>> {
    const pk = accountPk(accountId);
    return this.#table.page(
      {
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
        ExpressionAttributeValues: { ':pk': pk, ':prefix': EVENT_PREFIX },
        ScanIndexForward: false,
        ConsistentRead: true,
      },
      { pk, skPrefix: EVENT_PREFIX },
      options,
      eventFromItem,
    );
  }
}
