import { type ApiGatewayV2Client, ResetAuthorizersCacheCommand, TooManyRequestsException } from '@aws-sdk/client-apigatewayv2';
import type { AuthorizerCache } from '../ports/authorizer-cache.ts';
import { FlushThrottledError } from '../services/revocation-flusher.ts';

/**
 * The HTTP API flavor's stage cache (DESIGN 15): HTTP API caches each authorizer response per
 * identity (both key headers and the source address) for the authorizer's TTL, as REST does.
 * `ResetAuthorizersCache` (`DELETE /v2/apis/{apiId}/stages/{stageName}/cache/authorizers`)
 * empties the stage's cache after a change that narrows access, so revocation takes effect at
 * once instead of when the cached Allow expires. The flusher around it coalesces, backs off and
 * bounds these calls exactly as it does REST's flushes.
 */
export class ApiGatewayV2AuthorizerCache implements AuthorizerCache {
  readonly #client: ApiGatewayV2Client;
  readonly #apiId: string;
  readonly #stageName: string;

  constructor(client: ApiGatewayV2Client, apiId: string, stageName: string) {
    this.#client = client;
    this.#apiId = apiId;
    this.#stageName = stageName;
  }

  /**
   * A refusal for the account-wide rate of management calls becomes FlushThrottledError, so the
   * flusher backs off; HTTP API's error names no retry delay, so the flusher's own back-off sets it.
   */
  async flush(): Promise<void> {
    try {
      await this.#client.send(new ResetAuthorizersCacheCommand({ ApiId: this.#apiId, StageName: this.#stageName }));
    } catch (error) {
      if (error instanceof TooManyRequestsException) throw new FlushThrottledError(undefined, { cause: error });
      throw error;
    }
  }
}
