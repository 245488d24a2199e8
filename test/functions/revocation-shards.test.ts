import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createFlusherHandler } from '#functions/revocation-flusher.ts';
import { DEFAULT_FLUSH_WINDOW_MS } from '#shared/services/revocation-flusher.ts';
import { FakeAuthorizerCache } from '#test/support/fakes/authorizer-cache.ts';
import { quietLogger } from '#test/support/fakes/logger.ts';
import { MemoryFlushLedger } from '#test/support/fakes/flush-ledger.ts';
import { SimulatedShards, keyRemovedRecord } from '#test/support/simulated-shards.ts';

/**
 * The revocation bound with several stream shards, simulated on a fake clock: four shards, each
 * polled as Lambda polls them and served by its own container of the flusher function, take
 * turns receiving narrowing changes (one every 40 ms). The bound is the time from a change's
 * commit to the end of the first flush call that started after it.
 */

const SHARDS = 4;
const PACE_MS = 40;
const CHANGES = 250;
/** How long API Gateway takes to accept a flush (202), and DynamoDB one ledger round trip. */
const FLUSH_CALL_MS = 50;
const LEDGER_MS = 5;
const BOUND_MS = 2_000;

/** Commits CHANGES changes at the pace, dealt to the shards in turn; returns their commit times. */
async function commitChanges(shards: SimulatedShards): Promise<number[]> {
  const commits: number[] = [];
  for (let n = 0; n < CHANGES; n += 1) {
    commits.push(Date.now());
    shards.deliver(n % SHARDS, keyRemovedRecord(`A${n % SHARDS}`, `K${n}`));
    await vi.advanceTimersByTimeAsync(PACE_MS);
  }
  await vi.advanceTimersByTimeAsync(10_000);
  const stopping = shards.stop();
  await vi.advanceTimersByTimeAsync(1_000);
  await stopping;
  return commits;
}

function latencies(commits: readonly number[], cache: FakeAuthorizerCache): number[] {
  const succeeded = cache.calls.filter((f) => f.ok).sort((a, b) => a.start - b.start);
  return commits.map((at) => {
    const covering = succeeded.find((f) => f.start >= at);
    if (covering === undefined) throw new Error(`the change committed at ${at} was never flushed`);
    return covering.end - at;
  });
}

function p99(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(sorted.length * 0.99) - 1] ?? Number.NaN;
}

function minimumGap(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let gap = Number.POSITIVE_INFINITY;
  for (let i = 1; i < sorted.length; i += 1) gap = Math.min(gap, (sorted[i] ?? 0) - (sorted[i - 1] ?? 0));
  return gap;
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_700_000_000_000 });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('the revocation bound with several stream shards', () => {
  it('holds with four shards: every change flushed within 2 s at the 99th percentile, at most one flush call per window', async () => {
    const cache = new FakeAuthorizerCache({ callMs: FLUSH_CALL_MS });
    const ledger = new MemoryFlushLedger(LEDGER_MS);
    const shards = new SimulatedShards(SHARDS, () => createFlusherHandler(cache, ledger, quietLogger()));

    const commits = await commitChanges(shards);

    expect(shards.pending()).toBe(0);
    expect(p99(latencies(commits, cache))).toBeLessThan(BOUND_MS);
    expect(minimumGap(cache.calls.map((f) => f.start))).toBeGreaterThanOrEqual(DEFAULT_FLUSH_WINDOW_MS);
    // Coalesced across shards: about one call per window, not one per shard per window.
    expect(cache.calls.length).toBeLessThanOrEqual(Math.ceil((CHANGES * PACE_MS) / DEFAULT_FLUSH_WINDOW_MS) + 2);
  });

  it('holds through failed flushes: each change waits for a successful call that started after it, calls still a window apart', async () => {
    const cache = FakeAuthorizerCache.failingFirst(2, { callMs: FLUSH_CALL_MS });
    const ledger = new MemoryFlushLedger(LEDGER_MS);
    const shards = new SimulatedShards(SHARDS, () => createFlusherHandler(cache, ledger, quietLogger()));

    const commits = await commitChanges(shards);

    expect(cache.calls.filter((f) => !f.ok)).toHaveLength(2);
    expect(latencies(commits, cache)).toHaveLength(CHANGES);
    expect(minimumGap(cache.calls.map((f) => f.start))).toBeGreaterThanOrEqual(DEFAULT_FLUSH_WINDOW_MS);
  });
});
