import { APIGatewayClient, FlushStageAuthorizersCacheCommand, NotFoundException } from '@aws-sdk/client-api-gateway';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApiGatewayAuthorizerCache } from '#shared/adapters/apigw-authorizer-cache.ts';

const apiGateway = mockClient(APIGatewayClient);

describe('ApiGatewayAuthorizerCache', () => {
  beforeEach(() => {
    apiGateway.reset();
  });

  it('flushes the authorizer cache of its own API and stage', async () => {
    // Prepare
    apiGateway.on(FlushStageAuthorizersCacheCommand).resolves({});
    const cache = new ApiGatewayAuthorizerCache(new APIGatewayClient({}), 'a1b2c3d4e5', 'prod');

    // Act
    await cache.flush();

    // Assess
    expect(apiGateway).toHaveReceivedCommandTimes(FlushStageAuthorizersCacheCommand, 1);
    expect(apiGateway).toHaveReceivedCommandWith(FlushStageAuthorizersCacheCommand, { restApiId: 'a1b2c3d4e5', stageName: 'prod' });
  });

  it('lets a failed flush fail the caller, so a revocation is never reported done when it is not', async () => {
    // Prepare
    apiGateway.on(FlushStageAuthorizersCacheCommand).rejects(new NotFoundException({ message: 'Invalid stage identifier specified', $metadata: {} }));
    const cache = new ApiGatewayAuthorizerCache(new APIGatewayClient({}), 'a1b2c3d4e5', 'prod');

    // Act
    const flushed = cache.flush();

    // Assess
    await expect(flushed).rejects.toBeInstanceOf(NotFoundException);
  });
});
