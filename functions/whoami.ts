import { lazyGroupHandler } from './commons/api-handler.ts';
import { tableApiDeps } from './commons/api-deps/table.ts';
import { WHOAMI_OPERATIONS } from './operations/whoami.ts';

/** The `whoami` routes of the route table (shared/http/routes.ts), on the table alone (DynamoDB). */
export const handler = lazyGroupHandler(WHOAMI_OPERATIONS, tableApiDeps);
