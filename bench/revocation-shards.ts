import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createFlusherHandler } from '#functions/revocation-flusher.ts';
import { createTable } from '#shared/adapters/create-table.ts';
import { DynamoDbFlushLedger } from '#shared/adapters/dynamodb/flush-ledger.ts';
import { newId } from '#shared/domain/ids.ts';
import type { AuthorizerCache } from '#shared/ports/authorizer-cache.ts';
import { DEFAULT_FLUSH_WINDOW_MS } from '#shared/services/revocation-flusher.ts';
import { quietLogger } from '#test/support/fakes/logger.ts';
import { SimulatedShards, commitRemovals } from '#test/support/simulated-shards.ts';
import type { Figure } from './report.ts';
import { median, percentile } from './stats.ts';

/**
 * The revocation bound with several stream shards, as the flusher function meets it on AWS:
 * four shards, each polled every 250 ms (Lambda's base rate) and served one batch at a time by
 * a container of its own, the containers agreeing through the stage's flush ledger in a table
 * on DynamoDB Local. Each change is handed to its shard as it commits (AWS adds the stream's
 * own delivery, which this does not measure).
 */

const SHARDS = 4;
const CHANGES = 200;
const PACE_MS = 40;
const GROUP = '9 revocation';
/** What API Gateway takes to accept a flush (202). */
const ACCEPT_MS = 50;

class TimedCache implements AuthorizerCache {
  readonly flushes: { start: number; end: number }[] = [];
  async flush(): Promise<void> {
    const start = Date.now();
    await new Promise((resolve) => setTimeout(resolve, ACCEPT_MS));
    this.flushes.push({ start, end: Date.now() });
  }
}

export async function benchRevocationShards(endpoint: string): Promise<{ figures: Figure[]; details: unknown }> {
  const raw = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
  const tableName = `latchkey-bench-shards-${newId()}`;
  await createTable(raw, tableName);
  const ledger = new DynamoDbFlushLedger(DynamoDBDocumentClient.from(raw), tableName, 'bench', 'prod');
  const cache = new TimedCache();
  const shards = new SimulatedShards(SHARDS, () => createFlusherHandler(cache, ledger, quietLogger()));
  try {
    const commits = await commitRemovals(shards, CHANGES, PACE_MS, () => cache.flushes.map((f) => f.start));
    const starts = cache.flushes.map((f) => f.start).sort((a, b) => a - b);
    const latencies = commits
      .map((at) => {
        const covering = cache.flushes.filter((f) => f.start >= at).sort((a, b) => a.start - b.start)[0];
        if (covering === undefined) throw new Error('a change was never flushed');
        return covering.end - at;
      })
      .sort((a, b) => a - b);
    const gaps = starts.slice(1).map((start, i) => start - (starts[i] ?? 0));
    const seconds = ((starts.at(-1) ?? 0) - (starts[0] ?? 0) + DEFAULT_FLUSH_WINDOW_MS) / 1000;
    const method = `${CHANGES} narrowing changes, one every ${PACE_MS} ms, dealt to ${SHARDS} shards in turn; each shard polled every 250 ms and served by its own flusher invocation, sharing the flush ledger on DynamoDB Local; commit -> end of the first flush call started after it (accepted in ${ACCEPT_MS} ms)`;
    const figures: Figure[] = [
      { group: GROUP, name: `revocation bound with ${SHARDS} shards, median`, value: Math.round(median(latencies)), unit: 'ms', method },
      { group: GROUP, name: `revocation bound with ${SHARDS} shards, p99`, value: Math.round(percentile(latencies, 99)), unit: 'ms', method },
      {
        group: GROUP,
        name: `flush calls per second with ${SHARDS} shards`,
        value: Number((starts.length / seconds).toFixed(2)),
        unit: 'calls/s',
        method: `${starts.length} calls over ${seconds.toFixed(1)} s, from the first call to a window after the last; at most one per window reads ${(1000 / DEFAULT_FLUSH_WINDOW_MS).toFixed(2)}`,
      },
      {
        group: GROUP,
        name: `shortest gap between two flush calls with ${SHARDS} shards`,
        value: Math.round(Math.min(...gaps)),
        unit: 'ms',
        method: `the window is ${DEFAULT_FLUSH_WINDOW_MS} ms`,
      },
    ];
    return { figures, details: { shards: SHARDS, invocations: shards.invocations, flushes: starts.length } };
  } finally {
    await shards.stop();
    raw.destroy();
  }
}
