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
import { type TableChange, narrowsAccess } from '#shared/adapters/dynamodb/narrowing.ts';
import type { AuthorizerCache } from '#shared/ports.ts';
import { RevocationFlusher, type RevocationFlusherOptions } from '#shared/services/revocation-flusher.ts';

/**
 * The local runtime's half of durable revocation: it reads DynamoDB Local's own stream of the
 * table, as the event source mapping reads the table's stream on AWS, and hands each change to
 * the same decision (narrowsAccess) and the same coalescing flusher as the flusher function.
 * A shard's position moves past a batch only once the flush that covers it succeeded, so a
 * failing flush is retried, never skipped.
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
        // Shards there at start: only what happens from now on matters (this process's cache is
        // empty). Shards opened later are read from their start, so no change is missed.
        const iterator = await streams.send(
          new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: fromStart ? 'TRIM_HORIZON' : 'LATEST' }),
        );
        if (iterator.ShardIterator !== undefined) iterators.set(shardId, iterator.ShardIterator);
      }
      exclusiveStart = output.StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStart !== undefined);
  };
  await discover(false);

  let narrowing = 0;
  const state: { stopped: boolean; shardClosed: boolean } = { stopped: false, shardClosed: false };
  const pollInterval = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const readShard = async (shardId: string, iterator: string): Promise<void> => {
    try {
      const output = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      const records = output.Records ?? [];
      const narrowed = records.filter((record) => narrowsAccess(streamChange(record))).length;
      if (narrowed > 0) {
        narrowing += narrowed;
        await flusher.request();
      }
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
