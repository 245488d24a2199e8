import { createTable } from '#shared/adapters/create-table.ts';
import { DynamoDbStore } from '#shared/adapters/dynamodb-store.ts';
import { countedDynamoDb } from './call-counters.ts';

const REQUESTS = 2_000;
const IN_FLIGHT = 4;

/**
 * DynamoDB Local runs on the JVM and answers its first thousand or so requests several times
 * slower than later ones while the JIT compiles it. Warming it once, before any group that
 * uses it, keeps the order of the groups out of their figures.
 */
export async function warmDynamoDbLocal(endpoint: string): Promise<{ readonly requests: number; readonly seconds: number }> {
  const tableName = 'latchkey-bench-warmup';
  const db = countedDynamoDb(endpoint);
  try {
    await createTable(db.raw, tableName);
    const store = new DynamoDbStore(db.documentClient, tableName);
    const started = performance.now();
    let sent = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (sent < REQUESTS) {
          sent += 1;
          await store.loadForAuthorization('0000000000000000', '0000000000000000');
        }
      }),
    );
    return { requests: sent, seconds: (performance.now() - started) / 1000 };
  } finally {
    db.raw.destroy();
  }
}
