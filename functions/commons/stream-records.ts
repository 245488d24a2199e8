import type { DynamoDBRecord } from 'aws-lambda';
import type { TableChange } from '#shared/adapters/dynamodb/narrowing.ts';

/** A record of the table's stream as an event source mapping hands it to a function (binaries as base64). */
export function streamRecordChange(record: DynamoDBRecord): TableChange {
  return {
    eventName: record.eventName,
    keys: record.dynamodb?.Keys,
    oldImage: record.dynamodb?.OldImage,
    newImage: record.dynamodb?.NewImage,
    userIdentity: lambdaUserIdentity(record.userIdentity),
    // Epoch seconds in the Lambda event.
    approximateCreationTime: record.dynamodb?.ApproximateCreationDateTime === undefined ? undefined : record.dynamodb.ApproximateCreationDateTime * 1000,
  };
}

/** The event's `userIdentity` (`{type, principalId}`, untyped in the event's declaration), read field by field. */
function lambdaUserIdentity(value: unknown): TableChange['userIdentity'] {
  if (typeof value !== 'object' || value === null) return undefined;
  const { type, principalId } = value as { type?: unknown; principalId?: unknown };
  return { type: typeof type === 'string' ? type : undefined, principalId: typeof principalId === 'string' ? principalId : undefined };
}
