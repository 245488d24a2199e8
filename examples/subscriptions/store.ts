import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';

/**
 * The example's own table: one item per subscription, keyed by the account first, so a
 * query can only ever see the caller's account.
 */

export const TABLE_ENV = 'SUBSCRIPTIONS_TABLE_NAME';
/** Set only locally (DynamoDB Local); in AWS the SDK's default endpoint is used. */
export const ENDPOINT_ENV = 'SUBSCRIPTIONS_DYNAMODB_ENDPOINT';
export const DEFAULT_LOCAL_TABLE = 'latchkey-example-subscriptions';

/** The table's key, here and in the CDK stack: the account first, so every query stays in one account. */
export const SUBSCRIPTION_KEYS = { partitionKey: 'accountId', sortKey: 'id' } as const;

/**
 * The one DynamoDB action each operation below calls, so that the CDK stack grants each
 * handler exactly that (a handler is named like the operation it calls).
 */
export const TABLE_ACTIONS = {
  listSubscriptions: ['dynamodb:Query'],
  createSubscription: ['dynamodb:PutItem'],
  getSubscription: ['dynamodb:GetItem'],
  deleteSubscription: ['dynamodb:DeleteItem'],
} as const satisfies Readonly<Record<string, readonly string[]>>;

export interface Subscription {
  readonly id: string;
  readonly name: string;
  readonly cloudProvider: 'AWS' | 'GCP' | 'Azure';
  readonly status: 'active';
  readonly createdAt: string;
}

function clientFor(endpoint: string | undefined): DynamoDBClient {
  return endpoint === undefined || endpoint === ''
    ? new DynamoDBClient({})
    : new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
}

let documentClient: DynamoDBDocumentClient | undefined;

function documents(): { client: DynamoDBDocumentClient; table: string } {
  const table = process.env[TABLE_ENV];
  if (table === undefined || table === '') throw new Error(`${TABLE_ENV} is not set`);
  documentClient ??= DynamoDBDocumentClient.from(clientFor(process.env[ENDPOINT_ENV]));
  return { client: documentClient, table };
}

/** For local runs: makes the table on DynamoDB Local (nothing to do if it exists). */
export async function createLocalTable(endpoint: string, table: string): Promise<void> {
  const client = clientFor(endpoint);
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: SUBSCRIPTION_KEYS.partitionKey, AttributeType: 'S' },
          { AttributeName: SUBSCRIPTION_KEYS.sortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: SUBSCRIPTION_KEYS.partitionKey, KeyType: 'HASH' },
          { AttributeName: SUBSCRIPTION_KEYS.sortKey, KeyType: 'RANGE' },
        ],
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  } finally {
    client.destroy();
  }
}

export async function listSubscriptions(accountId: string): Promise<Subscription[]> {
  const { client, table } = documents();
  const items: Subscription[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({ TableName: table, KeyConditionExpression: 'accountId = :a', ExpressionAttributeValues: { ':a': accountId }, ExclusiveStartKey: start }),
    );
    for (const item of page.Items ?? []) items.push(toSubscription(item));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return items.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

export async function createSubscription(accountId: string, input: { name: string; cloudProvider: Subscription['cloudProvider'] }): Promise<Subscription> {
  const { client, table } = documents();
  const subscription: Subscription = { id: randomUUID(), name: input.name, cloudProvider: input.cloudProvider, status: 'active', createdAt: new Date().toISOString() };
  await client.send(new PutCommand({ TableName: table, Item: { accountId, ...subscription }, ConditionExpression: 'attribute_not_exists(id)' }));
  return subscription;
}

export async function getSubscription(accountId: string, id: string): Promise<Subscription | undefined> {
  const { client, table } = documents();
  const found = await client.send(new GetCommand({ TableName: table, Key: { accountId, id } }));
  return found.Item === undefined ? undefined : toSubscription(found.Item);
}

/** Whether it existed (in this account). */
export async function deleteSubscription(accountId: string, id: string): Promise<boolean> {
  const { client, table } = documents();
  const removed = await client.send(new DeleteCommand({ TableName: table, Key: { accountId, id }, ReturnValues: 'ALL_OLD' }));
  return removed.Attributes !== undefined;
}

function toSubscription(item: Record<string, unknown>): Subscription {
  return {
    id: String(item.id),
    name: String(item.name),
    cloudProvider: item.cloudProvider as Subscription['cloudProvider'],
    status: 'active',
    createdAt: String(item.createdAt),
  };
}
