import {
  APIGatewayClient,
  APIGatewayServiceException,
  FlushStageAuthorizersCacheCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-api-gateway';
import { mockClient } from 'aws-sdk-client-mock';
import { ApiGatewayAuthorizerCache } from '#shared/adapters/apigw-authorizer-cache.ts';
import type { AuthorizerCache } from '#shared/ports/authorizer-cache.ts';

/**
 * API Gateway's FlushStageAuthorizersCache as the flusher meets it, behind the real adapter
 * (ApiGatewayAuthorizerCache) and SDK client:
 * - accepted asynchronously: the call answers 202 at once and the stage's cache is emptied
 *   `acceptDelayMs` later;
 * - throttled at the account-wide rate of management calls (a token bucket of 10 per second,
 *   burst 40), which other callers share (`spend`, `throttleNext`);
 * - failing on demand (`failNext`).
 */
export class SimulatedApiGateway {
  /** When each call arrived (performance.now), accepted or not. */
  readonly calls: number[] = [];
  /** When each accepted flush took effect. */
  readonly completed: number[] = [];
  throttled = 0;
  failed = 0;
  readonly cache: AuthorizerCache;
  readonly #stage: AuthorizerCache;
  readonly #rate: number;
  readonly #burst: number;
  readonly #acceptDelayMs: number;
  readonly #mock = mockClient(APIGatewayClient);
  #tokens: number;
  #refilledAt = performance.now();
  #failures = 0;
  #throttles = 0;

  constructor(stage: AuthorizerCache, options: { rate?: number; burst?: number; acceptDelayMs?: number } = {}) {
    this.#stage = stage;
    this.#rate = options.rate ?? 10;
    this.#burst = options.burst ?? 40;
    this.#tokens = this.#burst;
    this.#acceptDelayMs = options.acceptDelayMs ?? 50;
    this.#mock.on(FlushStageAuthorizersCacheCommand).callsFake(() => this.#flush());
    this.cache = new ApiGatewayAuthorizerCache(
      new APIGatewayClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
      'a1b2c3d4e5',
      'prod',
    );
  }

  /** The next `count` calls fail with a server fault. */
  failNext(count: number): void {
    this.#failures = count;
  }

  /** Other management calls of the same AWS account use up `count` of the shared budget. */
  spend(count: number): void {
    this.#refill();
    this.#tokens = Math.max(0, this.#tokens - count);
  }

  /** Other callers have spent the budget for the next `count` calls: each is throttled. */
  throttleNext(count: number): void {
    this.#throttles = count;
  }

  restore(): void {
    this.#mock.restore();
  }

  #refill(): void {
    const now = performance.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#refilledAt) / 1000) * this.#rate);
    this.#refilledAt = now;
  }

  async #flush(): Promise<Record<string, never>> {
    this.calls.push(performance.now());
    if (this.#failures > 0) {
      this.#failures -= 1;
      this.failed += 1;
      throw new APIGatewayServiceException({ name: 'InternalFailure', $fault: 'server', $metadata: { httpStatusCode: 500 }, message: 'internal failure' });
    }
    this.#refill();
    if (this.#tokens < 1 || this.#throttles > 0) {
      this.#throttles = Math.max(0, this.#throttles - 1);
      this.throttled += 1;
      throw new TooManyRequestsException({ message: 'Too Many Requests', $metadata: { httpStatusCode: 429 }, retryAfterSeconds: '1' });
    }
    this.#tokens -= 1;
    setTimeout(() => {
      void this.#stage.flush().then(() => this.completed.push(performance.now()));
    }, this.#acceptDelayMs);
    return Promise.resolve({});
  }
}
