import { lazyApiHandler } from './commons/api-handler.ts';
import { awsApiDeps } from './commons/api-deps.ts';

/** The `account` routes of the route table (shared/http/routes.ts). */
export const handler = lazyApiHandler('account', awsApiDeps);
