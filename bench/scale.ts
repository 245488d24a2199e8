import { randomInt } from 'node:crypto';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createAuthorizerHandler } from '#functions/authorizer.ts';
import { createLogger } from '#functions/commons/logger.ts';
import { createTable } from '#shared/adapters/create-table.ts';
import { keyItem, type Item } from '#shared/adapters/dynamodb/items.ts';
import { DynamoDbStore } from '#shared/adapters/dynamodb-store.ts';
import { KmsSecrets } from '#shared/adapters/kms-secrets.ts';
import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import { encodeBase62, randomBase62 } from '#shared/domain/base62.ts';
import type { PepperRing } from '#shared/domain/hashing.ts';
import { ID_LENGTH } from '#shared/domain/ids.ts';
import { SECRET_LENGTH } from '#shared/domain/key-format.ts';
import { createPepperProvider, ensurePepper } from '#shared/authorization/peppers.ts';
import { createAccount } from '#shared/services/accounts.ts';
import { type CountedDynamoDb, type CountedKms, countedDynamoDb, countedKms } from './call-counters.ts';
import { authorizerEvent, makeKey, withStdoutDiscarded } from './fixtures.ts';
import type { Figure } from './report.ts';
import { type LatencySummary, ratio, summarize } from './stats.ts';
import { LocalUsagePlans } from '#local/storage/local-usage-plans.ts';

const GROUP = '4 scale';
const KMS_KEY_ID = 'alias/latchkey-bench';
const LARGE_ACCOUNTS = 10;
const KEYS_PER_LARGE_ACCOUNT = 10_000;
const SMALL_KEYS = 10;
const BATCH_WRITE_ITEMS = 25;
const WRITERS = 16;
const ROUNDS = 5;
const AUTHORIZATIONS_PER_ROUND = 200;
const WARMUP = 100;
const LIST_PAGE_SIZE = 100;
const COUNTER_CHARS = 6;

interface Caller {
  readonly accountKey: string;
  readonly userKey: string;
}

interface Population {
  readonly tableName: string;
  readonly keys: number;
  readonly callers: readonly Caller[];
  /** The first account's id and how many keys it holds, for listing. */
  readonly firstAccount: { readonly id: string; readonly keys: number };
  readonly loadSeconds: number;
  readonly writeSeconds: number;
  readonly itemsWritten: number;
}

export interface ScaleResult {
  readonly figures: readonly Figure[];
  readonly details: {
    readonly small: { readonly keys: number; readonly latency: LatencySummary };
    readonly large: {
      readonly keys: number;
      readonly latency: LatencySummary;
      readonly loadSeconds: number;
      readonly writeSeconds: number;
      readonly itemsWrittenPerSecond: number;
    };
    readonly listing: {
      readonly keys: number;
      readonly pages: number;
      readonly pageSize: number;
      readonly seconds: number;
      readonly calls: Readonly<Record<string, number>>;
    };
  };
}

/** Writes items with BatchWriteItem, several batches in flight, resending whatever DynamoDB leaves unprocessed. */
async function writeAll(client: DynamoDBDocumentClient, tableName: string, items: readonly Item[]): Promise<void> {
  let next = 0;
  const writer = async (): Promise<void> => {
    for (;;) {
      const start = next;
      next += BATCH_WRITE_ITEMS;
      if (start >= items.length) return;
      let requests = items.slice(start, start + BATCH_WRITE_ITEMS).map((item) => ({ PutRequest: { Item: item } }));
      for (let attempt = 0; requests.length > 0; attempt += 1) {
        if (attempt > 10) throw new Error('BatchWriteItem kept leaving items unprocessed');
        const output = await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests } }));
        requests = (output.UnprocessedItems?.[tableName] ?? []).flatMap((request) =>
          request.PutRequest?.Item === undefined ? [] : [{ PutRequest: { Item: request.PutRequest.Item } }],
        );
        if (requests.length > 0) await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt));
      }
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, writer));
}

/**
 * A table with `accounts` accounts made the way sign-up makes them (one owner and one key
 * each, through the real store), then topped up to `keysPerAccount` keys per account with key
 * items in the store's own item layout, written in bulk because creating 100,000 keys one
 * transaction at a time would take longer than the whole benchmark may.
 */
