import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbStore } from '#shared/adapters/dynamodb-store.ts';
import { DynamoDbAccountStore } from '#shared/adapters/dynamodb/account-store.ts';
import { DynamoDbAuditStore } from '#shared/adapters/dynamodb/audit-store.ts';
import { DynamoDbCredentialStore } from '#shared/adapters/dynamodb/credential-store.ts';
import { DynamoDbKeyExpiryStore } from '#shared/adapters/dynamodb/key-expiry-store.ts';
import { DynamoDbKeyStore } from '#shared/adapters/dynamodb/key-store.ts';
import { DynamoDbPepperStore } from '#shared/adapters/dynamodb/pepper-store.ts';
import { DynamoDbUserStore } from '#shared/adapters/dynamodb/user-store.ts';
import { TTL_ATTRIBUTE } from '#shared/adapters/table-schema.ts';
import { testEvent } from '#test/support/dynamodb.ts';

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const dynamo = mockClient(documentClient);
const TABLE = 'latchkey-unit';
const AT = new Date('2030-01-01T00:00:00.000Z');

beforeEach(() => {
  dynamo.reset();
  dynamo.on(GetCommand).resolves({});
  dynamo.on(QueryCommand).resolves({ Items: [] });
  dynamo.on(BatchGetCommand).resolves({ Responses: { [TABLE]: [] }, UnprocessedKeys: {} });
  dynamo.on(PutCommand).resolves({});
  dynamo.on(UpdateCommand).resolves({});
});

/** What a call sent to DynamoDB: each command's name and input, in order. */
async function sent(call: () => Promise<unknown>): Promise<{ command: string; input: unknown }[]> {
  dynamo.resetHistory();
  await call();
  return dynamo.calls().map((c) => ({ command: (c.args[0] as { constructor: { name: string } }).constructor.name, input: c.args[0].input }));
}

describe("each resource's store stands alone on the table", () => {
  const options = { auditRetentionDays: 30 };
  const facade = new DynamoDbStore(documentClient, TABLE, options);
  const expired = { accountId: 'a1', keyId: 'k1', userId: 'u1', expiresAt: AT.toISOString(), removedAt: null };
  const event = testEvent('a1', 'api-key.expire', AT);

  it.each([
    ['credentials', () => new DynamoDbCredentialStore(documentClient, TABLE, options).loadForAuthorization('a1', 'k1'), () => facade.loadForAuthorization('a1', 'k1')],
    ['accounts', () => new DynamoDbAccountStore(documentClient, TABLE, options).getAccount('a1'), () => facade.getAccount('a1')],
    ['users', () => new DynamoDbUserStore(documentClient, TABLE, options).listUsers('a1'), () => facade.listUsers('a1')],
    ['keys', () => new DynamoDbKeyStore(documentClient, TABLE, options).recordKeyUse('a1', 'k1', AT.toISOString()), () => facade.recordKeyUse('a1', 'k1', AT.toISOString())],
    ['audit', () => new DynamoDbAuditStore(documentClient, TABLE, options).recordEvent(event), () => facade.recordEvent(event)],
    ['peppers', () => new DynamoDbPepperStore(documentClient, TABLE, options).listPeppers(), () => facade.listPeppers()],
    ['key expiry', () => new DynamoDbKeyExpiryStore(documentClient, TABLE, options).recordKeyExpiry(expired, event), () => facade.recordKeyExpiry(expired, event)],
  ])('%s: built from (client, tableName, options), it sends what DynamoDbStore sends', async (_name, alone, throughFacade) => {
    // Act
    const fromAlone = await sent(alone);
    const fromFacade = await sent(throughFacade);

    // Assess
    expect(fromAlone.length).toBeGreaterThan(0);
    expect(fromAlone).toEqual(fromFacade);
  });

  it("gives the audit events it writes the options' retention", async () => {
    // Prepare
    const kept = new DynamoDbAuditStore(documentClient, TABLE);
    const expiring = new DynamoDbAuditStore(documentClient, TABLE, { auditRetentionDays: 30 });

    // Act
    const [keptPut] = await sent(() => kept.recordEvent(event));
    const [expiringPut] = await sent(() => expiring.recordEvent(event));

    // Assess
    expect(keptPut?.input).not.toHaveProperty(['Item', TTL_ATTRIBUTE]);
    expect(expiringPut?.input).toHaveProperty(['Item', TTL_ATTRIBUTE], AT.getTime() / 1000 + 30 * 86_400);
  });
});
