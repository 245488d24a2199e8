import { lazyApiHandler } from './commons/api-handler.ts';
import { awsApiDeps } from './commons/api-deps.ts';

/** The `whoami` routes of the route table (shared/http/routes.ts). */
export const handler = lazyApiHandler('whoami', awsApiDeps);
