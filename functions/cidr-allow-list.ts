import { lazyGroupHandler } from './commons/api-handler.ts';
import { tableApiDeps } from './commons/api-deps/table.ts';
import { CIDR_ALLOW_LIST_OPERATIONS } from './operations/cidr-allow-list.ts';

/** The `cidr-allow-list` routes of the route table (shared/http/routes.ts), on the table alone (DynamoDB). */
export const handler = lazyGroupHandler(CIDR_ALLOW_LIST_OPERATIONS, tableApiDeps);
