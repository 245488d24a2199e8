import { createAuthorizerHandler } from '#functions/authorizer.ts';
import { createLogger } from '#functions/commons/logger.ts';
import { createTable } from '#shared/adapters/create-table.ts';
import { DynamoDbStore } from '#shared/adapters/dynamodb-store.ts';
import { KmsSecrets } from '#shared/adapters/kms-secrets.ts';
import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import { createPepperProvider, ensurePepper } from '#shared/authorization/peppers.ts';
import { createAccount } from '#shared/services/accounts.ts';
import { countedDynamoDb, countedKms } from './call-counters.ts';
import { authorizerEvent, withStdoutDiscarded } from './fixtures.ts';
import type { Figure } from './report.ts';
import { LocalUsagePlans } from '#local/storage/local-usage-plans.ts';

const GROUP = '2 calls';
const WARM_AUTHORIZATIONS = 200;
const KMS_KEY_ID = 'alias/latchkey-bench';

export interface CallsResult {
  readonly figures: readonly Figure[];
  readonly details: {
    readonly coldStart: { readonly dynamodb: Readonly<Record<string, number>>; readonly kms: Readonly<Record<string, number>> };
    readonly warm: {
      readonly authorizations: number;
      readonly dynamodb: Readonly<Record<string, number>>;
      readonly kms: Readonly<Record<string, number>>;
    };
    readonly malformedKey: { readonly dynamodb: Readonly<Record<string, number>>; readonly kms: Readonly<Record<string, number>> };
  };
}

/**
 * The real DynamoDbStore and KmsSecrets behind the authorizer handler, with every call they
 * make counted at the SDK clients: a container's first request (cold: the pepper is read and
 * decrypted), then many more on the same container (warm).
 */
export async function benchCalls(endpoint: string): Promise<CallsResult> {
  const tableName = 'latchkey-bench-calls';
  const kms = countedKms(KMS_KEY_ID);
  try {
    // Provisioning, as the deploy-time custom resource and account sign-up do it.
    const setup = countedDynamoDb(endpoint);
    await createTable(setup.raw, tableName);
    const setupStore = new DynamoDbStore(setup.documentClient, tableName);
    const setupSecrets = new KmsSecrets(kms.client, KMS_KEY_ID);
    await ensurePepper(setupStore, setupSecrets);
    const created = await createAccount(
      { store: setupStore, secrets: setupSecrets, peppers: createPepperProvider(setupStore, setupSecrets), now: () => new Date(), usagePlans: new LocalUsagePlans() },
      { name: 'bench calls', ownerName: 'Bench Owner', ownerEmail: 'owner@example.com' },
      SYSTEM_ACTOR,
    );
    setup.raw.destroy();

    // A new container: new clients, new store, new pepper provider, nothing cached.
    const container = countedDynamoDb(endpoint);
    const store = new DynamoDbStore(container.documentClient, tableName);
    const handler = createAuthorizerHandler({
      credentials: store,
      peppers: createPepperProvider(store, new KmsSecrets(kms.client, KMS_KEY_ID)),
      logger: createLogger('latchkey-authorizer'),
    });
    const event = authorizerEvent(created.accountKey, created.userKey);
    kms.calls.reset();

    const result = await withStdoutDiscarded(async () => {
      const first = await handler(event);
      if (first.policyDocument.Statement[0]?.Effect !== 'Allow') throw new Error('the benchmark credentials were not allowed');
      const coldStart = { dynamodb: container.calls.snapshot(), kms: kms.calls.snapshot() };
      const coldDynamoDb = container.calls.total;
      const coldKms = kms.calls.total;

      container.calls.reset();
      kms.calls.reset();
      for (let i = 0; i < WARM_AUTHORIZATIONS; i += 1) await handler(event);
      const warm = { authorizations: WARM_AUTHORIZATIONS, dynamodb: container.calls.snapshot(), kms: kms.calls.snapshot() };
      const warmDynamoDb = container.calls.total / WARM_AUTHORIZATIONS;
      const warmKms = kms.calls.total / WARM_AUTHORIZATIONS;

      container.calls.reset();
      kms.calls.reset();
      const truncated = authorizerEvent(created.accountKey, created.userKey.slice(0, -1));
      await handler(truncated).then(
        () => {
          throw new Error('a truncated key was not refused');
        },
        () => undefined,
      );
      const malformedKey = { dynamodb: container.calls.snapshot(), kms: kms.calls.snapshot() };
      return { coldStart, coldDynamoDb, coldKms, warm, warmDynamoDb, warmKms, malformedKey, malformedCalls: container.calls.total + kms.calls.total };
    });
    container.raw.destroy();

    const describe = (calls: Readonly<Record<string, number>>): string =>
      Object.entries(calls).map(([operation, count]) => `${operation} ${String(count)}`).join(', ') || 'none';
    const dynamoMethod = 'counted by a middleware in the real DynamoDB client (deserialize step: one per HTTP round trip) against DynamoDB Local; real DynamoDbStore';
    const kmsMethod = 'counted at the KMS client; real KmsSecrets, the client\'s send replaced by a KMS stand-in (aws-sdk-client-mock), no KMS here';
    const figures: Figure[] = [
      { group: GROUP, name: 'DynamoDB round trips per authorization, warm', value: result.warmDynamoDb, unit: 'calls', method: `${dynamoMethod}; ${String(WARM_AUTHORIZATIONS)} authorizations: ${describe(result.warm.dynamodb)}` },
      { group: GROUP, name: 'KMS calls per authorization, warm', value: result.warmKms, unit: 'calls', method: `${kmsMethod}; ${String(WARM_AUTHORIZATIONS)} authorizations: ${describe(result.warm.kms)}` },
      { group: GROUP, name: 'KMS calls per cold start', value: result.coldKms, unit: 'calls', method: `new container's first authorization (one pepper version): ${describe(result.coldStart.kms)}` },
      { group: GROUP, name: 'DynamoDB round trips, cold start request', value: result.coldDynamoDb, unit: 'calls', method: `same first authorization: ${describe(result.coldStart.dynamodb)}` },
      { group: GROUP, name: 'calls for a truncated user key', value: result.malformedCalls, unit: 'calls', method: 'DynamoDB + KMS calls while refusing a key with a bad length (rejected before any I/O)' },
    ];
    return {
      figures,
      details: { coldStart: result.coldStart, warm: result.warm, malformedKey: result.malformedKey },
    };
  } finally {
    kms.restore();
  }
}
