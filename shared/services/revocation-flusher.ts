import type { AuthorizerCache } from '../ports/authorizer-cache.ts';

/**
 * The durable half of revocation. A change that narrows access commits first; the table's
 * stream then carries it here (the local runtime's stream poller; the flusher function on AWS
 * keeps the same rules across its invocations through a ledger, shared-revocation-flusher.ts), and
 * this flushes the stage's authorizer cache: at most once per window however many changes
 * arrived, retrying with backoff until a flush that started after the change has succeeded.
 *
 * Why coalesce: API Gateway's management calls share one account-wide budget (10 requests per
 * second, burst 40, not raisable), and each flush empties every tenant's cached decisions.
 * One flush per window serves every change that arrived before it started, so one account's
 * flood of narrowing changes costs the same single flush per window as one change, and cannot
 * starve another account's revocation: that waits at most one window behind the flood.
 */

/** How often the stage cache may be flushed at most: one call per window. */
export const DEFAULT_FLUSH_WINDOW_MS = 1_000;
/** The longest pause between attempts when the flush keeps failing. */
export const DEFAULT_MAX_BACKOFF_MS = 8_000;

/** API Gateway refused the flush for its rate limit; retry no sooner than `retryAfterMs`, if given. */
export class FlushThrottledError extends Error {
  readonly retryAfterMs: number | undefined;

  constructor(retryAfterMs?: number, options?: ErrorOptions) {
    super('the authorizer cache flush was throttled', options);
    this.name = 'FlushThrottledError';
    this.retryAfterMs = retryAfterMs;
  }
}

/** The flush did not succeed within the flusher's budget; the caller must retry the changes (the stream does). */
export class FlushNotDoneError extends Error {
  constructor(options?: ErrorOptions) {
    super('the authorizer cache could not be flushed within the time allowed', options);
    this.name = 'FlushNotDoneError';
  }
}

export interface RevocationFlusherOptions {
  /** @default DEFAULT_FLUSH_WINDOW_MS */
  readonly windowMs?: number;
  /** @default DEFAULT_MAX_BACKOFF_MS */
  readonly maxBackoffMs?: number;
  /**
   * How long one request may wait for its flush before it fails with FlushNotDoneError; the
   * flusher function sets it inside its Lambda timeout so that the batch is retried.
   * @default Infinity: keep trying (the local runtime)
   */
  readonly giveUpAfterMs?: number;
  /** Told about each failed attempt (never a secret: the error of a management call). */
  readonly onFailure?: (error: unknown, attempt: number) => void;
  /** @default performance.now */
  readonly now?: () => number;
  /** @default setTimeout */
  readonly sleep?: (milliseconds: number) => Promise<void>;
}

interface Waiter {
  readonly requestedAt: number;
  resolve(): void;
  reject(error: unknown): void;
}

export class RevocationFlusher {
  readonly #cache: AuthorizerCache;
  readonly #windowMs: number;
  readonly #maxBackoffMs: number;
  readonly #giveUpAfterMs: number;
  readonly #onFailure: ((error: unknown, attempt: number) => void) | undefined;
  readonly #now: () => number;
  readonly #sleep: (milliseconds: number) => Promise<void>;
  #waiters: Waiter[] = [];
  #lastAttemptAt = Number.NEGATIVE_INFINITY;
  #running = false;
  #calls = 0;
  readonly #callTimes: number[] = [];

  constructor(cache: AuthorizerCache, options: RevocationFlusherOptions = {}) {
    this.#cache = cache;
    this.#windowMs = options.windowMs ?? DEFAULT_FLUSH_WINDOW_MS;
    this.#maxBackoffMs = Math.max(options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS, this.#windowMs);
    this.#giveUpAfterMs = options.giveUpAfterMs ?? Number.POSITIVE_INFINITY;
    this.#onFailure = options.onFailure;
    this.#now = options.now ?? (() => performance.now());
    this.#sleep = options.sleep ?? ((milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds)));
  }

  get windowMs(): number {
    return this.#windowMs;
  }

  /** Flush calls made so far (attempts, failed ones included). */
  get calls(): number {
    return this.#calls;
  }

