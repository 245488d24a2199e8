import { describe, expect, it } from 'vitest';
import { FlushNotDoneError, FlushThrottledError, RevocationFlusher, flushWaitBoundMs } from '#shared/services/revocation-flusher.ts';
import type { AuthorizerCache } from '#shared/ports/authorizer-cache.ts';

/** A clock that only moves when the flusher sleeps, so that windows and backoffs are exact. */
function virtualTime(): { now: () => number; sleep: (ms: number) => Promise<void> } {
  let time = 0;
  return {
    now: () => time,
    sleep: async (ms) => {
      time += ms;
      await Promise.resolve();
    },
  };
}

class ScriptedCache implements AuthorizerCache {
  readonly at: number[] = [];
  constructor(
    private readonly clock: { now: () => number },
    private readonly outcomes: (Error | undefined)[] = [],
  ) {}

  flush(): Promise<void> {
    this.at.push(this.clock.now());
    const outcome = this.outcomes.shift();
    return outcome === undefined ? Promise.resolve() : Promise.reject(outcome);
  }
}

describe('RevocationFlusher', () => {
  it('serves every request made before a flush started with that one flush', async () => {
    const clock = virtualTime();
    const cache = new ScriptedCache(clock);
    const flusher = new RevocationFlusher(cache, { windowMs: 1000, ...clock });

    await Promise.all(Array.from({ length: 50 }, () => flusher.request()));

    expect(cache.at).toEqual([0]);
  });

  it('never starts two flushes within one window', async () => {
    const clock = virtualTime();
    const cache = new ScriptedCache(clock);
    const flusher = new RevocationFlusher(cache, { windowMs: 1000, ...clock });

    await flusher.request();
    await flusher.request();
    await flusher.request();

    expect(cache.at).toEqual([0, 1000, 2000]);
  });

  it('retries a failed flush with backoff, never sooner than the window or a throttle\'s Retry-After', async () => {
    const clock = virtualTime();
    const cache = new ScriptedCache(clock, [new Error('internal failure'), new FlushThrottledError(5000)]);
    const failures: number[] = [];
    const flusher = new RevocationFlusher(cache, { windowMs: 1000, ...clock, onFailure: (_e, attempt) => failures.push(attempt) });

    await flusher.request();

    expect(failures).toEqual([1, 2]);
    expect(cache.at).toHaveLength(3);
    expect((cache.at[1] ?? 0) - (cache.at[0] ?? 0)).toBeGreaterThanOrEqual(1000);
    expect((cache.at[2] ?? 0) - (cache.at[1] ?? 0)).toBeGreaterThanOrEqual(5000);
    expect(cache.at[1]).toBeLessThanOrEqual(flushWaitBoundMs(1, 1000));
  });

  it('gives up on a request after its budget, so that the stream delivers the change again', async () => {
    const clock = virtualTime();
    const cache = new ScriptedCache(clock, Array.from({ length: 20 }, () => new Error('down')));
    const flusher = new RevocationFlusher(cache, { windowMs: 1000, giveUpAfterMs: 10_000, ...clock });

    await expect(flusher.request()).rejects.toBeInstanceOf(FlushNotDoneError);
  });
});
