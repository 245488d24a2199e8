import { describe, expect, it } from 'vitest';
import { FlushNotDoneError, FlushThrottledError, RevocationFlusher, flushWaitBoundMs } from '#shared/services/revocation-flusher.ts';
import { FakeAuthorizerCache } from '#test/support/fakes/authorizer-cache.ts';

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

describe('RevocationFlusher', () => {
  it('serves every request made before a flush started with that one flush', async () => {
    const clock = virtualTime();
    const cache = new FakeAuthorizerCache({ now: clock.now });
    const flusher = new RevocationFlusher(cache, { windowMs: 1000, ...clock });

    await Promise.all(Array.from({ length: 50 }, () => flusher.request()));

    expect(cache.starts).toEqual([0]);
  });

  it('never starts two flushes within one window', async () => {
    const clock = virtualTime();
    const cache = new FakeAuthorizerCache({ now: clock.now });
    const flusher = new RevocationFlusher(cache, { windowMs: 1000, ...clock });

    await flusher.request();
    await flusher.request();
    await flusher.request();

    expect(cache.starts).toEqual([0, 1000, 2000]);
  });

  it('retries a failed flush with backoff, never sooner than the window or a throttle\'s Retry-After', async () => {
    const clock = virtualTime();
    const cache = new FakeAuthorizerCache({ now: clock.now, outcomes: [new Error('internal failure'), new FlushThrottledError(5000)] });
    const failures: number[] = [];
    const flusher = new RevocationFlusher(cache, { windowMs: 1000, ...clock, onFailure: (_e, attempt) => failures.push(attempt) });

    await flusher.request();

    expect(failures).toEqual([1, 2]);
    expect(cache.starts).toHaveLength(3);
    expect((cache.starts[1] ?? 0) - (cache.starts[0] ?? 0)).toBeGreaterThanOrEqual(1000);
    expect((cache.starts[2] ?? 0) - (cache.starts[1] ?? 0)).toBeGreaterThanOrEqual(5000);
    expect(cache.starts[1]).toBeLessThanOrEqual(flushWaitBoundMs(1, 1000));
  });

  it('gives up on a request after its budget, so that the stream delivers the change again', async () => {
    const clock = virtualTime();
    const cache = new FakeAuthorizerCache({ now: clock.now, outcomes: Array.from({ length: 20 }, () => new Error('down')) });
    const flusher = new RevocationFlusher(cache, { windowMs: 1000, giveUpAfterMs: 10_000, ...clock });

    await expect(flusher.request()).rejects.toBeInstanceOf(FlushNotDoneError);
  });
});
