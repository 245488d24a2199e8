import { ApiGatewayUsagePlans } from '#shared/adapters/apigw-usage-plans.ts';
import { ENV, defaultPlanFromEnv, requiredEnv } from '#shared/adapters/environment.ts';
import type { ApiDeps } from '#shared/ports/deps.ts';
import { apiGatewayClient } from '../clients/api-gateway.ts';
import { type PepperApiDeps, pepperApiDeps } from './peppers.ts';

/** The table, KMS and the stage's usage plans (API Gateway): only the account function reads plans. */
export type UsagePlanApiDeps<S> = PepperApiDeps<S> & Pick<ApiDeps, 'usagePlans' | 'defaultPlan'>;

export function usagePlanApiDeps<S>(store: S): UsagePlanApiDeps<S> {
  const api = { restApiId: requiredEnv(ENV.restApiId), stageName: requiredEnv(ENV.stageName) };
  return { ...pepperApiDeps(store), usagePlans: new ApiGatewayUsagePlans(apiGatewayClient, api), defaultPlan: defaultPlanFromEnv() };
}