  /** When the most recent calls started (at most the last 1000), on this flusher's clock. */
  get callTimes(): readonly number[] {
    return this.#callTimes;
  }

  /**
   * Asks for a flush that starts after now. Resolves once one has succeeded; many requests
   * share one flush.
   */
  request(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ requestedAt: this.#now(), resolve, reject });
      if (!this.#running) {
        this.#running = true;
        void this.#run();
      }
    });
  }

  async #run(): Promise<void> {
    let attempt = 0;
    let pauseUntil = Number.NEGATIVE_INFINITY;
    // Requests made in the same step as the first (one stream batch, a burst) share its flush.
    await Promise.resolve();
    while (this.#waiters.length > 0) {
      // At most one call per window, and after a failure not before its backoff.
      const startAt = Math.max(this.#lastAttemptAt + this.#windowMs, pauseUntil);
      // A timer may fire a fraction of a millisecond early: wait until the clock agrees.
      for (let wait = startAt - this.#now(); wait > 0; wait = startAt - this.#now()) await this.#sleep(Math.ceil(wait));
      this.#failExpired();
      if (this.#waiters.length === 0) break;
      // Every change requested so far is covered by a flush that starts now.
      const served = this.#waiters;
      this.#waiters = [];
      this.#lastAttemptAt = this.#now();
      this.#calls += 1;
      this.#callTimes.push(this.#lastAttemptAt);
      if (this.#callTimes.length > 1000) this.#callTimes.shift();
      try {
        await this.#cache.flush();
        attempt = 0;
        pauseUntil = Number.NEGATIVE_INFINITY;
        for (const waiter of served) waiter.resolve();
      } catch (error) {
        attempt += 1;
        this.#onFailure?.(error, attempt);
        // Not served: they wait for the next attempt, with whatever arrived meanwhile.
        this.#waiters = [...served, ...this.#waiters];
        pauseUntil = this.#now() + this.#backoff(attempt, error);
        this.#failExpired(error);
      }
    }
    // Cleared in the same step as the loop found no waiter (no await between), so that a
    // request made after it starts a new run instead of joining one that has ended.
    this.#running = false;
  }

  #backoff(attempt: number, error: unknown): number {
    return flushBackoffMs(attempt, error, this.#windowMs, this.#maxBackoffMs);
  }

  #failExpired(cause?: unknown): void {
    if (this.#giveUpAfterMs === Number.POSITIVE_INFINITY) return;
    const now = this.#now();
    const expired = this.#waiters.filter((waiter) => now - waiter.requestedAt >= this.#giveUpAfterMs);
    if (expired.length === 0) return;
    this.#waiters = this.#waiters.filter((waiter) => now - waiter.requestedAt < this.#giveUpAfterMs);
    for (const waiter of expired) waiter.reject(new FlushNotDoneError(cause === undefined ? undefined : { cause }));
  }
}

/**
 * The pause after the `attempt`th failure in a row: exponential with full jitter above the
 * window, and never sooner than a throttle's Retry-After.
 */
export function flushBackoffMs(attempt: number, error: unknown, windowMs: number, maxBackoffMs: number): number {
  const ceiling = Math.min(Math.max(maxBackoffMs, windowMs), windowMs * 2 ** (attempt - 1));
  const jittered = windowMs + Math.random() * Math.max(0, ceiling - windowMs);
  const retryAfter = error instanceof FlushThrottledError ? (error.retryAfterMs ?? 0) : 0;
  return Math.max(jittered, retryAfter);
}

/**
 * The longest a narrowing change waits, once the stream delivered it, for a flush that covers
 * it to be accepted, when the first `failedAttempts` attempts fail: one window, then each
 * failure's backoff ceiling (a throttle's Retry-After of API Gateway is 1 s, within it).
 */
export function flushWaitBoundMs(
  failedAttempts = 0,
  windowMs = DEFAULT_FLUSH_WINDOW_MS,
  maxBackoffMs = DEFAULT_MAX_BACKOFF_MS,
): number {
  let bound = windowMs;
  for (let attempt = 1; attempt <= failedAttempts; attempt += 1) bound += Math.min(Math.max(maxBackoffMs, windowMs), windowMs * 2 ** (attempt - 1));
  return bound;
}
