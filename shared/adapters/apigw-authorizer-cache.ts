import { type APIGatewayClient, FlushStageAuthorizersCacheCommand, LimitExceededException, TooManyRequestsException } from '@aws-sdk/client-api-gateway';
import type { AuthorizerCache } from '../ports/authorizer-cache.ts';
import { FlushThrottledError } from '../services/revocation-flusher.ts';

/**
 * API Gateway caches each authorizer decision per identity (both key headers and the source
 * address) for the authorizer's TTL. Flushing the stage's cache after a change that narrows
 * access (a key deleted, a rule changed, a role changed) makes revocation take effect at once
 * instead of when the cached Allow expires.
 */
export class ApiGatewayAuthorizerCache implements AuthorizerCache {
  readonly #client: APIGatewayClient;
  readonly #restApiId: string;
  readonly #stageName: string;

  constructor(client: APIGatewayClient, restApiId: string, stageName: string) {
    this.#client = client;
    this.#restApiId = restApiId;
    this.#stageName = stageName;
  }

  /**
   * Accepted asynchronously (202): API Gateway empties the cache shortly after. A refusal for
   * the account-wide rate of management calls becomes FlushThrottledError, so the flusher
   * waits at least as long as API Gateway asks.
   */
  async flush(): Promise<void> {
    try {
      await this.#client.send(new FlushStageAuthorizersCacheCommand({ restApiId: this.#restApiId, stageName: this.#stageName }));
    } catch (error) {
      if (error instanceof TooManyRequestsException || error instanceof LimitExceededException) {
        const seconds = Number(error.retryAfterSeconds);
        throw new FlushThrottledError(Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined, { cause: error });
      }
      throw error;
    }
  }
}
