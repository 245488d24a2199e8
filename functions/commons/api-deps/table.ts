import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDbStoreOptions } from '#shared/adapters/dynamodb/table.ts';
import { ENV, auditRetentionDaysFromEnv, limitsFromEnv, requiredEnv } from '#shared/adapters/environment.ts';
import type { ApiDeps } from '#shared/ports/deps.ts';
import { FLUSHED_BY_STREAM } from '#shared/services/revocation.ts';
import { documentClient } from '../clients/dynamodb.ts';
import { createLogger } from '../logger.ts';

/**
 * The management functions' dependencies in AWS, in three layers by the SDK clients they
 * build: the table alone (here), with KMS (./peppers.ts), with API Gateway too
 * (./usage-plans.ts). Each function takes the smallest layer its routes need, and a store made
 * of only the per-resource stores its operations call (functions/<group>.ts), so that its
 * bundle neither carries nor builds a client or a store it never calls. Each is called on a
 * container's first invocation, from the environment the stack sets; a missing variable is a
 * deployment fault and fails it.
 */
export type TableApiDeps<S> = Pick<ApiDeps, 'authorizerCache' | 'limits' | 'logger' | 'now'> & { readonly store: S };

type ResourceStoreClass<S> = new (client: DynamoDBDocumentClient, tableName: string, options: DynamoDbStoreOptions) => S;

/** One resource's store (shared/adapters/dynamodb/<resource>-store.ts) on the stack's table. */
export function onTable<S>(Store: ResourceStoreClass<S>): S {
  return new Store(documentClient, requiredEnv(ENV.tableName), { auditRetentionDays: auditRetentionDaysFromEnv() });
}

/** The named methods of a store, bound to it: a function's store is put together from several. */
export function methodsOf<S extends object, K extends keyof S>(store: S, names: readonly K[]): Pick<S, K> {
  const picked: Partial<Pick<S, K>> = {};
  for (const name of names) {
    const member = store[name];
    picked[name] = typeof member === 'function' ? (member.bind(store) as S[K]) : member;
  }
  return picked as Pick<S, K>;
}

export function tableApiDeps<S>(store: S): TableApiDeps<S> {
  return {
    store,
    // The revocation flusher function flushes the stage's cache from the table's stream.
    authorizerCache: FLUSHED_BY_STREAM,
    limits: limitsFromEnv(),
    logger: createLogger('latchkey-api'),
    now: () => new Date(),
  };
}
