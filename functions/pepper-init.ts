import type { Logger } from '@aws-lambda-powertools/logger';
import type { CdkCustomResourceEvent, CdkCustomResourceResponse } from 'aws-lambda';
import { DynamoDbStore } from '#shared/adapters/dynamodb-store.ts';
import { KmsSecrets } from '#shared/adapters/kms-secrets.ts';
import { ENV, requiredEnv } from '#shared/adapters/environment.ts';
import { ensurePepper } from '#shared/authorization/peppers.ts';
import type { PepperStore } from '#shared/ports/pepper-store.ts';
import type { Secrets } from '#shared/ports/secrets.ts';
import { documentClient } from './commons/clients/dynamodb.ts';
import { kmsClient } from './commons/clients/kms.ts';
import { createLogger } from './commons/logger.ts';

export interface PepperInitResult {
  /** The newest pepper version in the table (not secret). */
  readonly PepperVersion: number;
}

export type PepperInitHandler = (event: CdkCustomResourceEvent) => Promise<CdkCustomResourceResponse<PepperInitResult>>;

/** One physical id for the life of the table: an Update never looks like a replacement to CloudFormation. */
const PHYSICAL_ID_SUFFIX = '/pepper';

/**
 * The CloudFormation custom resource (Provider framework onEvent) that makes sure the table
 * holds a pepper. Create and Update provision version 1 if none exists and otherwise leave
 * the peppers alone; Delete does nothing, because every digest in the table depends on the
 * pepper, and a stack update or removal must never take it away.
 */
export function createPepperInitHandler(store: PepperStore, secrets: Secrets, tableName: string, logger: Logger): PepperInitHandler {
  return async (event) => {
    if (event.RequestType === 'Delete') {
      logger.info('pepper kept', { requestType: event.RequestType });
      return { PhysicalResourceId: event.PhysicalResourceId };
    }
    const version = await ensurePepper(store, secrets);
    logger.info('pepper ensured', { requestType: event.RequestType, pepperVersion: version });
    return { PhysicalResourceId: `${tableName}${PHYSICAL_ID_SUFFIX}`, Data: { PepperVersion: version } };
  };
}

/** Built per invocation: CloudFormation calls this a handful of times in the life of a stack. */
export const handler: PepperInitHandler = (event) => {
  const tableName = requiredEnv(ENV.tableName);
  const store = new DynamoDbStore(documentClient, tableName);
  const secrets = new KmsSecrets(kmsClient, requiredEnv(ENV.kmsKeyId));
  return createPepperInitHandler(store, secrets, tableName, createLogger('latchkey-pepper-init'))(event);
};
