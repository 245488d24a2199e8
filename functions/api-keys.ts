import { lazyGroupHandler } from './commons/api-handler.ts';
import { pepperApiDeps } from './commons/api-deps/peppers.ts';
import { API_KEYS_OPERATIONS } from './operations/api-keys.ts';

/** The `api-keys` routes of the route table (shared/http/routes.ts), on the table and KMS (the peppers). */
export const handler = lazyGroupHandler(API_KEYS_OPERATIONS, pepperApiDeps);
