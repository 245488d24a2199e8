import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { insertedAuditEvent } from '#shared/adapters/dynamodb/audit-inserts.ts';
import { ENV, requiredEnv } from '#shared/adapters/environment.ts';
import { EventBridgeSignalBus } from '#shared/adapters/eventbridge/signal-bus.ts';
import { type EventPublishingDeps, type PublishableEvent, publishAuditEvents } from '#shared/services/event-publishing.ts';
import { eventBridgeClient } from './commons/clients/eventbridge.ts';
import { createLogger } from './commons/logger.ts';
import { streamRecordChange } from './commons/stream-records.ts';

/**
 * The event publisher function: the table's stream (its own event source mapping, filtered to
 * INSERTs of `EVENT#` items) hands it each new audit event, and it puts them on the deployment's
 * EventBridge bus (shared/services/event-publishing.ts). Records it could not put are answered
 * as batch item failures: the mapping delivers the batch again from the first of them, bisects,
 * and after the maximum record age sends it to the dead-letter queue.
 */

export type EventPublisherHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;

export function createEventPublisherHandler(deps: EventPublishingDeps): EventPublisherHandler {
  return async (event) => {
    const events: PublishableEvent[] = [];
    for (const record of event.Records) {
      // The mapping's filter lets only new audit items through; the same decision is made again
      // here, so that a filter changed by hand never sends anything else out.
      const audit = insertedAuditEvent(streamRecordChange(record));
      const recordId = record.dynamodb?.SequenceNumber;
      if (audit !== undefined && recordId !== undefined) events.push({ recordId, event: audit });
    }
    const failed = await publishAuditEvents(deps, events);
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

let handlerInstance: EventPublisherHandler | undefined;

export const handler: EventPublisherHandler = (event) => {
  handlerInstance ??= createEventPublisherHandler({
    bus: new EventBridgeSignalBus(eventBridgeClient, requiredEnv(ENV.eventBusName)),
    logger: createLogger('latchkey-event-publisher'),
  });
  return handlerInstance(event);
};
