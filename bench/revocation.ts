import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { startRevocationStream } from '#local/stream/revocation-stream.ts';
import { createTable } from '#shared/adapters/create-table.ts';
import { DynamoDbStore } from '#shared/adapters/dynamodb-store.ts';
import { newId } from '#shared/domain/ids.ts';
import type { AccountRecord, ApiKeyRecord, AuditEvent, User } from '#shared/domain/model.ts';
import type { AuthorizerCache } from '#shared/ports/authorizer-cache.ts';
import { DEFAULT_FLUSH_WINDOW_MS } from '#shared/services/revocation-flusher.ts';
import type { Figure } from './report.ts';
import { benchRevocationShards } from './revocation-shards.ts';
import { median, percentile } from './stats.ts';

/**
 * The revocation bound on DynamoDB Local: time from a narrowing change's commit to the end of
 * the first flush that started after it, through the same stream poller, decision and
 * coalescing flusher as `npm start`. Changes are made at a steady pace (not one after the
 * other's flush), alone and while another account floods the table with narrowing changes;
 * then across several stream shards as on AWS (revocation-shards.ts).
 */

const CHANGES = 200;
const PACE_MS = 40;
const GROUP = '9 revocation';
/** Keys the paced changes take turns on, so that two changes in flight never edit the same key. */
const VICTIM_KEYS = 10;

class TimedCache implements AuthorizerCache {
  readonly flushes: { start: number; end: number }[] = [];
  async flush(): Promise<void> {
    const start = performance.now();
    await Promise.resolve();
    this.flushes.push({ start, end: performance.now() });
  }
}

const event = (accountId: string): AuditEvent => ({
  id: newId(),
  accountId,
  time: new Date().toISOString(),
  action: 'cidr-rule.update',
  actor: { userId: null, keyId: null },
  target: 'bench',
  sourceIp: null,
});

interface Target {
  readonly accountId: string;
  readonly keyId: string;
}

/** An account whose owner holds `keys` keys, each with one rule. */
async function seedAccount(store: DynamoDbStore, keys = 1): Promise<Target[]> {
  const accountId = newId();
  const at = new Date().toISOString();
  const account: AccountRecord = {
    id: accountId,
    name: 'bench',
    apiEnabled: true,
    accountKeyMasked: 'lka_********wxyz',
    createdAt: at,
    accountKeyHash: randomBytes(32),
    accountKeyPepperVersion: 1,
    accountKeyCiphertext: randomBytes(64),
  };
  const owner: User = { id: newId(), accountId, name: 'Owner', email: 'owner@example.com', role: 'owner', createdAt: at };
  const key: ApiKeyRecord = {
    id: newId(),
    accountId,
    name: `bench-key-${newId()}`,
    userId: owner.id,
    role: 'owner',
    createdAt: at,
    lastUsedAt: null,
    createdBy: { userId: null, keyId: null },
    cidrAllowList: [{ id: newId(), cidr: '192.0.2.0/24', createdAt: at }],
    secretHash: randomBytes(32),
    pepperVersion: 1,
  };
  await store.createAccount({ account, owner, ownerKey: key, event: event(accountId) });
  const targets: Target[] = [{ accountId, keyId: key.id }];
  for (let n = 1; n < keys; n += 1) {
    const extra: ApiKeyRecord = { ...key, id: newId(), name: `bench-key-${newId()}`, secretHash: randomBytes(32) };
    await store.createKey(extra, event(accountId), { keysPerUser: keys, rulesPerKey: 20 });
    targets.push({ accountId, keyId: extra.id });
  }
  return targets;
}

/** Replaces the key's one rule with another CIDR: an edit, which narrows access. */
async function narrow(store: DynamoDbStore, target: Target, n: number): Promise<number> {
  await store.editAllowList(
    target.accountId,
    target.keyId,
    (list) => {
      const rule = list.rules[0];
      if (rule === undefined) throw new Error('no rule');
      return { list: list.replace(rule.id, `10.${Math.floor(n / 250) % 250}.${n % 250}.0/24`).list, result: undefined };
    },
    event(target.accountId),
    { keysPerUser: 10, rulesPerKey: 20 },
  );
  return performance.now();
}

