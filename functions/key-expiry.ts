import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { DynamoDbStore } from '#shared/adapters/dynamodb-store.ts';
import { expiredKeyRemovals } from '#shared/adapters/dynamodb/expired-keys.ts';
import { ENV, auditRetentionDaysFromEnv, requiredEnv } from '#shared/adapters/environment.ts';
import { type KeyExpiryDeps, recordKeyExpiries } from '#shared/services/key-expiry.ts';
import { awsClientSettings } from './commons/aws-client-settings.ts';
import { createLogger } from './commons/logger.ts';
import { streamRecordChange } from './commons/stream-records.ts';

/**
 * The key expiry function: the table's stream (its own event source mapping, filtered to TTL
 * deletions of key items) hands it each removal of an expired key; it records the removal's
 * audit event and takes the key off its holder's list and count (shared/services/key-expiry.ts).
 * Failing, it throws: the mapping delivers the batch again, bisects it, and after the maximum
 * record age sends it to the dead-letter queue. Redelivered removals are not recorded twice.
 */

export type KeyExpiryHandler = (event: DynamoDBStreamEvent) => Promise<void>;

export function createKeyExpiryHandler(deps: KeyExpiryDeps): KeyExpiryHandler {
  // The mapping's filter lets only TTL deletions of keys through; the same decision is made
  // again here, so that a filter changed by hand can never make a deletion look like an expiry.
  return (event) => recordKeyExpiries(deps, expiredKeyRemovals(event.Records.map(streamRecordChange)));
}

let handlerInstance: KeyExpiryHandler | undefined;

export const handler: KeyExpiryHandler = (event) => {
  handlerInstance ??= createKeyExpiryHandler({
    store: new DynamoDbStore(
      DynamoDBDocumentClient.from(new DynamoDBClient(awsClientSettings()), { marshallOptions: { removeUndefinedValues: true } }),
      requiredEnv(ENV.tableName),
      { auditRetentionDays: auditRetentionDaysFromEnv() },
    ),
    logger: createLogger('latchkey-key-expiry'),
  });
  return handlerInstance(event);
};
