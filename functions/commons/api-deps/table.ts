import { DynamoDbStore } from '#shared/adapters/dynamodb-store.ts';
import { ENV, auditRetentionDaysFromEnv, limitsFromEnv, requiredEnv } from '#shared/adapters/environment.ts';
import type { ApiDeps } from '#shared/ports/deps.ts';
import { FLUSHED_BY_STREAM } from '#shared/services/revocation.ts';
import { documentClient } from '../clients/dynamodb.ts';
import { createLogger } from '../logger.ts';

/**
 * The management functions' dependencies in AWS, in three layers by the SDK clients they
 * build: the table alone (here), with KMS (./peppers.ts), with API Gateway too
 * (./usage-plans.ts). Each function takes the smallest layer its routes need, so that its
 * bundle neither carries nor builds a client it never calls. Each is called on a container's
 * first invocation, from the environment the stack sets; a missing variable is a deployment
 * fault and fails it.
 */
export type TableApiDeps = Pick<ApiDeps, 'store' | 'authorizerCache' | 'limits' | 'logger' | 'now'>;

/** The table's store; it is also the pepper store of ./peppers.ts. */
export function tableStore(): DynamoDbStore {
  return new DynamoDbStore(documentClient, requiredEnv(ENV.tableName), { auditRetentionDays: auditRetentionDaysFromEnv() });
}

export function tableApiDeps(store = tableStore()): TableApiDeps {
  return {
    store,
    // The revocation flusher function flushes the stage's cache from the table's stream.
    authorizerCache: FLUSHED_BY_STREAM,
    limits: limitsFromEnv(),
    logger: createLogger('latchkey-api'),
    now: () => new Date(),
  };
}
