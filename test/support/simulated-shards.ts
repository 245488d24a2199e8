import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

/**
 * A table stream of several shards read by an event source mapping, as the flusher function
 * meets it on AWS: each shard is polled every `pollMs` (Lambda polls DynamoDB stream shards at
 * a base rate of 4 per second), what it holds is handed over as one batch, and a shard's next
 * batch waits until its invocation returned (parallelization factor 1). Each shard's
 * invocations run in a container of their own, so several shards run at once.
 */
export class SimulatedShards {
  /** Invocations made so far. */
  invocations = 0;
  readonly #queues: DynamoDBRecord[][];
  readonly #handlers: ((event: DynamoDBStreamEvent) => Promise<void>)[];
  readonly #pollMs: number;
  #running = true;
  readonly #lanes: Promise<void>[];

  /** `container(shard)` makes the handler that serves that shard's batches. */
  constructor(shards: number, container: (shard: number) => (event: DynamoDBStreamEvent) => Promise<void>, pollMs = 250) {
    this.#queues = Array.from({ length: shards }, () => []);
    this.#handlers = Array.from({ length: shards }, (_, shard) => container(shard));
    this.#pollMs = pollMs;
    this.#lanes = this.#handlers.map((_, shard) => this.#lane(shard));
  }

  get shards(): number {
    return this.#queues.length;
  }

  /** A committed change appears on `shard`. */
  deliver(shard: number, record: DynamoDBRecord): void {
    this.#queues[shard]?.push(record);
  }

  /** Records delivered and not yet handed to an invocation. */
  /** How many shards the stream has. */
  get count(): number {
    return this.#queues.length;
  }

  pending(): number {
    return this.#queues.reduce((sum, queue) => sum + queue.length, 0);
  }

  /** Stops polling once each shard's invocation under way returned. */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#lanes);
  }

  async #lane(shard: number): Promise<void> {
    const queue = this.#queues[shard] ?? [];
    const handler = this.#handlers[shard];
    if (handler === undefined) return;
    while (this.#running) {
      if (queue.length === 0) {
        await new Promise((resolve) => setTimeout(resolve, this.#pollMs));
        continue;
      }
      const batch = queue.splice(0);
      this.invocations += 1;
      // A failed invocation is retried with the same records, before anything newer of this shard.
      await handler({ Records: batch }).catch(() => queue.unshift(...batch));
    }
  }
}

/** The stream record of a key deleted from an account: a change that narrows access. */
export function keyRemovedRecord(accountId: string, keyId: string): DynamoDBRecord {
  return {
    eventName: 'REMOVE',
    dynamodb: {
      Keys: { pk: { S: `ACCOUNT#${accountId}` }, sk: { S: `KEY#${keyId}` } },
      OldImage: { pk: { S: `ACCOUNT#${accountId}` }, sk: { S: `KEY#${keyId}` }, role: { S: 'owner' }, secretHash: { B: 'AQID' } },
    },
  };
}

/**
 * Commits `changes` key removals round robin over the shards, one every `paceMs`, then waits
 * until every shard is drained and a flush has started after the last commit (`flushStarts`
 * reads the cache's flush start times). Answers each change's commit time.
 */
export async function commitRemovals(shards: SimulatedShards, changes: number, paceMs: number, flushStarts: () => readonly number[]): Promise<number[]> {
  const commits: number[] = [];
  for (let n = 0; n < changes; n += 1) {
    commits.push(Date.now());
    shards.deliver(n % shards.count, keyRemovedRecord(`A${n % shards.count}`, `K${n}`));
    await new Promise((resolve) => setTimeout(resolve, paceMs));
  }
  const last = commits.at(-1) ?? 0;
  while (shards.pending() > 0 || !flushStarts().some((start) => start >= last)) await new Promise((resolve) => setTimeout(resolve, 50));
  return commits;
}
