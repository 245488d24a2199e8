import type { DynamoDBStreamEvent } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFlusherHandler, flushTargetFromEnv } from '#functions/revocation-flusher.ts';
import { ApiGatewayAuthorizerCache } from '#shared/adapters/apigw-authorizer-cache.ts';
import { ApiGatewayV2AuthorizerCache } from '#shared/adapters/apigwv2-authorizer-cache.ts';
import { ENV } from '#shared/adapters/environment.ts';
import { FakeAuthorizerCache } from '#test/support/fakes/authorizer-cache.ts';
import { quietLogger } from '#test/support/fakes/logger.ts';
import { MemoryFlushLedger } from '#test/support/fakes/flush-ledger.ts';

/** The flusher function as the event source mapping calls it, with Lambda's own record shape (binaries as base64). */

const keyRecord = (eventName: 'MODIFY' | 'REMOVE', newImage?: Record<string, unknown>) => ({
  eventName,
  dynamodb: {
    Keys: { pk: { S: 'ACCOUNT#A1' }, sk: { S: 'KEY#K1' } },
    OldImage: { pk: { S: 'ACCOUNT#A1' }, sk: { S: 'KEY#K1' }, role: { S: 'owner' }, secretHash: { B: 'AQID' } },
    ...(newImage === undefined ? {} : { NewImage: newImage }),
  },
});

describe('revocation flusher function', () => {
  it('flushes once for a batch holding narrowing changes', async () => {
    const cache = new FakeAuthorizerCache();
    const handler = createFlusherHandler(cache, new MemoryFlushLedger(), quietLogger());
    const event = { Records: [keyRecord('REMOVE'), keyRecord('REMOVE')] } as unknown as DynamoDBStreamEvent;

    await handler(event);

    expect(cache.flushes).toBe(1);
  });

  it('spends no flush on a batch of bookkeeping (lastUsedAt)', async () => {
    const cache = new FakeAuthorizerCache();
    const handler = createFlusherHandler(cache, new MemoryFlushLedger(), quietLogger());
    const stamped = { pk: { S: 'ACCOUNT#A1' }, sk: { S: 'KEY#K1' }, role: { S: 'owner' }, secretHash: { B: 'AQID' }, lastUsedAt: { S: '2026-01-01T00:00:00Z' } };
    const event = { Records: [keyRecord('MODIFY', stamped)] } as unknown as DynamoDBStreamEvent;

    await handler(event);

    expect(cache.flushes).toBe(0);
  });

  it('retries a failing flush before it answers, so the batch is done only once the cache was flushed', async () => {
    const cache = FakeAuthorizerCache.failingFirst(1);
    const handler = createFlusherHandler(cache, new MemoryFlushLedger(), quietLogger());

    await handler({ Records: [keyRecord('REMOVE')] } as unknown as DynamoDBStreamEvent);

    expect(cache.flushes).toBe(2);
  });
});

describe('the flusher function\'s stage', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  function stubEnv(values: Partial<Record<'apiFlavor' | 'restApiId' | 'httpApiId' | 'stageName', string>>): void {
    for (const name of ['apiFlavor', 'restApiId', 'httpApiId', 'stageName'] as const) vi.stubEnv(ENV[name], values[name] ?? '');
  }

  it('flushes the REST stage by default, keyed by the REST API\'s id', () => {
    // Prepare
    stubEnv({ restApiId: 'a1b2c3d4e5', httpApiId: 'lsw1ro4ipb', stageName: 'prod' });

    // Act
    const target = flushTargetFromEnv();

    // Assess
    expect(target.cache).toBeInstanceOf(ApiGatewayAuthorizerCache);
    expect(target).toMatchObject({ apiId: 'a1b2c3d4e5', stageName: 'prod' });
  });

  it('resets the HTTP API stage\'s cache in the http flavor, keyed by the HTTP API\'s id', () => {
    // Prepare
    stubEnv({ apiFlavor: 'http', restApiId: 'a1b2c3d4e5', httpApiId: 'lsw1ro4ipb', stageName: '$default' });

    // Act
    const target = flushTargetFromEnv();

    // Assess
    expect(target.cache).toBeInstanceOf(ApiGatewayV2AuthorizerCache);
    expect(target).toMatchObject({ apiId: 'lsw1ro4ipb', stageName: '$default' });
  });

  it('refuses to start in the http flavor without the HTTP API\'s id, rather than flush another API', () => {
    // Prepare
    stubEnv({ apiFlavor: 'http', restApiId: 'a1b2c3d4e5', stageName: 'prod' });

    // Act
    const target = () => flushTargetFromEnv();

    // Assess
    expect(target).toThrow(ENV.httpApiId);
  });
});
