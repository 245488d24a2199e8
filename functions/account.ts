import { DynamoDbAccountStore } from '#shared/adapters/dynamodb/account-store.ts';
import { DynamoDbAuditStore } from '#shared/adapters/dynamodb/audit-store.ts';
import { DynamoDbKeyLifecycleStore } from '#shared/adapters/dynamodb/key-lifecycle-store.ts';
import { DynamoDbKeyStore } from '#shared/adapters/dynamodb/key-store.ts';
import { methodsOf, onTable } from './commons/api-deps/table.ts';
import { lazyGroupHandler } from './commons/api-handler.ts';
import { usagePlanApiDeps } from './commons/api-deps/usage-plans.ts';
import { ACCOUNT_OPERATIONS } from './operations/account.ts';

/** The `account` routes of the route table (shared/http/routes.ts), on the table, KMS and API Gateway (usage plans): the account store, the audit store's write, the key-lifecycle store's roll and the key store's use stamp. */
export const handler = lazyGroupHandler(ACCOUNT_OPERATIONS, () =>
  usagePlanApiDeps({
    ...methodsOf(onTable(DynamoDbAccountStore), ['getAccount', 'setApiEnabled', 'getAccountLimits']),
    ...methodsOf(onTable(DynamoDbAuditStore), ['recordEvent']),
    ...methodsOf(onTable(DynamoDbKeyLifecycleStore), ['rollAccountKey']),
    ...methodsOf(onTable(DynamoDbKeyStore), ['recordKeyUse']),
  }),);
