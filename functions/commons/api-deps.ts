import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { ApiGatewayUsagePlans } from '#shared/adapters/apigw-usage-plans.ts';
import { DynamoDbStore } from '#shared/adapters/dynamodb-store.ts';
import { KmsSecrets } from '#shared/adapters/kms-secrets.ts';
import { ENV, auditRetentionDaysFromEnv, defaultPlanFromEnv, limitsFromEnv, requiredEnv } from '#shared/adapters/environment.ts';
import type { ApiDeps } from '#shared/ports/deps.ts';
import { createPepperProvider } from '#shared/authorization/peppers.ts';
import { FLUSHED_BY_STREAM } from '#shared/services/revocation.ts';
import { awsClientSettings } from './aws-client-settings.ts';
import { documentClient, kmsClient } from './clients.ts';
import { createLogger } from './logger.ts';

/** Only the management handlers read usage plans, so only they create this client. */
const apiGatewayClient = new APIGatewayClient(awsClientSettings());

/**
 * The management handlers' dependencies in AWS, from the environment the stack sets. Called
 * on a container's first invocation; a missing variable is a deployment fault and fails it.
 */
export function awsApiDeps(): ApiDeps {
  const auditRetentionDays = auditRetentionDaysFromEnv();
  const store = new DynamoDbStore(documentClient, requiredEnv(ENV.tableName), { auditRetentionDays });
  const secrets = new KmsSecrets(kmsClient, requiredEnv(ENV.kmsKeyId));
  const api = { restApiId: requiredEnv(ENV.restApiId), stageName: requiredEnv(ENV.stageName) };
  return {
    store,
    secrets,
    peppers: createPepperProvider(store, secrets),
    // The revocation flusher function flushes the stage's cache from the table's stream.
    authorizerCache: FLUSHED_BY_STREAM,
    limits: limitsFromEnv(),
    logger: createLogger('latchkey-api'),
    now: () => new Date(),
    auditRetentionDays,
    usagePlans: new ApiGatewayUsagePlans(apiGatewayClient, api),
    defaultPlan: defaultPlanFromEnv(),
  };
}
