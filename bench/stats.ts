/**
 * Timing and summary helpers. Every figure the benchmark prints is computed here from
 * samples taken in the same run; nothing is carried over between runs.
 */

export interface LatencySummary {
  readonly samples: number;
  readonly medianUs: number;
  readonly p99Us: number;
  readonly meanUs: number;
  /** Sequential calls per second: samples divided by the wall time of the timed loop. */
  readonly perSecond: number;
}

/** Nearest-rank percentile of sorted values (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error('no samples');
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) throw new Error('no samples');
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function summarize(durationsNs: readonly bigint[], wallNs: bigint): LatencySummary {
  const us = durationsNs.map((d) => Number(d) / 1000).sort((a, b) => a - b);
  const total = us.reduce((sum, v) => sum + v, 0);
  return {
    samples: us.length,
    medianUs: percentile(us, 50),
    p99Us: percentile(us, 99),
    meanUs: total / us.length,
    perSecond: us.length / (Number(wallNs) / 1e9),
  };
}

/**
 * Runs `operation` `warmup` times untimed (JIT, caches, connection pools), then `iterations`
 * times one after the other, timing each call on its own with the monotonic clock.
 */
export async function measureAsync(operation: () => Promise<unknown>, iterations: number, warmup: number): Promise<LatencySummary> {
  for (let i = 0; i < warmup; i += 1) await operation();
  const durations: bigint[] = new Array<bigint>(iterations);
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i += 1) {
    const t0 = process.hrtime.bigint();
    await operation();
    durations[i] = process.hrtime.bigint() - t0;
  }
  return summarize(durations, process.hrtime.bigint() - started);
}

export function measureSync(operation: () => unknown, iterations: number, warmup: number): LatencySummary {
  for (let i = 0; i < warmup; i += 1) operation();
  const durations: bigint[] = new Array<bigint>(iterations);
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i += 1) {
    const t0 = process.hrtime.bigint();
    operation();
    durations[i] = process.hrtime.bigint() - t0;
  }
  return summarize(durations, process.hrtime.bigint() - started);
}

export function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? Number.NaN : numerator / denominator;
}
