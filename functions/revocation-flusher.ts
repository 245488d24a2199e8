import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { ApiGatewayV2Client } from '@aws-sdk/client-apigatewayv2';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { ApiGatewayAuthorizerCache } from '#shared/adapters/apigw-authorizer-cache.ts';
import { ApiGatewayV2AuthorizerCache } from '#shared/adapters/apigwv2-authorizer-cache.ts';
import { DynamoDbFlushLedger } from '#shared/adapters/dynamodb/flush-ledger.ts';
import { narrowsAccess } from '#shared/adapters/dynamodb/narrowing.ts';
import { ENV, apiFlavorFromEnv, requiredEnv } from '#shared/adapters/environment.ts';
import type { AuthorizerCache, FlushLedger } from '#shared/ports/authorizer-cache.ts';
import { SharedRevocationFlusher } from '#shared/services/shared-revocation-flusher.ts';
import { awsClientSettings } from './commons/aws-client-settings.ts';
import { createLogger } from './commons/logger.ts';
import { streamRecordChange } from './commons/stream-records.ts';

/**
 * The flusher function: the table's stream (event source mapping) hands it each batch of
 * changes, one batch per shard at a time; if one of them narrowed access, it flushes the
 * stage's authorizer cache (at most once per window across every shard: the invocations agree
 * through the stage's flush ledger in the table) and returns only once a flush that started
 * after the batch arrived was accepted, its own or another invocation's. Failing, it throws: the mapping retries
 * the batch with backoff, bisects it, and after the maximum record age sends it to the
 * dead-letter queue, whose alarm calls an operator.
 */

export type FlusherHandler = (event: DynamoDBStreamEvent) => Promise<void>;

/** Within the function's 60 s timeout, leaving room to report the failure. */
export const GIVE_UP_AFTER_MS = 45_000;

export function createFlusherHandler(cache: AuthorizerCache, ledger: FlushLedger, logger = createLogger('latchkey-revocation')): FlusherHandler {
  const flusher = new SharedRevocationFlusher(cache, ledger, {
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

/** The stage whose authorizer cache this deployment flushes, and how. */
export interface FlushTarget {
  /** The REST API's id, or the HTTP API's: the flush ledger is kept per API and stage. */
  readonly apiId: string;
  readonly stageName: string;
  readonly cache: AuthorizerCache;
}

/**
 * The front door's own cache call (LATCHKEY_API_FLAVOR): REST's FlushStageAuthorizersCache on
 * LATCHKEY_REST_API_ID, or HTTP API's ResetAuthorizersCache on LATCHKEY_HTTP_API_ID; the same
 * stage name either way. Only the chosen client is made.
 */
export function flushTargetFromEnv(): FlushTarget {
  const stageName = requiredEnv(ENV.stageName);
  if (apiFlavorFromEnv() === 'http') {
    const apiId = requiredEnv(ENV.httpApiId);
    return { apiId, stageName, cache: new ApiGatewayV2AuthorizerCache(new ApiGatewayV2Client(awsClientSettings()), apiId, stageName) };
  }
  const apiId = requiredEnv(ENV.restApiId);
  return { apiId, stageName, cache: new ApiGatewayAuthorizerCache(new APIGatewayClient(awsClientSettings()), apiId, stageName) };
}

function createHandler(): FlusherHandler {
  const { apiId, stageName, cache } = flushTargetFromEnv();
  const dynamodb = DynamoDBDocumentClient.from(new DynamoDBClient(awsClientSettings()));
  return createFlusherHandler(cache, new DynamoDbFlushLedger(dynamodb, requiredEnv(ENV.tableName), apiId, stageName));
}

export const handler: FlusherHandler = (event) => {
  handlerInstance ??= createHandler();
  return handlerInstance(event);
};
