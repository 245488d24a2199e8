import type { _Record as StreamsApiRecord } from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { streamRecordChange } from '#functions/commons/stream-records.ts';
import { createFlusherHandler } from '#functions/revocation-flusher.ts';
import { createTableSignalsHandler } from '#functions/table-signals.ts';
import { streamChange } from '#local/stream/revocation-stream.ts';
import { insertedAuditEvent } from '#shared/adapters/dynamodb/audit-inserts.ts';
import { expiredKeyRemoval } from '#shared/adapters/dynamodb/expired-keys.ts';
import { leakRecordItem } from '#shared/adapters/dynamodb/items.ts';
import { narrowsAccess } from '#shared/adapters/dynamodb/narrowing.ts';
import { formatUserKey } from '#shared/domain/key-format.ts';
import type { SignalBus } from '#shared/ports/signal-bus.ts';
import { leakedValueHash } from '#shared/services/leaked-keys.ts';
import { FakeAuthorizerCache } from '#test/support/fakes/authorizer-cache.ts';
import { MemoryFlushLedger } from '#test/support/fakes/flush-ledger.ts';
import { quietLogger } from '#test/support/fakes/logger.ts';

/**
 * The leak records a leak report leaves (ACCOUNT#<id> / LEAKED#<sha256>) as the table's stream
 * delivers them to its two readers: written, written again, or removed by DynamoDB's TTL, a
 * record takes no access away (the revocation flusher flushes nothing) and is neither a key's
 * expiry nor an audit event (the table signals function records and publishes nothing).
 */

const ACCOUNT_ID = 'A0000000000000001';
const UNTIL = '2026-06-01T10:00:00.000Z';
const TTL_SECONDS = Date.parse(UNTIL) / 1000;
const TTL_PRINCIPAL = { type: 'Service', principalId: 'dynamodb.amazonaws.com' };

/** The record of a leaked user key, as the store writes it and the Lambda event carries it. */
function recordImage(): Record<string, AttributeValue> {
  const token = formatUserKey(ACCOUNT_ID, 'K0000000000000001');
  return marshall(leakRecordItem(ACCOUNT_ID, { valueHash: leakedValueHash(token), until: UNTIL }));
}

/** An item of strings and numbers as the stream's images carry it. */
function marshall(item: Record<string, unknown>): Record<string, AttributeValue> {
  return Object.fromEntries(
    Object.entries(item).map(([name, value]): [string, AttributeValue] => {
      if (typeof value === 'string') return [name, { S: value }];
      if (typeof value === 'number') return [name, { N: String(value) }];
      throw new Error(`no stream form here for ${name}`);
    }),
  );
}

let sequence = 0;

function lambdaRecord(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', image: Record<string, AttributeValue>, byTtl = false): DynamoDBRecord {
  sequence += 1;
  return {
    eventName,
    eventSource: 'aws:dynamodb',
    ...(byTtl ? { userIdentity: TTL_PRINCIPAL } : {}),
    dynamodb: {
      ApproximateCreationDateTime: TTL_SECONDS + 60,
      Keys: { pk: image.pk!, sk: image.sk! },
      ...(eventName === 'INSERT' ? {} : { OldImage: image }),
      ...(eventName === 'REMOVE' ? {} : { NewImage: image }),
      SequenceNumber: String(5000 + sequence),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

/** DynamoDB Local's form of a TTL removal (see test/functions/key-expiry.test.ts). */
function localTtlRecord(image: Record<string, AttributeValue>): StreamsApiRecord {
  return {
    eventName: 'UNKNOWN_TO_SDK_VERSION',
    eventSource: 'aws:dynamodb',
    dynamodb: { ApproximateCreationDateTime: new Date(UNTIL), Keys: { pk: image.pk, sk: image.sk }, OldImage: image, SequenceNumber: '000000000000000000007' },
  } as unknown as StreamsApiRecord;
}

/** A key's TTL removal, which must flush and be recorded: the handlers below are not deaf to everything. */
function keyRemoval(): DynamoDBRecord {
  const image = marshall({
    pk: `ACCOUNT#${ACCOUNT_ID}`,
    sk: 'KEY#K0000000000000002',
    id: 'K0000000000000002',
    userId: 'U0000000000000001',
    keyExpiresAt: UNTIL,
    expiresAt: TTL_SECONDS,
  });
  return lambdaRecord('REMOVE', image, true);
}

describe('a leak record on the table stream', () => {
  const written = (): DynamoDBRecord => lambdaRecord('INSERT', recordImage());
  const rewritten = (): DynamoDBRecord => lambdaRecord('MODIFY', recordImage());
  const expired = (): DynamoDBRecord => lambdaRecord('REMOVE', recordImage(), true);

  it('holds the keys and the TTL only, named by the SHA-256 of the value', () => {
    const image = recordImage();

    expect(Object.keys(image).sort()).toEqual(['expiresAt', 'pk', 'sk']);
    expect(image.sk?.S).toMatch(/^LEAKED#[0-9a-f]{64}$/);
    expect(image.expiresAt?.N).toBe(String(TTL_SECONDS));
  });

  it('is no narrowing change, no key expiry and no audit event, whether written, written again or removed by TTL (AWS and DynamoDB Local)', () => {
    const changes = [...[written(), rewritten(), expired()].map(streamRecordChange), streamChange(localTtlRecord(recordImage()))];

    for (const change of changes) {
      expect(narrowsAccess(change), change.eventName).toBe(false);
      expect(expiredKeyRemoval(change), change.eventName).toBeUndefined();
      expect(insertedAuditEvent(change), change.eventName).toBeUndefined();
    }
  });

  it('makes the revocation flusher flush nothing, where a key removed by TTL in the same batch flushes', async () => {
    const cache = new FakeAuthorizerCache();
    const flusher = createFlusherHandler(cache, new MemoryFlushLedger(), quietLogger());

    await flusher({ Records: [written(), rewritten(), expired()] });
    const withRecordsOnly = cache.flushes;
    await flusher({ Records: [written(), keyRemoval(), expired()] });

    expect(withRecordsOnly).toBe(0);
    expect(cache.flushes).toBe(1);
  });

  it('makes the table signals function record no expiry and put no event, where a key removed by TTL is recorded', async () => {
    const recorded: string[] = [];
    const bus: SignalBus = { put: () => Promise.reject(new Error('a leak record is no audit event')) };
    const handler = createTableSignalsHandler({
      keyExpiry: {
        store: {
          recordKeyExpiry: (key) => {
            recorded.push(key.keyId);
            return Promise.resolve({ eventRecorded: true, keyForgotten: true });
          },
        },
        logger: quietLogger(),
      },
      eventPublishing: { bus, logger: quietLogger() },
    });

    const response = await handler({ Records: [written(), rewritten(), expired(), keyRemoval()] });

    expect(response).toEqual({ batchItemFailures: [] });
    expect(recorded).toEqual(['K0000000000000002']);
  });
});
