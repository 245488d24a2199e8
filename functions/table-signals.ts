import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { DynamoDbStore } from '#shared/adapters/dynamodb-store.ts';
import { insertedAuditEvent } from '#shared/adapters/dynamodb/audit-inserts.ts';
import { expiredKeyRemoval } from '#shared/adapters/dynamodb/expired-keys.ts';
import { ENV, auditRetentionDaysFromEnv, requiredEnv } from '#shared/adapters/environment.ts';
import { EventBridgeSignalBus } from '#shared/adapters/eventbridge/signal-bus.ts';
import type { ExpiredKey } from '#shared/ports/key-expiry-store.ts';
import { type EventPublishingDeps, type PublishableEvent, publishAuditEvents } from '#shared/services/event-publishing.ts';
import { type KeyExpiryDeps, recordKeyExpiries } from '#shared/services/key-expiry.ts';
import { awsClientSettings } from './commons/aws-client-settings.ts';
import { eventBridgeClient } from './commons/clients/eventbridge.ts';
import { createLogger } from './commons/logger.ts';
import { streamRecordChange } from './commons/stream-records.ts';

/**
 * The table signals function: the table stream's second reader (the revocation flusher is the
 * first, on a mapping of its own). DynamoDB serves at most two readers per stream shard without
 * throttling their reads, so the two jobs that are not revocation share this one mapping, whose
 * two filters (OR-ed) let through TTL deletions of key items and INSERTs of audit items, and
 * this function hands each record to the job it is for:
 * - a TTL removal of a key: the key expiry (shared/services/key-expiry.ts) records its
 *   `api-key.expire` audit event and takes the key off its holder's list and count;
 * - a new audit item: the event publishing (shared/services/event-publishing.ts) puts it on the
 *   deployment's EventBridge bus.
 * What either job failed is answered as batch item failures: the mapping delivers the batch
 * again from the first of them on (the records after it come twice: a redelivered TTL removal
 * writes nothing more, a redelivered event is put again, at least once), bisects, and after the
 * maximum record age sends it to the dead-letter queue.
 */

export interface TableSignalsDeps {
  readonly keyExpiry: KeyExpiryDeps;
  readonly eventPublishing: EventPublishingDeps;
}

export type TableSignalsHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;

interface KeyRemovalRecord {
  readonly recordId: string;
  readonly key: ExpiredKey;
}

export function createTableSignalsHandler(deps: TableSignalsDeps): TableSignalsHandler {
  return async (event) => {
    const removals: KeyRemovalRecord[] = [];
    const events: PublishableEvent[] = [];
    for (const record of event.Records) {
      // The mapping's filters let only these two kinds through; the same decision is made again
      // here, so that a filter changed by hand can never make a deletion look like an expiry
      // nor send anything else out.
      const recordId = recordIdOf(record);
      if (recordId === undefined) continue;
      const change = streamRecordChange(record);
      const key = expiredKeyRemoval(change);
      if (key !== undefined) {
        removals.push({ recordId, key });
        continue;
      }
      const audit = insertedAuditEvent(change);
      if (audit !== undefined) events.push({ recordId, event: audit });
    }
    const failed = [...(await recordRemovals(deps.keyExpiry, removals)), ...(await publishAuditEvents(deps.eventPublishing, events))];
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

function recordIdOf(record: DynamoDBRecord): string | undefined {
  return record.dynamodb?.SequenceNumber;
}

/**
 * Records the removals in order and answers the record ids of the one that failed and of those
 * after it, which were not tried: the removals before it are recorded, and the stream delivers
 * the rest again.
 */
async function recordRemovals(deps: KeyExpiryDeps, removals: readonly KeyRemovalRecord[]): Promise<string[]> {
  for (const [index, removal] of removals.entries()) {
    try {
      await recordKeyExpiries(deps, [removal.key]);
    } catch (error) {
      deps.logger.error('recording a key expiry failed', { accountId: removal.key.accountId, keyId: removal.key.keyId, error });
      return removals.slice(index).map((item) => item.recordId);
    }
  }
  return [];
}

let handlerInstance: TableSignalsHandler | undefined;

export const handler: TableSignalsHandler = (event) => {
  handlerInstance ??= createTableSignalsHandler({
    keyExpiry: {
      store: new DynamoDbStore(
        DynamoDBDocumentClient.from(new DynamoDBClient(awsClientSettings()), { marshallOptions: { removeUndefinedValues: true } }),
        requiredEnv(ENV.tableName),
        { auditRetentionDays: auditRetentionDaysFromEnv() },
      ),
      logger: createLogger('latchkey-key-expiry'),
    },
    eventPublishing: {
      bus: new EventBridgeSignalBus(eventBridgeClient, requiredEnv(ENV.eventBusName)),
      logger: createLogger('latchkey-event-publisher'),
    },
  });
  return handlerInstance(event);
};