async function populate(
  db: CountedDynamoDb,
  kms: CountedKms,
  tableName: string,
  accounts: number,
  keysPerAccount: number,
): Promise<Population> {
  await createTable(db.raw, tableName);
  const store = new DynamoDbStore(db.documentClient, tableName);
  const secrets = new KmsSecrets(kms.client, KMS_KEY_ID);
  await ensurePepper(store, secrets);
  const peppers = createPepperProvider(store, secrets);
  const ring: PepperRing = await peppers();
  const started = performance.now();
  const callers: Caller[] = [];
  const items: Item[] = [];
  let firstAccountId = '';
  for (let a = 0; a < accounts; a += 1) {
    const created = await createAccount(
      { store, secrets, peppers, now: () => new Date(), usagePlans: new LocalUsagePlans() },
      { name: `bench account ${String(a)}`, ownerName: 'Bench Owner', ownerEmail: 'owner@example.com' },
      SYSTEM_ACTOR,
    );
    if (a === 0) firstAccountId = created.account.id;
    callers.push({ accountKey: created.accountKey, userKey: created.userKey });
    // Ids and secrets from a counter on a random stem: valid keys, made without a CSPRNG
    // draw each (100,000 of those would cost more time than the measurements themselves).
    const stem = randomBase62(SECRET_LENGTH - COUNTER_CHARS);
    for (let k = 1; k < keysPerAccount; k += 1) {
      const counter = encodeBase62(k, COUNTER_CHARS);
      const { userKey, key } = makeKey(ring, created.account.id, {
        userId: created.owner.id,
        keyId: stem.slice(0, ID_LENGTH - COUNTER_CHARS) + counter,
        secret: stem + counter,
      });
      callers.push({ accountKey: created.accountKey, userKey });
      items.push(keyItem(key));
    }
  }
  const writeStarted = performance.now();
  await writeAll(db.documentClient, tableName, items);
  const writeSeconds = (performance.now() - writeStarted) / 1000;
  return {
    writeSeconds,
    itemsWritten: items.length,
    tableName,
    keys: accounts * keysPerAccount,
    callers,
    firstAccount: { id: firstAccountId, keys: keysPerAccount },
    loadSeconds: (performance.now() - started) / 1000,
  };
}

/**
 * Authorization latency against DynamoDB Local with 10 keys in the table and with 100,000,
 * then one account's 10,000 keys listed page by page.
 */
