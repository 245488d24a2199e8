import { PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AuditEvent } from '../../domain/model.ts';
import type { ExpiredKey, KeyExpiryOutcome, KeyExpiryStore } from '../../ports/key-expiry-store.ts';
import { writeIfCondition } from './conditional-write.ts';
import { accountPk, userSk } from './items.ts';
import { DynamoDbTable, type DynamoDbStoreOptions } from './table.ts';

/** What follows a key's removal by DynamoDB's TTL: its holder's list and count, and its audit event. */
export class DynamoDbKeyExpiryStore implements KeyExpiryStore {
  readonly #table: DynamoDbTable;

  constructor(client: DynamoDBDocumentClient, tableName: string, options: DynamoDbStoreOptions = {}) {
    this.#table = new DynamoDbTable(client, tableName, options);
  }

  async recordKeyExpiry(key: ExpiredKey, event: AuditEvent): Promise<KeyExpiryOutcome> {
    const table = this.#table;
    // Two writes, not one transaction: the event is owed even when the holder is gone, and each
    // write is safe to repeat on its own, so a delivery that failed half-way is simply redone.
    // The holder first: once the event can be read, the holder is free to hold another key.
    const { userId } = key;
    const keyForgotten = userId !== null && await writeIfCondition(() => table.client.send(new UpdateCommand({
      TableName: table.name,
      Key: { pk: accountPk(key.accountId), sk: userSk(userId) },
      UpdateExpression: 'DELETE #keyIds :keyIds ADD #keyCount :minus, #rev :one',
      // Only while the holder still lists the key: a replay, a holder since deleted or a write
      // that already forgot the key (reservations.ts, forgetRemovedKeys) leave the count alone.
      ConditionExpression: 'contains(#keyIds, :keyId)',
      ExpressionAttributeNames: { '#keyIds': 'keyIds', '#keyCount': 'keyCount', '#rev': 'rev' },
      ExpressionAttributeValues: { ':keyIds': new Set([key.keyId]), ':keyId': key.keyId, ':minus': -1, ':one': 1 },
    })));
    const eventRecorded = await writeIfCondition(() => table.client.send(new PutCommand({
      TableName: table.name,
      Item: table.eventItem(event),
      // A replay derives the same id and time, so the same item: written once.
      ConditionExpression: 'attribute_not_exists(#pk)',
      ExpressionAttributeNames: { '#pk': 'pk' },
    })));
    return { eventRecorded, keyForgotten };
  }
}
