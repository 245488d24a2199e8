import { ApiGatewayV2Client, NotFoundException, ResetAuthorizersCacheCommand, TooManyRequestsException } from '@aws-sdk/client-apigatewayv2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApiGatewayV2AuthorizerCache } from '#shared/adapters/apigwv2-authorizer-cache.ts';
import { FlushThrottledError } from '#shared/services/revocation-flusher.ts';

const apiGatewayV2 = mockClient(ApiGatewayV2Client);

describe('ApiGatewayV2AuthorizerCache', () => {
  beforeEach(() => {
    apiGatewayV2.reset();
  });

  it('resets the authorizer cache of its own HTTP API and stage', async () => {
    // Prepare
    apiGatewayV2.on(ResetAuthorizersCacheCommand).resolves({});
    const cache = new ApiGatewayV2AuthorizerCache(new ApiGatewayV2Client({}), 'lsw1ro4ipb', '$default');

    // Act
    await cache.flush();

    // Assess
    expect(apiGatewayV2).toHaveReceivedCommandTimes(ResetAuthorizersCacheCommand, 1);
    expect(apiGatewayV2).toHaveReceivedCommandWith(ResetAuthorizersCacheCommand, { ApiId: 'lsw1ro4ipb', StageName: '$default' });
  });

  it('turns a throttled reset into FlushThrottledError, so the flusher backs off instead of hammering the management API', async () => {
    // Prepare
    const throttled = new TooManyRequestsException({ message: 'Too Many Requests', $metadata: {} });
    apiGatewayV2.on(ResetAuthorizersCacheCommand).rejects(throttled);
    const cache = new ApiGatewayV2AuthorizerCache(new ApiGatewayV2Client({}), 'lsw1ro4ipb', 'prod');

    // Act
    const flushed = cache.flush();

    // Assess
    await expect(flushed).rejects.toBeInstanceOf(FlushThrottledError);
    await expect(flushed).rejects.toMatchObject({ retryAfterMs: undefined, cause: throttled });
  });

  it('lets any other failure fail the caller, so a revocation is never reported done when it is not', async () => {
    // Prepare
    apiGatewayV2.on(ResetAuthorizersCacheCommand).rejects(new NotFoundException({ message: 'Invalid stage identifier specified', $metadata: {} }));
    const cache = new ApiGatewayV2AuthorizerCache(new ApiGatewayV2Client({}), 'lsw1ro4ipb', 'prod');

    // Act
    const flushed = cache.flush();

    // Assess
    await expect(flushed).rejects.toBeInstanceOf(NotFoundException);
  });
});