export async function benchScale(endpoint: string): Promise<ScaleResult> {
  const kms = countedKms(KMS_KEY_ID);
  const db = countedDynamoDb(endpoint);
  try {
    const small = await populate(db, kms, 'latchkey-bench-scale-small', 1, SMALL_KEYS);
    const large = await populate(db, kms, 'latchkey-bench-scale-large', LARGE_ACCOUNTS, KEYS_PER_LARGE_ACCOUNT);

    const authorizerFor = (population: Population): (() => Promise<unknown>) => {
      const store = new DynamoDbStore(db.documentClient, population.tableName);
      const handler = createAuthorizerHandler({
        credentials: store,
        peppers: createPepperProvider(store, new KmsSecrets(kms.client, KMS_KEY_ID)),
        logger: createLogger('latchkey-authorizer'),
      });
      // Each call presents a key drawn at random from the whole table, so reads are not all of one item.
      return async () => {
        const caller = population.callers[randomInt(population.callers.length)]!;
        const result = await handler(authorizerEvent(caller.accountKey, caller.userKey));
        if (result.policyDocument.Statement[0]?.Effect !== 'Allow') throw new Error('a benchmark key was not allowed');
      };
    };
    const authorizeSmall = authorizerFor(small);
    const authorizeLarge = authorizerFor(large);

    const samples = { small: [] as bigint[], large: [] as bigint[] };
    const wall = { small: 0n, large: 0n };
    await withStdoutDiscarded(async () => {
      for (let i = 0; i < WARMUP; i += 1) {
        await authorizeSmall();
        await authorizeLarge();
      }
      // Alternating rounds, so that both tables see the same machine.
      for (let round = 0; round < ROUNDS; round += 1) {
        for (const [name, authorize] of [['small', authorizeSmall], ['large', authorizeLarge]] as const) {
          const roundStarted = process.hrtime.bigint();
          for (let i = 0; i < AUTHORIZATIONS_PER_ROUND; i += 1) {
            const t0 = process.hrtime.bigint();
            await authorize();
            samples[name].push(process.hrtime.bigint() - t0);
          }
          wall[name] += process.hrtime.bigint() - roundStarted;
        }
      }
    });
    const smallLatency = summarize(samples.small, wall.small);
    const largeLatency = summarize(samples.large, wall.large);

    // Listing: the store's listKeys, cursor after cursor, to the end.
    const store = new DynamoDbStore(db.documentClient, large.tableName);
    db.calls.reset();
    const listStarted = performance.now();
    let listed = 0;
    let pages = 0;
    let cursor: string | undefined;
    do {
      const page = await store.listKeys(large.firstAccount.id, { limit: LIST_PAGE_SIZE, cursor });
      listed += page.items.length;
      pages += 1;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    const listSeconds = (performance.now() - listStarted) / 1000;
    const listCalls = db.calls.snapshot();
    if (listed !== large.firstAccount.keys) throw new Error(`listed ${String(listed)} keys, expected ${String(large.firstAccount.keys)}`);

    const itemsPerSecond = large.itemsWritten / large.writeSeconds;
    const latencyMethod = (population: Population): string =>
      `authorizer handler, real DynamoDbStore (one BatchGetItem) on DynamoDB Local, warm; ${String(ROUNDS * AUTHORIZATIONS_PER_ROUND)} calls with random keys of the ${population.keys.toLocaleString('en-US')}, rounds alternating with the other table`;
    const figures: Figure[] = [
      { group: GROUP, name: `authorization, ${String(SMALL_KEYS)} keys in table, median`, value: smallLatency.medianUs / 1000, unit: 'ms', method: latencyMethod(small) },
      { group: GROUP, name: `authorization, ${String(SMALL_KEYS)} keys in table, p99`, value: smallLatency.p99Us / 1000, unit: 'ms', method: latencyMethod(small) },
      { group: GROUP, name: `authorization, ${large.keys.toLocaleString('en-US')} keys in table, median`, value: largeLatency.medianUs / 1000, unit: 'ms', method: latencyMethod(large) },
      { group: GROUP, name: `authorization, ${large.keys.toLocaleString('en-US')} keys in table, p99`, value: largeLatency.p99Us / 1000, unit: 'ms', method: latencyMethod(large) },
      { group: GROUP, name: 'authorization, large / small table (median)', value: ratio(largeLatency.medianUs, smallLatency.medianUs), unit: 'x', method: 'ratio of the two medians; a key lookup, so it should stay near 1' },
      {
        group: GROUP,
        name: `listing ${listed.toLocaleString('en-US')} keys of one account`,
        value: listed / listSeconds,
        unit: 'items/s',
        method: `store.listKeys, ${String(pages)} pages of ${String(LIST_PAGE_SIZE)}, cursor to cursor, in ${listSeconds.toFixed(2)} s; DynamoDB calls: ${Object.entries(listCalls).map(([op, n]) => `${op} ${String(n)}`).join(', ')}`,
      },
      {
        group: GROUP,
        name: 'bulk write of key items (setup)',
        value: itemsPerSecond,
        unit: 'items/s',
        method: `${large.itemsWritten.toLocaleString('en-US')} key items by BatchWriteItem (25 per call, ${String(WRITERS)} in flight) in ${large.writeSeconds.toFixed(1)} s; whole load incl. ${String(LARGE_ACCOUNTS)} sign-ups and digests ${large.loadSeconds.toFixed(1)} s`,
      },
    ];
    return {
      figures,
      details: {
        small: { keys: small.keys, latency: smallLatency },
        large: {
          keys: large.keys,
          latency: largeLatency,
          loadSeconds: large.loadSeconds,
          writeSeconds: large.writeSeconds,
          itemsWrittenPerSecond: itemsPerSecond,
        },
        listing: { keys: listed, pages, pageSize: LIST_PAGE_SIZE, seconds: listSeconds, calls: listCalls },
      },
    };
  } finally {
    db.raw.destroy();
    kms.restore();
  }
}
