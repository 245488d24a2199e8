import { DynamoDbKeyStore } from '#shared/adapters/dynamodb/key-store.ts';
import { DynamoDbUserStore } from '#shared/adapters/dynamodb/user-store.ts';
import { lazyGroupHandler } from './commons/api-handler.ts';
import { methodsOf, onTable, tableApiDeps } from './commons/api-deps/table.ts';
import { USERS_OPERATIONS } from './operations/users.ts';

/** The `users` routes of the route table (shared/http/routes.ts), on the table alone (DynamoDB): the user store, and the key store's use stamp. */
export const handler = lazyGroupHandler(USERS_OPERATIONS, () =>
  tableApiDeps({
    ...methodsOf(onTable(DynamoDbUserStore), ['listUsers', 'getUser', 'createUser', 'changeRole', 'deleteUser']),
    ...methodsOf(onTable(DynamoDbKeyStore), ['recordKeyUse']),
  }),);
