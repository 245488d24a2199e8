import { type APIGatewayClient, FlushStageAuthorizersCacheCommand } from '@aws-sdk/client-api-gateway';
import type { AuthorizerCache } from '../ports.ts';

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

  async flush(): Promise<void> {
    await this.#client.send(new FlushStageAuthorizersCacheCommand({ restApiId: this.#restApiId, stageName: this.#stageName }));
  }
}
