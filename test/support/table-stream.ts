import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { streamChange } from '#local/stream/revocation-stream.ts';
import type { TableChange } from '#shared/adapters/dynamodb/narrowing.ts';
import type { TestTable } from './dynamodb.ts';

/**
 * Every change a test table's stream holds so far, oldest first, as the revocation flusher
 * reads it (streamChange): so that a test can hold a write's own stream images up to
 * narrowsAccess. DynamoDB Local answers GetRecords at once and keeps one shard per new table.
 */
export async function tableChanges(table: TestTable): Promise<TableChange[]> {
  const described = await table.raw.send(new DescribeTableCommand({ TableName: table.tableName }));
  const streamArn = described.Table?.LatestStreamArn;
  if (streamArn === undefined) throw new Error(`table ${table.tableName} has no stream`);
  const streams = new DynamoDBStreamsClient({
    endpoint: table.raw.config.endpoint,
    region: table.raw.config.region,
    credentials: table.raw.config.credentials,
  });
  try {
    const changes: TableChange[] = [];
    const shards = (await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }))).StreamDescription?.Shards ?? [];
    for (const shard of shards) {
      const start = await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
      let iterator = start.ShardIterator;
      while (iterator !== undefined) {
        const output = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
        const records = output.Records ?? [];
        changes.push(...records.map(streamChange));
        // An open shard's iterator never ends: an empty page means it is read to its end for now.
        iterator = records.length === 0 ? undefined : output.NextShardIterator;
      }
    }
    return changes;
  } finally {
    streams.destroy();
  }
}
