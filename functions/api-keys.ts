import { DynamoDbKeyLifecycleStore } from '#shared/adapters/dynamodb/key-lifecycle-store.ts';
import { DynamoDbKeyStore } from '#shared/adapters/dynamodb/key-store.ts';
import { DynamoDbUserStore } from '#shared/adapters/dynamodb/user-store.ts';
import { methodsOf, onTable } from './commons/api-deps/table.ts';
import { lazyGroupHandler } from './commons/api-handler.ts';
import { pepperApiDeps } from './commons/api-deps/peppers.ts';
import { bundledPermissionCatalog } from './commons/permission-catalog-file.ts';
import { API_KEYS_OPERATIONS } from './operations/api-keys.ts';

/**
 * The `api-keys` routes of the route table (shared/http/routes.ts), on the table and KMS (the
 * peppers): the key store, the user store's read and the key-lifecycle store's roll; and the
 * permission catalog the stack bundled, which a key's restriction is checked against.
 */
export const handler = lazyGroupHandler(API_KEYS_OPERATIONS, () => ({
  ...pepperApiDeps({
    ...methodsOf(onTable(DynamoDbKeyStore), ['createKey', 'getKey', 'listKeys', 'deleteKey', 'setKeyPermissions', 'recordKeyUse']),
    ...methodsOf(onTable(DynamoDbUserStore), ['getUser']),
    ...methodsOf(onTable(DynamoDbKeyLifecycleStore), ['rollKey']),
  }),
  permissionCatalog: bundledPermissionCatalog(),
}));
