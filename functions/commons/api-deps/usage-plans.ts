import { ApiGatewayUsagePlans } from '#shared/adapters/apigw-usage-plans.ts';
import { ENV, apiFlavorFromEnv, defaultPlanFromEnv, requiredEnv } from '#shared/adapters/environment.ts';
import { UnenforcedUsagePlans } from '#shared/adapters/unenforced-usage-plans.ts';
import type { ApiDeps } from '#shared/ports/deps.ts';
import type { UsagePlans } from '#shared/ports/usage-plans.ts';
import { apiGatewayClient } from '../clients/api-gateway.ts';
import { type PepperApiDeps, pepperApiDeps } from './peppers.ts';

/** The table, KMS and the stage's usage plans (API Gateway): only the account function reads plans. */
export type UsagePlanApiDeps<S> = PepperApiDeps<S> & Pick<ApiDeps, 'usagePlans' | 'defaultPlan'>;

/** REST's usage plans on its stage; none on HTTP API (LATCHKEY_API_FLAVOR=http), whose usage route answers `enforced: false`. */
export function usagePlansFromEnv(): UsagePlans {
  if (apiFlavorFromEnv() === 'http') return new UnenforcedUsagePlans();
  return new ApiGatewayUsagePlans(apiGatewayClient, { restApiId: requiredEnv(ENV.restApiId), stageName: requiredEnv(ENV.stageName) });
}

export function usagePlanApiDeps<S>(store: S): UsagePlanApiDeps<S> {
  return { ...pepperApiDeps(store), usagePlans: usagePlansFromEnv(), defaultPlan: defaultPlanFromEnv() };
}
