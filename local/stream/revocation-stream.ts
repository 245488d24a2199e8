import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import type { Logger } from '@aws-lambda-powertools/logger';
import { expiredKeyRemovals } from '#shared/adapters/dynamodb/expired-keys.ts';
import { type TableChange, narrowsAccess } from '#shared/adapters/dynamodb/narrowing.ts';
import type { AuthorizerCache } from '#shared/ports/authorizer-cache.ts';
import { type KeyExpiryDeps, recordKeyExpiries } from '#shared/services/key-expiry.ts';
import { RevocationFlusher, type RevocationFlusherOptions } from '#shared/services/revocation-flusher.ts';

/**
 * The local runtime's reader of the table's stream, standing in for both event source mappings
 * of AWS. It reads DynamoDB Local's own stream of the table and hands each change to the same
 * decision (narrowsAccess) and the same coalescing flusher as the flusher function, and, given
 * `keyExpiry`, each TTL removal of a key to the same service as the table signals function
 * (expiredKeyRemovals, recordKeyExpiries). A shard's position moves past a batch only once the
 * flush that covers it succeeded and its expiries are recorded, so a failure is retried, never
 * skipped (and a batch read again records nothing twice).
 */

/** How often each shard is read. DynamoDB Local answers GetRecords at once, empty or not. */
export const DEFAULT_POLL_INTERVAL_MS = 100;
/** How often the stream is described again to find shards opened since (DynamoDB rolls them over). */
const DESCRIBE_INTERVAL_MS = 2_000;

export interface RevocationStreamOptions {
  /** The table's client: its endpoint, region and credentials are the stream's. */
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  /** What a flush empties: the local authorizer cache, or in tests a stand-in that behaves as API Gateway does. */
  readonly cache: AuthorizerCache;
  readonly logger: Logger;
  /** @default DEFAULT_POLL_INTERVAL_MS */
  readonly pollIntervalMs?: number;
  readonly flusher?: RevocationFlusherOptions;
  /**
   * Where TTL removals of keys are recorded (their audit event, their holder's list and count).
   * Given, the shards there at start are read from their oldest record, so that a key DynamoDB
   * Local removed before this reader started (at the engine's start, say) is recorded too.
   * @default none: the stream serves revocation only
   */
  readonly keyExpiry?: KeyExpiryDeps;
  /**
   * Handed each batch once revocation and expiry are done with it (the local webhooks): it must
   * return at once, queueing any slow work, so that it never delays a flush. A batch may come
   * again (a lost shard position is read again from its start).
   * @default none
   */
  readonly onChanges?: (changes: readonly TableChange[]) => void;
}

export interface RevocationStream {
  readonly flusher: RevocationFlusher;
  /** Narrowing changes seen so far. */
  readonly narrowingChanges: () => number;
  stop(): Promise<void>;
}

export function streamChange(record: StreamRecord): TableChange {
  return {
    eventName: record.eventName,
    keys: record.dynamodb?.Keys,
    oldImage: record.dynamodb?.OldImage,
    newImage: record.dynamodb?.NewImage,
    userIdentity: record.userIdentity === undefined ? undefined : { type: record.userIdentity.Type, principalId: record.userIdentity.PrincipalId },
    approximateCreationTime: record.dynamodb?.ApproximateCreationDateTime?.getTime(),
  };
}

export async function startRevocationStream(options: RevocationStreamOptions): Promise<RevocationStream> {
  const { dynamodb, tableName, logger } = options;
  const streams = new DynamoDBStreamsClient({
    endpoint: dynamodb.config.endpoint,
    region: dynamodb.config.region,
    credentials: dynamodb.config.credentials,
  });
  const flusher = new RevocationFlusher(options.cache, {
    onFailure: (error, attempt) => {
      logger.warn('authorizer cache flush failed; retrying', { attempt, error });
    },
    ...options.flusher,
  });
  const described = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
  const streamArn = described.Table?.LatestStreamArn;
  if (streamArn === undefined) throw new Error(`table ${tableName} has no stream: revocation could not be made durable`);

  /** Open shards and where reading them goes on from. */
  const iterators = new Map<string, string>();
  const known = new Set<string>();
  const discover = async (fromStart: boolean): Promise<void> => {
    let exclusiveStart: string | undefined;
    do {
      const output = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: exclusiveStart }));
      for (const shard of output.StreamDescription?.Shards ?? []) {
        const shardId = shard.ShardId;
        if (shardId === undefined || known.has(shardId)) continue;
        known.add(shardId);
        if (shard.SequenceNumberRange?.EndingSequenceNumber !== undefined && !fromStart) continue;
        // Shards there at start: for revocation only what happens from now on matters (this
        // process's cache is empty); expiries are recorded from the oldest record on. Shards
        // opened later are read from their start, so no change is missed.
        const iterator = await streams.send(
          new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: fromStart ? 'TRIM_HORIZON' : 'LATEST' }),
        );
        if (iterator.ShardIterator !== undefined) iterators.set(shardId, iterator.ShardIterator);
      }
      exclusiveStart = output.StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStart !== undefined);
  };
  await discover(options.keyExpiry !== undefined);

  let narrowing = 0;
  const state: { stopped: boolean; shardClosed: boolean } = { stopped: false, shardClosed: false };
  const pollInterval = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const readShard = async (shardId: string, iterator: string): Promise<void> => {
    try {
      const output = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      const changes = (output.Records ?? []).map(streamChange);
      const narrowed = changes.filter(narrowsAccess).length;
      if (narrowed > 0) {
        narrowing += narrowed;
        await flusher.request();
      }
      if (options.keyExpiry !== undefined) await recordKeyExpiries(options.keyExpiry, expiredKeyRemovals(changes));
      options.onChanges?.(changes);
      if (output.NextShardIterator === undefined) {
        // A closed shard: its children hold what follows, find them now.
        iterators.delete(shardId);
        state.shardClosed = true;
      } else iterators.set(shardId, output.NextShardIterator);
    } catch (error) {
      if (error instanceof ExpiredIteratorException || error instanceof TrimmedDataAccessException) {
        // Lost the place: read the shard again from its start (a flush too many, never one too few).
        iterators.delete(shardId);
        known.delete(shardId);
        await discover(true);
        return;
      }
      throw error;
    }
  };

  // Read through a function: the flag is set by stop() while the loop awaits.
  const isStopped = (): boolean => state.stopped;
  const loop = (async (): Promise<void> => {
    let lastDescribe = performance.now();
    while (!isStopped()) {
      try {
        await Promise.all([...iterators].map(([shardId, iterator]) => readShard(shardId, iterator)));
        if (state.shardClosed || performance.now() - lastDescribe >= DESCRIBE_INTERVAL_MS || iterators.size === 0) {
          lastDescribe = performance.now();
          state.shardClosed = false;
          await discover(true);
        }
      } catch (error) {
        if (!isStopped()) logger.error('reading the table stream failed; retrying', { error });
      }
      if (!isStopped()) await new Promise((resolve) => setTimeout(resolve, pollInterval));
    }
  })();

  return {
    flusher,
    narrowingChanges: () => narrowing,
    stop: async () => {
      state.stopped = true;
      // A flush that keeps failing holds the loop; stopping does not wait for it for long.
      await Promise.race([loop, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
      streams.destroy();
    },
  };
}
