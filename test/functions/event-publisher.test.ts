import { EventBridgeClient, PutEventsCommand, type PutEventsCommandInput } from '@aws-sdk/client-eventbridge';
import type { AttributeValue, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createTableSignalsHandler } from '#functions/table-signals.ts';
import { EventBridgeSignalBus } from '#shared/adapters/eventbridge/signal-bus.ts';
import { formatUserKey } from '#shared/domain/key-format.ts';
import { PUT_ATTEMPTS } from '#shared/services/event-publishing.ts';
import { assertNoSecrets } from '#shared/services/signals.ts';
import { quietLogger } from '#test/support/fakes/logger.ts';

/**
 * The event publishing job of the table signals function against a stubbed EventBridge: new
 * audit items off the table's stream become events on the bus, ten to a PutEvents call, refused
 * entries put again, and what cannot be put answered as batch item failures for the mapping to
 * deliver again; TTL removals of keys in the same batch go to the key expiry job.
 */

const BUS = 'latchkey-events-test';
const ACCOUNT_ID = 'A0000000000000001';
const DIGEST_BASE64 = 'q83vEjRWeJASNFZ4kBI0VniQEjRWeJASNFZ4kBI0Vng=';

const eventBridge = mockClient(EventBridgeClient);
const noWait = (): Promise<void> => Promise.resolve();

/** The table signals function with a store for its key expiry job that must never be used. */
function handler(): ReturnType<typeof createTableSignalsHandler> {
  return createTableSignalsHandler({
    keyExpiry: { store: { recordKeyExpiry: () => Promise.reject(new Error('a new audit event is no TTL removal of a key')) }, logger: quietLogger() },
    eventPublishing: {
      bus: new EventBridgeSignalBus(new EventBridgeClient({ region: 'eu-west-1' }), BUS),
      logger: quietLogger(),
      sleep: noWait,
    },
  });
}

/** An audit event's item as the store writes it, and as the stream's new image shows it. */
function eventImage(n: number): Record<string, AttributeValue> {
  const time = new Date(Date.UTC(2026, 2, 1, 10, 0, n)).toISOString();
  const id = `E${String(n).padStart(16, '0')}`;
  return {
    pk: { S: `ACCOUNT#${ACCOUNT_ID}` },
    sk: { S: `EVENT#${time}#${id}` },
    id: { S: id },
    accountId: { S: ACCOUNT_ID },
    time: { S: time },
    action: { S: n % 2 === 0 ? 'api-key.create' : 'cidr-rule.delete' },
    actorUserId: { S: 'U0000000000000001' },
    actorKeyId: { NULL: true },
    target: { S: `api-key/K${String(n).padStart(16, '0')}` },
    sourceIp: { S: '203.0.113.7' },
    expiresAt: { N: '1800000000' },
  };
}

