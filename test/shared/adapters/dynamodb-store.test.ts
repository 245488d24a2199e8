import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, PutCommand, TransactWriteCommand, UpdateCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DynamoDbStore } from '#shared/adapters/dynamodb-store.ts';
import { MAX_ATTEMPTS, RETRY_BUDGET_MS, TransactionFaultError } from '#shared/adapters/dynamodb/transactions.ts';
import type { CidrAllowList } from '#shared/domain/cidr.ts';
import { ConflictError } from '#shared/domain/errors.ts';
import { fakeDigest, testEvent, testKey, testUser } from '#test/support/dynamodb.ts';

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const dynamo = mockClient(documentClient);
const TABLE = 'latchkey-unit';
const limits = { keysPerUser: 10, rulesPerKey: 20 };

function cancelled(...codes: string[]): TransactionCanceledException {
  return new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
}

const keep = (list: CidrAllowList): { list: CidrAllowList; result: null } => ({ list, result: null });

beforeEach(() => {
  dynamo.reset();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('loadForAuthorization', () => {
  it('makes exactly one strongly consistent BatchGetItem for the account and the key', async () => {
    // Prepare
    const accountKeyHash = fakeDigest();
    const secretHash = fakeDigest();
    dynamo.on(BatchGetCommand).resolves({
      Responses: {
        [TABLE]: [
          { sk: 'KEY#k1', userId: 'u1', role: 'viewer', secretHash, pepperVersion: 2, rules: [{ id: 'r', cidr: '10.0.0.0/8', createdAt: 't' }] },
          { sk: 'META', apiEnabled: true, accountKeyHash, accountKeyPepperVersion: 1 },
        ],
      },
      UnprocessedKeys: {},
    });
    const store = new DynamoDbStore(documentClient, TABLE);

    // Act
    const records = await store.loadForAuthorization('a1', 'k1');

    // Assess
    expect(dynamo.calls()).toHaveLength(1);
    const input = dynamo.commandCalls(BatchGetCommand)[0]!.args[0].input;
    expect(input.RequestItems?.[TABLE]).toMatchObject({
      ConsistentRead: true,
      Keys: [
        { pk: 'ACCOUNT#a1', sk: 'META' },
        { pk: 'ACCOUNT#a1', sk: 'KEY#k1' },
      ],
    });
    expect(records).toEqual({
      account: { apiEnabled: true, accountKeyHash, accountKeyPepperVersion: 1 },
      key: { userId: 'u1', role: 'viewer', secretHash, pepperVersion: 2, cidrs: ['10.0.0.0/8'] },
    });
  });

  it('fails closed, without retrying, when part of the read comes back unprocessed', async () => {
    dynamo.on(BatchGetCommand).resolves({
      Responses: { [TABLE]: [{ sk: 'META', apiEnabled: true, accountKeyHash: fakeDigest(), accountKeyPepperVersion: 1 }] },
      UnprocessedKeys: { [TABLE]: { Keys: [{ pk: 'ACCOUNT#a1', sk: 'KEY#k1' }] } },
    });
    const store = new DynamoDbStore(documentClient, TABLE);

    await expect(store.loadForAuthorization('a1', 'k1')).rejects.toThrow('incomplete');
    expect(dynamo.calls()).toHaveLength(1);
  });

  it('lets a database failure through as a fault', async () => {
    dynamo.on(BatchGetCommand).rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }));
    const store = new DynamoDbStore(documentClient, TABLE);

    await expect(store.loadForAuthorization('a1', 'k1')).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
  });

  it('refuses a stored item with a malformed digest rather than guessing', async () => {
    dynamo.on(BatchGetCommand).resolves({
      Responses: { [TABLE]: [{ sk: 'META', apiEnabled: true, accountKeyHash: 'not-bytes', accountKeyPepperVersion: 1 }] },
    });
    const store = new DynamoDbStore(documentClient, TABLE);

    await expect(store.loadForAuthorization('a1', 'k1')).rejects.toThrow("'accountKeyHash'");
  });
});

