import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { ApiGatewayAuthorizerCache } from '#shared/adapters/apigw-authorizer-cache.ts';
import { narrowsAccess } from '#shared/adapters/dynamodb/narrowing.ts';
import { ENV, requiredEnv } from '#shared/config.ts';
import type { AuthorizerCache } from '#shared/ports.ts';
import { RevocationFlusher } from '#shared/services/revocation-flusher.ts';
import { awsClientSettings } from './commons/aws-client-settings.ts';
import { createLogger } from './commons/logger.ts';
import { streamRecordChange } from './commons/stream-records.ts';

/**
 * The flusher function: the table's stream (event source mapping) hands it each batch of
 * changes; if one of them narrowed access, it flushes the stage's authorizer cache (at most
 * once per window, the mapping runs it one batch at a time) and returns only once a flush
 * that started after the batch arrived was accepted. Failing, it throws: the mapping retries
 * the batch with backoff, bisects it, and after the maximum record age sends it to the
 * dead-letter queue, whose alarm calls an operator.
 */

export type FlusherHandler = (event: DynamoDBStreamEvent) => Promise<void>;

/** Within the function's 60 s timeout, leaving room to report the failure. */
export const GIVE_UP_AFTER_MS = 45_000;

export function createFlusherHandler(cache: AuthorizerCache, logger = createLogger('latchkey-revocation')): FlusherHandler {
  const flusher = new RevocationFlusher(cache, {
    giveUpAfterMs: GIVE_UP_AFTER_MS,
    onFailure: (error, attempt) => {
      logger.warn('authorizer cache flush failed; retrying', { attempt, error });
    },
  });
  return async (event) => {
    const narrowing = event.Records.filter((record) => narrowsAccess(streamRecordChange(record))).length;
    if (narrowing === 0) return;
    await flusher.request();
    logger.info('authorizer cache flushed', { records: event.Records.length, narrowing });
  };
}

let handlerInstance: FlusherHandler | undefined;

export const handler: FlusherHandler = (event) => {
  handlerInstance ??= createFlusherHandler(
    new ApiGatewayAuthorizerCache(new APIGatewayClient(awsClientSettings()), requiredEnv(ENV.restApiId), requiredEnv(ENV.stageName)),
  );
  return handlerInstance(event);
};