function record(n: number, image = eventImage(n), eventName: DynamoDBRecord['eventName'] = 'INSERT'): DynamoDBRecord {
  return {
    eventName,
    eventSource: 'aws:dynamodb',
    dynamodb: {
      Keys: { pk: image.pk!, sk: image.sk! },
      ...(eventName === 'REMOVE' ? { OldImage: image } : { NewImage: image }),
      SequenceNumber: String(1000 + n),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

function streamEvent(records: DynamoDBRecord[]): DynamoDBStreamEvent {
  return { Records: records };
}

function putCalls(): PutEventsCommandInput[] {
  return eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input);
}

/** Accepts every entry, answering an EventId for each. */
function acceptAll(): void {
  eventBridge.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => ({
    FailedEntryCount: 0,
    Entries: (input.Entries ?? []).map((_entry, index) => ({ EventId: `event-${index}` })),
  }));
}

beforeEach(() => {
  eventBridge.reset();
});

describe('the event publisher', () => {
  it('puts each new audit event on the bus, ten to a call, as Source latchkey, DetailType the action, Detail the event and its account', async () => {
    acceptAll();
    const records = Array.from({ length: 23 }, (_unused, n) => record(n));

    const response = await handler()(streamEvent(records));

    expect(response).toEqual({ batchItemFailures: [] });
    const calls = putCalls();
    expect(calls.map((input) => input.Entries?.length)).toEqual([10, 10, 3]);
    const entries = calls.flatMap((input) => input.Entries ?? []);
    expect(entries).toHaveLength(23);
    expect(entries[0]).toEqual({
      EventBusName: BUS,
      Source: 'latchkey',
      DetailType: 'api-key.create',
      Detail: JSON.stringify({
        id: 'E0000000000000000',
        accountId: ACCOUNT_ID,
        time: '2026-03-01T10:00:00.000Z',
        action: 'api-key.create',
        actor: { userId: 'U0000000000000001', keyId: null },
        target: 'api-key/K0000000000000000',
        sourceIp: '203.0.113.7',
      }),
      Time: new Date('2026-03-01T10:00:00.000Z'),
    });
    // In the stream's order.
    expect(entries.map((entry) => (JSON.parse(entry.Detail ?? '{}') as { id: string }).id)).toEqual(
      records.map((r) => r.dynamodb?.NewImage?.id?.S),
    );
    expect(entries[1]?.DetailType).toBe('cidr-rule.delete');
  });

  it('puts again only the entries PutEvents refused, and reports nothing when they go through', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 2,
        Entries: [
          { EventId: 'e0' },
          { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' },
          { EventId: 'e2' },
          { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' },
        ],
      })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }, { EventId: 'e3' }] });

    const response = await handler()(streamEvent([0, 1, 2, 3].map((n) => record(n))));

    expect(response).toEqual({ batchItemFailures: [] });
    const calls = putCalls();
    expect(calls).toHaveLength(2);
    expect(calls[1]?.Entries?.map((entry) => (JSON.parse(entry.Detail ?? '{}') as { id: string }).id)).toEqual(['E0000000000000001', 'E0000000000000003']);
  });

  it('reports entries still refused after every attempt as batch item failures', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => ({
      FailedEntryCount: 1,
      Entries: (input.Entries ?? []).map((entry, index) =>
        entry.Detail?.includes('E0000000000000002') === true ? { ErrorCode: 'InternalFailure' } : { EventId: `event-${index}` },
      ),
    }));

    const response = await handler()(streamEvent([0, 1, 2, 3].map((n) => record(n))));

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '1002' }] });
    expect(putCalls()).toHaveLength(PUT_ATTEMPTS);
  });

  it('reports a wholly failing batch as batch item failures, and the batches it put as done', async () => {
    let call = 0;
    eventBridge.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => {
      call += 1;
      if (call > 1) throw new Error('ServiceUnavailable');
      return { FailedEntryCount: 0, Entries: (input.Entries ?? []).map((_entry, index) => ({ EventId: `event-${index}` })) };
    });
    const records = Array.from({ length: 12 }, (_unused, n) => record(n));

    const response = await handler()(streamEvent(records));

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '1010' }, { itemIdentifier: '1011' }] });
    // The first batch once, the second on every attempt.
    expect(putCalls().map((input) => input.Entries?.length)).toEqual([10, ...Array<number>(PUT_ATTEMPTS).fill(2)]);
  });

  it('ignores every record that is not a new audit event', async () => {
    acceptAll();
    const key = { ...eventImage(1), sk: { S: 'KEY#K0000000000000001' } };
    const reservation = { ...eventImage(2), sk: { S: 'KEYNAME#ci-deploy-key' } };
    const notAnEvent: Record<string, AttributeValue> = { pk: { S: `ACCOUNT#${ACCOUNT_ID}` }, sk: { S: 'EVENT#2026-03-01T10:00:00.000Z#E1' } };

    const response = await handler()(
      streamEvent([record(1, key), record(2, reservation), record(3, eventImage(3), 'MODIFY'), record(4, eventImage(4), 'REMOVE'), record(5, notAnEvent)]),
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(putCalls()).toEqual([]);
  });

  it('never puts a key, secret, digest or secret tag in any Detail, whatever else the item holds', async () => {
    acceptAll();
    const userKey = formatUserKey(ACCOUNT_ID, 'K0000000000000001');
    const laden: Record<string, AttributeValue> = {
      ...eventImage(7),
      secretHash: { B: DIGEST_BASE64 },
      presentedSecrets: { M: { accountKey: { S: 'tag-of-account-key' }, userKey: { S: userKey } } },
      userKey: { S: userKey },
    };

    await handler()(streamEvent([record(6), record(7, laden)]));

    const details = putCalls().flatMap((input) => input.Entries ?? []).map((entry) => entry.Detail ?? '');
    expect(details).toHaveLength(2);
    for (const detail of details) {
      expect(() => {
        assertNoSecrets(JSON.parse(detail));
      }).not.toThrow();
      expect(detail).not.toContain(userKey);
      expect(detail).not.toContain(DIGEST_BASE64);
      expect(detail).not.toMatch(/secret|hash|digest|tag-of|lks_|lka_/i);
    }
  });

  it('shares its batch with TTL removals of keys (one mapping for both jobs): each record goes to its job, and what either failed is reported', async () => {
    eventBridge.on(PutEventsCommand).rejects(new Error('ThrottlingException'));
    const recorded: string[] = [];
    const shared = createTableSignalsHandler({
      keyExpiry: {
        store: {
          recordKeyExpiry: (key) => {
            if (key.keyId === 'K0000000000000013') return Promise.reject(new Error('ProvisionedThroughputExceededException'));
            recorded.push(key.keyId);
            return Promise.resolve({ eventRecorded: true, keyForgotten: true });
          },
        },
        logger: quietLogger(),
      },
      eventPublishing: { bus: new EventBridgeSignalBus(new EventBridgeClient({ region: 'eu-west-1' }), BUS), logger: quietLogger(), sleep: noWait },
    });
    const ttlRemoval = (n: number): DynamoDBRecord => {
      const key = { ...eventImage(n), sk: { S: `KEY#K${String(n).padStart(16, '0')}` } };
      return { ...record(n, key, 'REMOVE'), userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' } };
    };

    const response = await shared(streamEvent([ttlRemoval(11), record(12), ttlRemoval(13), record(14)]));

    expect(recorded).toEqual(['K0000000000000011']);
    expect(putCalls()).toHaveLength(PUT_ATTEMPTS);
    expect(putCalls()[0]?.Entries?.map((entry) => entry.DetailType)).toEqual(['api-key.create', 'api-key.create']);
    // The removal that failed (13) and the two events the bus never took (12, 14): the mapping delivers again from 12 on.
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['1012', '1013', '1014']);
  });
});