describe('transactions', () => {
  it('retries a write that only lost a race, and succeeds', async () => {
    dynamo.on(TransactWriteCommand).rejectsOnce(cancelled('None', 'None', 'TransactionConflict', 'None')).resolves({});
    const store = new DynamoDbStore(documentClient, TABLE);
    const user = testUser('a1');

    await store.createKey(testKey(user), testEvent('a1'), limits);

    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });

  it('treats an unexpected cancellation reason as a fault, not a domain answer', async () => {
    dynamo.on(TransactWriteCommand).rejects(cancelled('None', 'ValidationError', 'None', 'None'));
    const store = new DynamoDbStore(documentClient, TABLE);

    const result = store.createKey(testKey(testUser('a1')), testEvent('a1'), limits);

    await expect(result).rejects.toBeInstanceOf(TransactionFaultError);
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it("never lets a fault carry the items a refusal returned: a key's digest would reach the logs", async () => {
    // Prepare: a cancellation mixing a failed condition (with the key item, as asked) and throttling.
    const digest = Buffer.from('d1ge5t-d1ge5t-d1ge5t-d1ge5t-d1ge5t');
    dynamo.on(TransactWriteCommand).rejects(
      new TransactionCanceledException({
        message: 'Transaction cancelled',
        $metadata: {},
        CancellationReasons: [{ Code: 'ConditionalCheckFailed', Item: { secretHash: { B: digest } } }, { Code: 'ThrottlingError' }],
      }),
    );
    const store = new DynamoDbStore(documentClient, TABLE);

    // Act
    const error: unknown = await store.createKey(testKey(testUser('a1')), testEvent('a1'), limits).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(TransactionFaultError);
    expect((error as TransactionFaultError).reasonCodes).toEqual(['ConditionalCheckFailed', 'ThrottlingError']);
    const everything = JSON.stringify(error, Object.getOwnPropertyNames(error)) + JSON.stringify({ ...(error as object) });
    expect(everything).not.toContain('secretHash');
    expect(everything).not.toContain(digest.toString('base64'));
    expect(everything).not.toContain(`${String(digest[0])},${String(digest[1])}`);
  });

  it('gives up with a ConflictError after a bounded number of lost races', async () => {
    vi.useFakeTimers();
    // The shortest pauses, so that the attempts and not the time run out.
    const random = vi.spyOn(Math, 'random').mockReturnValue(0);
    dynamo.on(GetCommand).resolves({ Item: { rev: 3, rules: [] } });
    dynamo.on(TransactWriteCommand).rejects(cancelled('TransactionConflict', 'None'));
    const store = new DynamoDbStore(documentClient, TABLE);

    const result = store.editAllowList('a1', 'k1', keep, testEvent('a1'), limits);
    const assertion = expect(result).rejects.toEqual(new ConflictError('the allow list changed concurrently; retry'));
    await vi.runAllTimersAsync();
    await assertion;
    random.mockRestore();

    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(MAX_ATTEMPTS);
  });

  it('gives up with a ConflictError within its time budget when each lost race is slow', async () => {
    // Prepare: every transaction takes 400 ms to come back cancelled by a concurrent write.
    vi.useFakeTimers();
    const transactionMs = 400;
    dynamo.on(GetCommand).resolves({ Item: { rev: 3, rules: [] } });
    dynamo.on(TransactWriteCommand).callsFake(
      () =>
        new Promise((_, reject) => {
          setTimeout(() => {
            reject(cancelled('TransactionConflict', 'None'));
          }, transactionMs);
        }),
    );
    const store = new DynamoDbStore(documentClient, TABLE);
    const startedAt = performance.now();
    let settledAt = Number.NaN;

    // Act
    const result = store.editAllowList('a1', 'k1', keep, testEvent('a1'), limits).finally(() => {
      settledAt = performance.now();
    });
    const assertion = expect(result).rejects.toEqual(new ConflictError('the allow list changed concurrently; retry'));
    await vi.runAllTimersAsync();
    await assertion;

    // Assess: the caller has its 409 before the budget is spent (plus at most the attempt
    // under way), far inside API Gateway's 29 s; attempts alone would have taken over 10 s.
    expect(settledAt - startedAt).toBeLessThanOrEqual(RETRY_BUDGET_MS + transactionMs);
    expect(dynamo.commandCalls(TransactWriteCommand).length).toBeLessThan(MAX_ATTEMPTS);
  });

  it('adds a CIDR rule as one conditional append, sent again as it was when it only lost a race', async () => {
    dynamo.on(TransactWriteCommand).rejectsOnce(cancelled('TransactionConflict', 'None')).resolves({});
    const store = new DynamoDbStore(documentClient, TABLE);
    const rule = { id: 'r1', cidr: '10.0.0.0/8', createdAt: 't' };

    await expect(store.addCidrRule('a1', 'k1', rule, testEvent('a1'), limits)).resolves.toEqual(rule);

    const sent = dynamo.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.TransactItems?.[0]?.Update);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toEqual(sent[0]);
    expect(sent[0]?.UpdateExpression).toContain('list_append(#rules, :newRules)');
    expect(sent[0]?.ConditionExpression).toContain('size(#rules) < :limit AND NOT contains(#cidrs, :cidr)');
    expect(sent[0]?.ExpressionAttributeValues).toMatchObject({ ':newCidrs': new Set(['10.0.0.0/8']), ':cidr': '10.0.0.0/8', ':limit': 20 });
    expect(dynamo.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('writes an allow list edit conditioned on the revision it read', async () => {
    dynamo.on(GetCommand).resolves({ Item: { rev: 7, rules: [] } });
    dynamo.on(TransactWriteCommand).resolves({});
    const store = new DynamoDbStore(documentClient, TABLE);

    await store.editAllowList('a1', 'k1', keep, testEvent('a1'), limits);

    const update = dynamo.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems?.[0]?.Update;
    expect(update?.ConditionExpression).toBe('#rev = :rev');
    expect(update?.ExpressionAttributeValues).toMatchObject({ ':rev': 7, ':next': 8 });
  });
});

describe('best-effort and idempotent writes', () => {
  it('ignores a last-use record for a key deleted meanwhile, but not a fault', async () => {
    const store = new DynamoDbStore(documentClient, TABLE);
    dynamo.on(UpdateCommand).rejectsOnce(new ConditionalCheckFailedException({ message: 'gone', $metadata: {} }));

    await expect(store.recordKeyUse('a1', 'k1', 'now')).resolves.toBeUndefined();
    dynamo.on(UpdateCommand).rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }));
    await expect(store.recordKeyUse('a1', 'k1', 'now')).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
  });

  it('answers false when a pepper version already exists, and never overwrites it', async () => {
    dynamo.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    const store = new DynamoDbStore(documentClient, TABLE);

    expect(await store.addPepper({ version: 1, ciphertext: fakeDigest() })).toBe(false);
    expect(dynamo.commandCalls(PutCommand)[0]!.args[0].input.ConditionExpression).toBe('attribute_not_exists(#pk)');
  });

  it('gives audit events an expiry only when a retention is set', async () => {
    dynamo.on(PutCommand).resolves({});
    const event = { ...testEvent('a1'), time: '2030-01-01T00:00:00.000Z' };

    await new DynamoDbStore(documentClient, TABLE, { auditRetentionDays: 2 }).recordEvent(event);
    await new DynamoDbStore(documentClient, TABLE).recordEvent(event);

    const [withRetention, forever] = dynamo.commandCalls(PutCommand).map((call) => call.args[0].input.Item);
    expect(withRetention?.expiresAt).toBe(Date.parse(event.time) / 1000 + 2 * 86_400);
    expect(forever?.expiresAt).toBeUndefined();
  });
});
