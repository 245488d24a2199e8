import { lazyGroupHandler } from './commons/api-handler.ts';
import { pepperApiDeps } from './commons/api-deps/peppers.ts';
import { LEAKED_KEYS_OPERATIONS } from './operations/leaked-keys.ts';

/** The `leaked-keys` routes of the route table (shared/http/routes.ts), on the table and KMS (the peppers). */
export const handler = lazyGroupHandler(LEAKED_KEYS_OPERATIONS, pepperApiDeps);
