import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DecryptCommand,
  type DecryptCommandInput,
  EncryptCommand,
  type EncryptCommandInput,
  GenerateDataKeyWithoutPlaintextCommand,
  type GenerateDataKeyWithoutPlaintextCommandInput,
  KMSClient,
} from '@aws-sdk/client-kms';
import { BatchGetCommand, type BatchGetCommandInput, DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { AuthorizerFaultError, createAuthorizerHandler } from '#functions/authorizer.ts';
import { DynamoDbStore } from '#shared/adapters/dynamodb-store.ts';
import { KmsSecrets } from '#shared/adapters/kms-secrets.ts';
import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import { evaluatePolicy } from '#local/gateway/policy-evaluator.ts';
import { DEFAULT_LIMITS } from '#shared/adapters/environment.ts';
import { newId } from '#shared/domain/ids.ts';
import { formatUserKey } from '#shared/domain/key-format.ts';
import { createPepperProvider, ensurePepper, rotatePepper } from '#shared/authorization/peppers.ts';
import { createAccount } from '#shared/services/accounts.ts';
import { rollAccountKey, rollApiKey } from '#shared/services/key-rolls.ts';
import { setPlan } from '#shared/services/plans.ts';
import { type TestTable, createTestTable, testEvent, testKey, testUser } from '#test/support/dynamodb.ts';
import { InMemoryKms } from '#test/support/fakes/kms.ts';
import requestFixture from '#test/events/authorizer-request.json' with { type: 'json' };
import { LocalUsagePlans } from '#local/storage/local-usage-plans.ts';
import { quietLogger } from '#test/support/fakes/logger.ts';
import { FakeAuthorizerCache } from '#test/support/fakes/authorizer-cache.ts';

/**
 * The authorizer wired as in Lambda: a real DynamoDbStore and KmsSecrets, on clients mocked
 * with aws-sdk-client-mock so that every call is counted and any of them can be made to fail.
 * The DynamoDB mock forwards to DynamoDB Local (the data is real, written by the store); the
 * KMS mock keeps its ciphertexts in memory and, like KMS, refuses a wrong context or key.
 */

const KEY_ID = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';

const kmsClient = new KMSClient({});
const kms = mockClient(kmsClient);
const countedDocumentClient = DynamoDBDocumentClient.from(
  new DynamoDBClient({ endpoint: inject('dynamodbEndpoint'), region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
);
const dynamo = mockClient(countedDocumentClient);

const inMemoryKms = new InMemoryKms(KEY_ID);

function installKms(): void {
  kms
    .on(GenerateDataKeyWithoutPlaintextCommand)
    .callsFake((input: GenerateDataKeyWithoutPlaintextCommandInput) => inMemoryKms.generateDataKeyWithoutPlaintext(input))
    .on(EncryptCommand)
    .callsFake((input: EncryptCommandInput) => inMemoryKms.encrypt(input))
    .on(DecryptCommand)
    .callsFake((input: DecryptCommandInput) => inMemoryKms.decrypt(input));
}

function forwardDynamo(table: TestTable): void {
  dynamo
    .on(BatchGetCommand)
    .callsFake((input: BatchGetCommandInput) => table.client.send(new BatchGetCommand(input)))
    .on(QueryCommand)
    .callsFake((input: QueryCommandInput) => table.client.send(new QueryCommand(input)));
}

function eventWith(accountKey: string, userKey: string, sourceIp = '203.0.113.7'): APIGatewayRequestAuthorizerEvent {
  const event = structuredClone(requestFixture) as unknown as APIGatewayRequestAuthorizerEvent;
  event.headers = { ...event.headers, 'x-api-key': accountKey, 'x-api-secret-key': userKey };
  event.multiValueHeaders = { ...event.multiValueHeaders, 'x-api-key': [accountKey], 'x-api-secret-key': [userKey] };
  event.requestContext.identity.sourceIp = sourceIp;
  return event;
}

describe('authorizer on the DynamoDB and KMS clients', () => {
  let table: TestTable;
  const setupSecrets = new KmsSecrets(kmsClient, KEY_ID);

  beforeAll(async () => {
    table = await createTestTable();
  });

  beforeEach(async () => {
    kms.reset();
    dynamo.reset();
    installKms();
    forwardDynamo(table);
    await ensurePepper(table.store, setupSecrets);
  });

  /** A new container: its own store, secrets and pepper provider on the counted clients. */
  function coldAuthorizer(on: TestTable = table) {
    const store = new DynamoDbStore(countedDocumentClient, on.tableName);
    return createAuthorizerHandler({
      credentials: store,
      peppers: createPepperProvider(store, new KmsSecrets(kmsClient, KEY_ID)),
      logger: quietLogger(),
    });
  }

  async function newAccount(on: TestTable = table) {
    const peppers = createPepperProvider(on.store, setupSecrets);
    const created = await createAccount(
      { store: on.store, secrets: setupSecrets, peppers, now: () => new Date(), usagePlans: new LocalUsagePlans() },
      { name: 'Acme', ownerName: 'Ada', ownerEmail: 'ada@example.com' },
      SYSTEM_ACTOR,
    );
    return { ...created, peppers };
  }

  function resetCounts(): void {
    kms.resetHistory();
    dynamo.resetHistory();
  }

  describe('usage plans', () => {
    it("hands API Gateway the account's usage-plan key and the local runtime its plan, from the same one read", async () => {
      // Prepare
      const { account, accountKey, userKey } = await newAccount();
      const plan = { rateLimit: 5, burstLimit: 7, quota: { limit: 900, period: 'WEEK' as const } };
      await setPlan(
        { store: table.store, usagePlans: new LocalUsagePlans(), authorizerCache: new FakeAuthorizerCache(), logger: quietLogger(), now: () => new Date() },
        account.id,
        plan,
        SYSTEM_ACTOR,
      );
      const stored = await table.store.getAccountLimits(account.id);
      const authorizer = coldAuthorizer();
      await authorizer(eventWith(accountKey, userKey));
      resetCounts();

      // Act
      const result = await authorizer(eventWith(accountKey, userKey));

      // Assess
      expect(stored.usageKey?.value).toMatch(/^[0-9a-f]{48}$/);
      expect(result.usageIdentifierKey).toBe(stored.usageKey?.value);
      expect(result.context).toMatchObject({ accountId: account.id, rateLimit: 5, burstLimit: 7, quotaLimit: 900, quotaPeriod: 'WEEK' });
      expect(dynamo.commandCalls(BatchGetCommand)).toHaveLength(1);
      expect(dynamo.calls()).toHaveLength(1);
    });
  });

  describe('round trips', () => {
    it('decrypts the pepper once per cold start, then reads DynamoDB once and calls KMS never per request', async () => {
      // Prepare
      const { accountKey, userKey } = await newAccount();
      const authorizer = coldAuthorizer();
      resetCounts();

      // Act
      const cold = await authorizer(eventWith(accountKey, userKey));
      const coldKms = kms.commandCalls(DecryptCommand).length;
      const coldBatchGets = dynamo.commandCalls(BatchGetCommand).length;
      resetCounts();
      const warm = await authorizer(eventWith(accountKey, userKey));
      const warmAgain = await authorizer(eventWith(accountKey, userKey));

      // Assess
      expect(evaluatePolicy(cold.policyDocument, requestFixture.methodArn)).toBe('allow');
      expect(evaluatePolicy(warm.policyDocument, requestFixture.methodArn)).toBe('allow');
      expect(evaluatePolicy(warmAgain.policyDocument, requestFixture.methodArn)).toBe('allow');
      expect(coldKms).toBe(1);
      expect(coldBatchGets).toBe(1);
      expect(kms.calls()).toHaveLength(0);
      expect(dynamo.commandCalls(BatchGetCommand)).toHaveLength(2);
      expect(dynamo.calls()).toHaveLength(2);
    });

    it('still reads DynamoDB once and calls KMS never for keys in their grace period after a roll', async () => {
      // Prepare
      const { accountKey, userKey, account, keyId, peppers } = await newAccount();
      const deps = {
        store: table.store,
        secrets: setupSecrets,
        peppers,
        now: () => new Date(),
        authorizerCache: new FakeAuthorizerCache(),
        logger: quietLogger(),
      };
      const rolledKey = await rollApiKey(deps, account.id, keyId, 600, SYSTEM_ACTOR);
      const rolledAccount = await rollAccountKey(deps, account.id, 600, SYSTEM_ACTOR);
      const authorizer = coldAuthorizer();
      await authorizer(eventWith(rolledAccount.accountKey, rolledKey.secret));
      resetCounts();

      // Act
      const previous = await authorizer(eventWith(accountKey, userKey));
      const current = await authorizer(eventWith(rolledAccount.accountKey, rolledKey.secret));

      // Assess
      expect(evaluatePolicy(previous.policyDocument, requestFixture.methodArn)).toBe('allow');
      expect(evaluatePolicy(current.policyDocument, requestFixture.methodArn)).toBe('allow');
      expect(previous.context?.validUntil).toBe(rolledKey.previousSecretExpiresAt);
      expect(current.context?.validUntil).toBeUndefined();
      expect(kms.calls()).toHaveLength(0);
      expect(dynamo.commandCalls(BatchGetCommand)).toHaveLength(2);
      expect(dynamo.calls()).toHaveLength(2);
    });

    it('reads both items in one strongly consistent BatchGetItem', async () => {
      // Prepare
      const { account, keyId, accountKey, userKey } = await newAccount();
      const authorizer = coldAuthorizer();
      await authorizer(eventWith(accountKey, userKey));
      resetCounts();

      // Act
      await authorizer(eventWith(accountKey, userKey));

      // Assess
      expect(dynamo).toReceiveCommandTimes(BatchGetCommand, 1);
      const input = dynamo.commandCalls(BatchGetCommand)[0]!.args[0].input;
      const request = input.RequestItems?.[table.tableName];
      expect(request?.ConsistentRead).toBe(true);
      expect(request?.Keys).toEqual([
        { pk: `ACCOUNT#${account.id}`, sk: 'META' },
        { pk: `ACCOUNT#${account.id}`, sk: `KEY#${keyId}` },
      ]);
    });

    it('decrypts each pepper version once after a rotation, and keeps verifying old digests', async () => {
      // Prepare: on a table of its own, the account's digests use version 1; a rotation adds version 2.
      const rotated = await createTestTable();
      await ensurePepper(rotated.store, setupSecrets);
      const { accountKey, userKey } = await newAccount(rotated);
      await rotatePepper(rotated.store, setupSecrets);
      const authorizer = coldAuthorizer(rotated);
      resetCounts();

      // Act
      const cold = await authorizer(eventWith(accountKey, userKey));
      const coldDecrypts = kms.commandCalls(DecryptCommand).map((call) => call.args[0].input.EncryptionContext?.version);
      resetCounts();
      await authorizer(eventWith(accountKey, userKey));

      // Assess
      expect(evaluatePolicy(cold.policyDocument, requestFixture.methodArn)).toBe('allow');
      expect(coldDecrypts.sort()).toEqual(['1', '2']);
      expect(kms.calls()).toHaveLength(0);
    });

    it('reloads the pepper ring once when a warm container meets a digest made after a rotation', async () => {
      // Prepare: a warm container that loaded only version 1; then a rotation, and keys digested with version 2.
      const rotating = await createTestTable();
      await ensurePepper(rotating.store, setupSecrets);
      const before = await newAccount(rotating);
      const authorizer = coldAuthorizer(rotating);
      await authorizer(eventWith(before.accountKey, before.userKey));
      await rotatePepper(rotating.store, setupSecrets);
      const after = await newAccount(rotating);
      resetCounts();

      // Act
      const fresh = await authorizer(eventWith(after.accountKey, after.userKey));
      const reloadDecrypts = kms.commandCalls(DecryptCommand).length;
      resetCounts();
      const old = await authorizer(eventWith(before.accountKey, before.userKey));

      // Assess: the new keys authorize without a cold start, the old ones still do, and the reload
      // happened once, decrypting only the version the container had not seen.
      expect(evaluatePolicy(fresh.policyDocument, requestFixture.methodArn)).toBe('allow');
      expect(evaluatePolicy(old.policyDocument, requestFixture.methodArn)).toBe('allow');
      expect(reloadDecrypts).toBe(1);
      expect(kms.calls()).toHaveLength(0);
    });

    it('touches neither DynamoDB nor KMS for malformed or mismatched keys, even on a cold start', async () => {
      // Prepare
      const { accountKey, userKey } = await newAccount();
      const authorizer = coldAuthorizer();
      resetCounts();

      // Act
      const outcomes = await Promise.allSettled([
        authorizer(eventWith(accountKey, userKey.slice(0, -2))),
        authorizer(eventWith(accountKey.replace('lka_', 'lkx_'), userKey)),
        authorizer(eventWith(accountKey, formatUserKey(newId(), newId()))),
        authorizer(eventWith('', '')),
      ]);

      // Assess
      for (const outcome of outcomes) expect(outcome).toMatchObject({ status: 'rejected', reason: new Error('Unauthorized') });
      expect(dynamo.calls()).toHaveLength(0);
      expect(kms.calls()).toHaveLength(0);
    });
  });

  describe('decisions on data the store wrote', () => {
    it('stops a deleted key at once', async () => {
      // Prepare
      const { account, keyId, accountKey, userKey } = await newAccount();
      const authorizer = coldAuthorizer();
      await authorizer(eventWith(accountKey, userKey));
      await table.store.deleteKey(account.id, keyId, testEvent(account.id, 'api-key.delete'));

      // Act
      const outcome = authorizer(eventWith(accountKey, userKey));

      // Assess
      await expect(outcome).rejects.toThrow(new Error('Unauthorized'));
    });

    it('stops every key of an account whose API is disabled', async () => {
      // Prepare
      const { account, accountKey, userKey } = await newAccount();
      const authorizer = coldAuthorizer();
      await table.store.setApiEnabled(account.id, false, testEvent(account.id, 'account.api-disable'));

      // Act
      const outcome = authorizer(eventWith(accountKey, userKey));

      // Assess
      await expect(outcome).rejects.toThrow(new Error('Unauthorized'));
    });

    it("applies a viewer key's allow list and role as stored", async () => {
      // Prepare
      const { account, accountKey, peppers } = await newAccount();
      const ring = await peppers();
      const viewer = testUser(account.id, 'viewer');
      await table.store.createUser(viewer, testEvent(account.id, 'user.create'));
      const record = testKey(viewer);
      const userKey = formatUserKey(account.id, record.id);
      const digest = ring.digest(userKey);
      await table.store.createKey({ ...record, secretHash: digest.hash, pepperVersion: digest.pepperVersion }, testEvent(account.id), DEFAULT_LIMITS);
      await table.store.editAllowList(
        account.id,
        record.id,
        (list) => ({ list: list.add({ id: newId(), cidr: '10.0.0.0/8', createdAt: new Date().toISOString() }), result: undefined }),
        testEvent(account.id, 'cidr-rule.create'),
        DEFAULT_LIMITS,
      );
      const authorizer = coldAuthorizer();
      const stored = await table.store.loadForAuthorization(account.id, record.id);

      // Act
      const inside = await authorizer(eventWith(accountKey, userKey, '10.1.2.3'));
      const outside = await authorizer(eventWith(accountKey, userKey, '192.0.2.1'));
      await table.store.changeRole(account.id, viewer.id, 'member', testEvent(account.id, 'user.update'));
      const demoted = authorizer(eventWith(accountKey, userKey, '10.1.2.3'));

      // Assess
      expect(inside.context).toEqual({
        accountId: account.id,
        userId: viewer.id,
        role: 'viewer',
        keyId: record.id,
        accountKeyTag: stored.account?.accountKeyTag,
        userKeyTag: stored.key?.secretTag,
      });
      expect(evaluatePolicy(inside.policyDocument, requestFixture.methodArn.replace('/GET/v1/whoami', '/GET/v1/users'))).toBe('allow');
      expect(evaluatePolicy(inside.policyDocument, requestFixture.methodArn.replace('/GET/v1/whoami', '/POST/v1/users'))).toBe(
        'implicit-deny',
      );
      expect(evaluatePolicy(outside.policyDocument, requestFixture.methodArn)).toBe('explicit-deny');
      await expect(demoted).rejects.toThrow(new Error('Unauthorized'));
    });
  });

  describe('faults never allow', () => {
    async function expectFault(authorizer: ReturnType<typeof coldAuthorizer>, accountKey: string, userKey: string): Promise<void> {
      const outcome = authorizer(eventWith(accountKey, userKey));
      await expect(outcome).rejects.toBeInstanceOf(AuthorizerFaultError);
      await expect(outcome).rejects.not.toThrow(/^Unauthorized$/);
    }

    it('fails when BatchGetItem throws', async () => {
      // Prepare
      const { accountKey, userKey } = await newAccount();
      dynamo.on(BatchGetCommand).rejects(Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ProvisionedThroughputExceededException' }));

      // Act / Assess
      await expectFault(coldAuthorizer(), accountKey, userKey);
    });

    it('fails when BatchGetItem times out', async () => {
      // Prepare
      const { accountKey, userKey } = await newAccount();
      dynamo.on(BatchGetCommand).rejects(Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' }));

      // Act / Assess
      await expectFault(coldAuthorizer(), accountKey, userKey);
    });

    it('fails when BatchGetItem leaves keys unprocessed, even with the items it did return', async () => {
      // Prepare: the account item comes back, the key item is left unprocessed.
      const { account, keyId, accountKey, userKey } = await newAccount();
      dynamo.on(BatchGetCommand).callsFake(async (input: BatchGetCommandInput) => {
        const full = await table.client.send(new BatchGetCommand(input));
        const items = full.Responses?.[table.tableName] ?? [];
        return {
          Responses: { [table.tableName]: items.filter((item) => item.sk === 'META') },
          UnprocessedKeys: { [table.tableName]: { Keys: [{ pk: `ACCOUNT#${account.id}`, sk: `KEY#${keyId}` }], ConsistentRead: true } },
        };
      });

      // Act / Assess
      await expectFault(coldAuthorizer(), accountKey, userKey);
    });

    it('fails when the pepper cannot be decrypted on a cold start, and recovers once KMS does', async () => {
      // Prepare
      const { accountKey, userKey } = await newAccount();
      const authorizer = coldAuthorizer();
      kms.on(DecryptCommand).rejects(Object.assign(new Error('User is not authorized to perform kms:Decrypt'), { name: 'AccessDeniedException' }));

      // Act / Assess
      await expectFault(authorizer, accountKey, userKey);
      kms.reset();
      installKms();
      const recovered = await authorizer(eventWith(accountKey, userKey));
      expect(evaluatePolicy(recovered.policyDocument, requestFixture.methodArn)).toBe('allow');
    });

    it('fails when the peppers cannot be listed', async () => {
      // Prepare
      const { accountKey, userKey } = await newAccount();
      dynamo.on(QueryCommand).rejects(Object.assign(new Error('Internal server error'), { name: 'InternalServerError' }));

      // Act / Assess
      await expectFault(coldAuthorizer(), accountKey, userKey);
    });
  });
});
