import { lazyGroupHandler } from './commons/api-handler.ts';
import { tableApiDeps } from './commons/api-deps/table.ts';
import { USERS_OPERATIONS } from './operations/users.ts';

/** The `users` routes of the route table (shared/http/routes.ts), on the table alone (DynamoDB). */
export const handler = lazyGroupHandler(USERS_OPERATIONS, tableApiDeps);
