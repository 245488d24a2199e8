import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoDbCredentialStore, KEY_PERMISSIONS_ATTRIBUTE } from '#shared/adapters/dynamodb/credential-store.ts';
import { fakeDigest } from '#test/support/dynamodb.ts';

/** A restricted key's list (DESIGN 14) comes with the authorizer's one read, or the read fails. */

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const dynamo = mockClient(documentClient);
const TABLE = 'latchkey-unit';

afterEach(() => {
  dynamo.reset();
});

function answering(keyAttributes: Record<string, unknown>): DynamoDbCredentialStore {
  dynamo.on(BatchGetCommand).resolves({
    Responses: {
      [TABLE]: [
        { sk: 'KEY#k1', userId: 'u1', role: 'viewer', secretHash: fakeDigest(), pepperVersion: 1, rules: [], ...keyAttributes },
        { sk: 'META', apiEnabled: true, accountKeyHash: fakeDigest(), accountKeyPepperVersion: 1 },
      ],
    },
    UnprocessedKeys: {},
  });
  return new DynamoDbCredentialStore(documentClient, TABLE);
}

describe("the authorization read and a key's permissions", () => {
  it('asks for the list in the same BatchGetItem and returns it', async () => {
    const records = await answering({ [KEY_PERMISSIONS_ATTRIBUTE]: ['users:read', 'widgets:read'] }).loadForAuthorization('a1', 'k1');
    expect(records.key?.permissions).toEqual(['users:read', 'widgets:read']);
    expect(dynamo.commandCalls(BatchGetCommand)).toHaveLength(1);
    const request = dynamo.commandCalls(BatchGetCommand)[0]?.args[0].input.RequestItems?.[TABLE];
    expect(request?.ProjectionExpression).toContain('#permissions');
    expect(request?.ExpressionAttributeNames?.['#permissions']).toBe('permissions');
  });

  it('reads a key without the attribute, or with NULL, as unrestricted', async () => {
    expect((await answering({}).loadForAuthorization('a1', 'k1')).key).not.toHaveProperty('permissions');
    expect((await answering({ [KEY_PERMISSIONS_ATTRIBUTE]: null }).loadForAuthorization('a1', 'k1')).key).not.toHaveProperty('permissions');
  });

  it.each([
    ['a string', 'users:read'],
    ['a set', new Set(['users:read'])],
    ['a list holding a number', ['users:read', 7]],
  ])('fails closed on %s, which read as absent would lift the restriction', async (_name, value) => {
    await expect(answering({ [KEY_PERMISSIONS_ATTRIBUTE]: value }).loadForAuthorization('a1', 'k1')).rejects.toThrow(/permissions/);
  });
});
