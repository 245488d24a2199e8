import type { DownstreamRoute } from '#shared/http/team-routes.ts';
import { DEFAULT_LOCAL_TABLE, ENDPOINT_ENV, TABLE_ENV, createLocalTable } from './store.ts';

/**
 * The example service's routes: reads for owners and viewers, writes for owners (the default
 * role rule, so no route names its roles). The same declaration serves locally
 * (`npm start -- --routes examples/subscriptions/routes.ts`) and deploys with the construct (stack.ts).
 */
const lambda = 'examples/subscriptions/handlers.ts';

export const routes: readonly DownstreamRoute[] = [
  { method: 'GET', path: '/v1/subscriptions', backend: { lambda, handler: 'listSubscriptions' }, summary: 'List the subscriptions of the account' },
  { method: 'POST', path: '/v1/subscriptions', backend: { lambda, handler: 'createSubscription' }, summary: 'Create a subscription' },
  { method: 'GET', path: '/v1/subscriptions/{subscriptionId}', backend: { lambda, handler: 'getSubscription' }, summary: 'Get a subscription' },
  { method: 'DELETE', path: '/v1/subscriptions/{subscriptionId}', backend: { lambda, handler: 'deleteSubscription' }, summary: 'Delete a subscription' },
];

export default routes;

/** Run by the local runtime before serving: the example keeps its table on the same DynamoDB Local. */
export async function setup({ dynamodbEndpoint }: { readonly dynamodbEndpoint: string }): Promise<void> {
  process.env[TABLE_ENV] ??= DEFAULT_LOCAL_TABLE;
  process.env[ENDPOINT_ENV] = dynamodbEndpoint;
  await createLocalTable(dynamodbEndpoint, process.env[TABLE_ENV]);
}
