import { DynamoDbAuditStore } from '#shared/adapters/dynamodb/audit-store.ts';
import { DynamoDbKeyStore } from '#shared/adapters/dynamodb/key-store.ts';
import { lazyGroupHandler } from './commons/api-handler.ts';
import { methodsOf, onTable, tableApiDeps } from './commons/api-deps/table.ts';
import { LOGS_OPERATIONS } from './operations/logs.ts';

/** The `logs` routes of the route table (shared/http/routes.ts), on the table alone (DynamoDB): the audit store, and the key store's use stamp. */
export const handler = lazyGroupHandler(LOGS_OPERATIONS, () =>
  tableApiDeps({ ...methodsOf(onTable(DynamoDbAuditStore), ['listEvents']), ...methodsOf(onTable(DynamoDbKeyStore), ['recordKeyUse']) }),);
