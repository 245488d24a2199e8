import { lazyApiHandler } from './commons/api-handler.ts';
import { awsApiDeps } from './commons/api-deps.ts';

/** The `api-keys` routes of the route table (shared/http/routes.ts). */
export const handler = lazyApiHandler('api-keys', awsApiDeps);