async function scenario(store: DynamoDbStore, cache: TimedCache, flood: boolean): Promise<{ latencies: number[]; floodChanges: number; seconds: number; flushes: number }> {
  const victim = await seedAccount(store, VICTIM_KEYS);
  // The flooding account edits two keys back to back, each as fast as the engine takes it.
  const flooder = await seedAccount(store, 2);
  const flushesBefore = cache.flushes.length;
  let flooding = flood;
  let floodChanges = 0;
  const floodRun = Promise.all(
    flooder.map(async (own) => {
      while (flooding) {
        await narrow(store, own, floodChanges);
        floodChanges += 1;
      }
    }),
  );
  const started = performance.now();
  const commits: Promise<number>[] = [];
  for (let n = 0; n < CHANGES; n += 1) {
    const commit = narrow(store, victim[n % VICTIM_KEYS] as Target, n);
    // Settled by Promise.all below; until then a failure must not end the process unhandled
    // (which would skip the benchmark's clean-up and leave DynamoDB Local running).
    commit.catch(() => undefined);
    commits.push(commit);
    await new Promise((resolve) => setTimeout(resolve, PACE_MS));
  }
  const committed = await Promise.all(commits);
  // Wait for the flush that covers the last commit.
  const last = Math.max(...committed);
  while (!cache.flushes.some((f) => f.start >= last)) await new Promise((resolve) => setTimeout(resolve, 50));
  // The calls' own span: from the first flush's start to a window past the last one's, so that n
  // calls one window apart count as n windows (at most one call per window reads 1/window).
  const ours = cache.flushes.slice(flushesBefore);
  const seconds = ((ours.at(-1)?.start ?? started) - (ours[0]?.start ?? started) + DEFAULT_FLUSH_WINDOW_MS) / 1000;
  flooding = false;
  await floodRun;
  const latencies = committed.map((at) => {
    const covering = cache.flushes.find((f) => f.start >= at);
    if (covering === undefined) throw new Error('a change was never flushed');
    return covering.end - at;
  });
  return { latencies, floodChanges, seconds, flushes: cache.flushes.length - flushesBefore };
}

export async function benchRevocation(endpoint: string): Promise<{ figures: Figure[]; details: unknown }> {
  const raw = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
  const tableName = `latchkey-bench-revocation-${newId()}`;
  await createTable(raw, tableName);
  const store = new DynamoDbStore(DynamoDBDocumentClient.from(raw), tableName);
  const cache = new TimedCache();
  const stream = await startRevocationStream({
    dynamodb: raw,
    tableName,
    cache,
    logger: new Logger({ serviceName: 'latchkey-bench', logLevel: 'SILENT' }),
  });
  try {
    const alone = await scenario(store, cache, false);
    const flooded = await scenario(store, cache, true);
    const gaps = cache.flushes.slice(1).map((f, i) => f.start - (cache.flushes[i]?.start ?? 0));
    const method = `${CHANGES} allow-list edits (narrowing), one every ${PACE_MS} ms; commit -> end of the first flush started after it; stream polled every 100 ms, flush window ${DEFAULT_FLUSH_WINDOW_MS} ms`;
    const figures: Figure[] = [];
    for (const [label, run] of [
      ['alone', alone],
      ["under another account's flood", flooded],
    ] as const) {
      const sorted = [...run.latencies].sort((a, b) => a - b);
      figures.push(
        { group: GROUP, name: `revocation bound ${label}, median`, value: Math.round(median(sorted)), unit: 'ms', method },
        { group: GROUP, name: `revocation bound ${label}, p99`, value: Math.round(percentile(sorted, 99)), unit: 'ms', method },
        { group: GROUP, name: `flush calls per second ${label}`, value: Number((run.flushes / run.seconds).toFixed(2)), unit: 'calls/s', method: `${run.flushes} calls over ${run.seconds.toFixed(1)} s, from the first call to a window after the last; at most one per window reads ${(1000 / DEFAULT_FLUSH_WINDOW_MS).toFixed(2)}` },
      );
    }
    figures.push({
      group: GROUP,
      name: 'shortest gap between two flush calls',
      value: Math.round(Math.min(...gaps)),
      unit: 'ms',
      method: `over both runs; the window is ${DEFAULT_FLUSH_WINDOW_MS} ms (${flooded.floodChanges} flood changes)`,
    });
    // On AWS each stream shard has its own invocations: the bound must hold across them too.
    const sharded = await benchRevocationShards(endpoint);
    figures.push(...sharded.figures);
    return { figures, details: { alone: { ...alone, latencies: undefined }, flooded: { ...flooded, latencies: undefined }, sharded: sharded.details } };
  } finally {
    await stream.stop();
    raw.destroy();
  }
}
