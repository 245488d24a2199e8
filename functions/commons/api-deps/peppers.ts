import { KmsSecrets } from '#shared/adapters/kms-secrets.ts';
import { ENV, requiredEnv } from '#shared/adapters/environment.ts';
import { createPepperProvider } from '#shared/authorization/peppers.ts';
import type { ApiDeps } from '#shared/ports/deps.ts';
import { kmsClient } from '../clients/kms.ts';
import { type TableApiDeps, tableApiDeps, tableStore } from './table.ts';

/** The table and KMS: for the functions that digest keys with the peppers or decrypt an account key. */
export type PepperApiDeps = TableApiDeps & Pick<ApiDeps, 'secrets' | 'peppers'>;

export function pepperApiDeps(): PepperApiDeps {
  const store = tableStore();
  const secrets = new KmsSecrets(kmsClient, requiredEnv(ENV.kmsKeyId));
  return { ...tableApiDeps(store), secrets, peppers: createPepperProvider(store, secrets) };
}
