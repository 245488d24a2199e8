import { DynamoDbKeyLifecycleStore } from '#shared/adapters/dynamodb/key-lifecycle-store.ts';
import { DynamoDbKeyStore } from '#shared/adapters/dynamodb/key-store.ts';
import { DynamoDbUserStore } from '#shared/adapters/dynamodb/user-store.ts';
import { methodsOf, onTable } from './commons/api-deps/table.ts';
import { lazyGroupHandler } from './commons/api-handler.ts';
import { pepperApiDeps } from './commons/api-deps/peppers.ts';
import { API_KEYS_OPERATIONS } from './operations/api-keys.ts';

/** The `api-keys` routes of the route table (shared/http/routes.ts), on the table and KMS (the peppers): the key store, the user store's read and the key-lifecycle store's roll. */
export const handler = lazyGroupHandler(API_KEYS_OPERATIONS, () =>
  pepperApiDeps({
    ...methodsOf(onTable(DynamoDbKeyStore), ['createKey', 'getKey', 'listKeys', 'deleteKey', 'recordKeyUse']),
    ...methodsOf(onTable(DynamoDbUserStore), ['getUser']),
    ...methodsOf(onTable(DynamoDbKeyLifecycleStore), ['rollKey']),
  }),);
