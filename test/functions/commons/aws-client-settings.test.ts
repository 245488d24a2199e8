import { randomBytes } from 'node:crypto';
import { type Server, type Socket, createServer } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthorizerFaultError, createAuthorizerHandler } from '#functions/authorizer.ts';
import { AWS_CALL_LIMITS, awsClientSettings } from '#functions/commons/aws-client-settings.ts';
import { apiGatewayClient } from '#functions/commons/clients/api-gateway.ts';
import { dynamoDbClient } from '#functions/commons/clients/dynamodb.ts';
import { kmsClient } from '#functions/commons/clients/kms.ts';
import { AUTHORIZER_TIMEOUT } from '#infra/stateless-stack.ts';
import { DynamoDbStore } from '#shared/adapters/dynamodb-store.ts';
import { KmsSecrets } from '#shared/adapters/kms-secrets.ts';
import { newId } from '#shared/domain/ids.ts';
import { formatAccountKey, formatUserKey } from '#shared/domain/key-format.ts';
import { createPepperProvider } from '#shared/authorization/peppers.ts';
import { createTestTable } from '#test/support/dynamodb.ts';
import requestFixture from '#test/events/authorizer-request.json' with { type: 'json' };
import { quietLogger } from '#test/support/fakes/logger.ts';

/**
 * The SDK clients' deadlines against a server that accepts connections and never answers:
 * every call ends as an error after its tries, where the SDK's defaults would wait for ever.
 * The clients are built with the functions' own settings, with a shorter request timeout so
 * that the test is quick.
 */

const TEST_LIMITS = { requestTimeout: 300 };
const KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555';

/** Accepts every connection, reads what it is sent, and never writes a byte back. */
class SilentServer {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  connections = 0;

  constructor() {
    this.#server = createServer((socket) => {
      this.connections += 1;
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.resume();
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('the silent server has no port');
    return `http://127.0.0.1:${address.port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve, reject) => {
      this.#server.close((error) => {
        if (error === undefined) resolve();
        else reject(error);
      });
    });
  }
}

const silent = new SilentServer();
let silentEndpoint: string;

beforeAll(async () => {
  silentEndpoint = await silent.start();
});

afterAll(async () => {
  await silent.stop();
});

function silentDynamoDb(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({ ...awsClientSettings(TEST_LIMITS), endpoint: silentEndpoint }));
}

function silentKms(): KMSClient {
  return new KMSClient({ ...awsClientSettings(TEST_LIMITS), endpoint: silentEndpoint });
}

describe('AWS SDK clients against a server that never answers', () => {
  it('ends the authorizer\'s read with a timeout after the configured tries, instead of hanging', { timeout: 10_000 }, async () => {
    // Prepare
    const store = new DynamoDbStore(silentDynamoDb(), 'latchkey-silent');
    const connectionsBefore = silent.connections;

    // Act
    const read = store.loadForAuthorization(newId(), newId());

    // Assess
    await expect(read).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(silent.connections - connectionsBefore).toBe(AWS_CALL_LIMITS.maxAttempts);
  });

  it('fails a pepper load whose KMS call hangs, and loads afresh on the next request', { timeout: 10_000 }, async () => {
    // Prepare: a real pepper record on DynamoDB Local; KMS never answers.
    const table = await createTestTable();
    await table.store.addPepper({ version: 1, ciphertext: randomBytes(64) });
    const peppers = createPepperProvider(table.store, new KmsSecrets(silentKms(), KEY_ARN));
    const connectionsBefore = silent.connections;

    // Act
    const first = peppers();
    await expect(first).rejects.toMatchObject({ name: 'TimeoutError' });
    const afterFirst = silent.connections;
    const second = peppers();

    // Assess: the failed load was not kept; the second request tried KMS again.
    await expect(second).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(afterFirst - connectionsBefore).toBe(AWS_CALL_LIMITS.maxAttempts);
    expect(silent.connections - afterFirst).toBe(AWS_CALL_LIMITS.maxAttempts);
  });

  it('makes the authorizer answer with its fault (API Gateway\'s 500, nobody let in) when DynamoDB and KMS hang', { timeout: 10_000 }, async () => {
    // Prepare
    const store = new DynamoDbStore(silentDynamoDb(), 'latchkey-silent');
    const handler = createAuthorizerHandler({
      credentials: store,
      peppers: createPepperProvider(store, new KmsSecrets(silentKms(), KEY_ARN)),
      logger: quietLogger(),
    });
    const accountId = newId();
    const event = structuredClone(requestFixture) as unknown as APIGatewayRequestAuthorizerEvent;
    event.headers = { ...event.headers, 'x-api-key': formatAccountKey(accountId), 'x-api-secret-key': formatUserKey(accountId, newId()) };
    event.multiValueHeaders = {};

    // Act / Assess
    await expect(handler(event)).rejects.toBeInstanceOf(AuthorizerFaultError);
  });

  it('builds the Lambda functions\' clients with those tries', async () => {
    expect(await dynamoDbClient.config.maxAttempts()).toBe(AWS_CALL_LIMITS.maxAttempts);
    expect(await kmsClient.config.maxAttempts()).toBe(AWS_CALL_LIMITS.maxAttempts);
    expect(await apiGatewayClient.config.maxAttempts()).toBe(AWS_CALL_LIMITS.maxAttempts);
  });
});

describe('the limits themselves', () => {
  it('let a hung call and its retry end inside the authorizer\'s timeout, with time to answer', () => {
    const worstCase = AWS_CALL_LIMITS.maxAttempts * Math.max(AWS_CALL_LIMITS.connectionTimeout, AWS_CALL_LIMITS.requestTimeout);
    expect(worstCase).toBeLessThanOrEqual(AUTHORIZER_TIMEOUT.toMilliseconds() - 1_000);
  });
});
