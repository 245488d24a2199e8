import type { DynamoDBStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createFlusherHandler } from '#functions/revocation-flusher.ts';
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
