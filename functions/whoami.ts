import { DynamoDbKeyStore } from '#shared/adapters/dynamodb/key-store.ts';
import { lazyGroupHandler } from './commons/api-handler.ts';
import { methodsOf, onTable, tableApiDeps } from './commons/api-deps/table.ts';
import { bundledPermissionCatalog } from './commons/permission-catalog-file.ts';
import { WHOAMI_OPERATIONS } from './operations/whoami.ts';

/**
 * The `whoami` routes of the route table (shared/http/routes.ts), on the table alone (DynamoDB):
 * the key store's use stamp; and the permission catalog the stack bundled.
 */
export const handler = lazyGroupHandler(WHOAMI_OPERATIONS, () => ({
  ...tableApiDeps(methodsOf(onTable(DynamoDbKeyStore), ['recordKeyUse'])),
  permissionCatalog: bundledPermissionCatalog(),
}));
