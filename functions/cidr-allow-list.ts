import { DynamoDbAllowListStore } from '#shared/adapters/dynamodb/allow-list-store.ts';
import { DynamoDbKeyStore } from '#shared/adapters/dynamodb/key-store.ts';
import { lazyGroupHandler } from './commons/api-handler.ts';
import { methodsOf, onTable, tableApiDeps } from './commons/api-deps/table.ts';
import { CIDR_ALLOW_LIST_OPERATIONS } from './operations/cidr-allow-list.ts';

/** The `cidr-allow-list` routes of the route table (shared/http/routes.ts), on the table alone (DynamoDB): the allow-list store, and the key store's read and use stamp. */
export const handler = lazyGroupHandler(CIDR_ALLOW_LIST_OPERATIONS, () =>
  tableApiDeps({
    ...methodsOf(onTable(DynamoDbAllowListStore), ['addCidrRule', 'editAllowList']),
    ...methodsOf(onTable(DynamoDbKeyStore), ['getKey', 'recordKeyUse']),
  }),);
