import { lazyApiHandler } from './commons/api-handler.ts';
import { awsApiDeps } from './commons/api-deps.ts';

/** The `leaked-keys` route of the route table (shared/http/routes.ts): needs no keys, behind no authorizer. */
export const handler = lazyApiHandler('leaked-keys', awsApiDeps);
