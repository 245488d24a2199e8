import { lazyGroupHandler } from './commons/api-handler.ts';
import { usagePlanApiDeps } from './commons/api-deps/usage-plans.ts';
import { ACCOUNT_OPERATIONS } from './operations/account.ts';

/** The `account` routes of the route table (shared/http/routes.ts), on the table, KMS and API Gateway (usage plans). */
export const handler = lazyGroupHandler(ACCOUNT_OPERATIONS, usagePlanApiDeps);
