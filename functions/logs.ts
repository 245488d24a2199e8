import { lazyGroupHandler } from './commons/api-handler.ts';
import { tableApiDeps } from './commons/api-deps/table.ts';
import { LOGS_OPERATIONS } from './operations/logs.ts';

/** The `logs` routes of the route table (shared/http/routes.ts), on the table alone (DynamoDB). */
export const handler = lazyGroupHandler(LOGS_OPERATIONS, tableApiDeps);
