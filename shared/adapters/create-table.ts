import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { BY_USER_INDEX, TABLE_KEYS, TTL_ATTRIBUTE } from './table-schema.ts';

const ACTIVE_TIMEOUT_MS = 120_000;
const POLL_INTERVAL_MS = 250;

/**
 * Creates the single table as table-schema.ts describes it (the local runtime and the tests;
 * the CDK stack declares the same table). Safe to call when the table already exists, and
 * returns once the table and its index are ACTIVE.
 */
export async function createTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        // Revocation is durable through the table's stream: each change, with the item as it
        // was and as it is, reaches the flusher (shared/adapters/dynamodb/narrowing.ts).
        StreamSpecification: TABLE_STREAM,
        AttributeDefinitions: [
          { AttributeName: TABLE_KEYS.partitionKey, AttributeType: 'S' },
          { AttributeName: TABLE_KEYS.sortKey, AttributeType: 'S' },
          { AttributeName: BY_USER_INDEX.partitionKey, AttributeType: 'S' },
          { AttributeName: BY_USER_INDEX.sortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: BY_USER_INDEX.name,
            KeySchema: [
              { AttributeName: BY_USER_INDEX.partitionKey, KeyType: 'HASH' },
              { AttributeName: BY_USER_INDEX.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitUntilActive(client, tableName);
  await enableStream(client, tableName);
  await enableTimeToLive(client, tableName);
}

/** The stream the revocation flusher reads: both images, so it can tell a narrowing change. */
export const TABLE_STREAM = { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } as const;

/** A table made before the stream existed (a local data folder) gets it now. */
async function enableStream(client: DynamoDBClient, tableName: string): Promise<void> {
  const { Table: table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const stream = table?.StreamSpecification;
  if (stream?.StreamEnabled === true && stream.StreamViewType === TABLE_STREAM.StreamViewType) return;
  await client.send(new UpdateTableCommand({ TableName: tableName, StreamSpecification: TABLE_STREAM }));
  await waitUntilActive(client, tableName);
}

async function waitUntilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  const deadline = Date.now() + ACTIVE_TIMEOUT_MS;
  for (;;) {
    const { Table: table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (table?.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === 'ACTIVE');
    if (table?.TableStatus === 'ACTIVE' && indexesActive) return;
    if (Date.now() > deadline) throw new Error(`table ${tableName} did not become ACTIVE within ${ACTIVE_TIMEOUT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

/** Audit events carry an expiry; the engine deletes them after it. An engine without TTL just keeps them. */
async function enableTimeToLive(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    const described = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    const status = described.TimeToLiveDescription?.TimeToLiveStatus;
    if (status === 'ENABLED' || status === 'ENABLING') return;
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      }),
    );
  } catch (error) {
    // Expiry is housekeeping, not a security control: a local engine that lacks it (or a
    // concurrent caller that just enabled it) must not stop the table from being usable.
    if (error instanceof Error && /TimeToLive|not supported|UnknownOperation/i.test(`${error.name} ${error.message}`)) return;
    throw error;
  }
}
