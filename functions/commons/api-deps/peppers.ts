import { DynamoDbPepperStore } from '#shared/adapters/dynamodb/pepper-store.ts';
import { KmsSecrets } from '#shared/adapters/kms-secrets.ts';
import { ENV, requiredEnv } from '#shared/adapters/environment.ts';
import { createPepperProvider } from '#shared/authorization/peppers.ts';
import type { ApiDeps } from '#shared/ports/deps.ts';
import { kmsClient } from '../clients/kms.ts';
import { type TableApiDeps, onTable, tableApiDeps } from './table.ts';

/** The table and KMS: for the functions that digest keys with the peppers or decrypt an account key. */
export type PepperApiDeps<S> = TableApiDeps<S> & Pick<ApiDeps, 'secrets' | 'peppers'>;

export function pepperApiDeps<S>(store: S): PepperApiDeps<S> {
  const secrets = new KmsSecrets(kmsClient, requiredEnv(ENV.kmsKeyId));
  return { ...tableApiDeps(store), secrets, peppers: createPepperProvider(onTable(DynamoDbPepperStore), secrets) };
}
