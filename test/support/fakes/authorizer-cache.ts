import type { AuthorizerCache } from '#shared/ports/authorizer-cache.ts';

/** One flush call as the fake saw it: when it started and ended (on its clock) and whether it succeeded. */
export interface FlushCall {
  readonly start: number;
  readonly end: number;
  readonly ok: boolean;
}

export interface FakeAuthorizerCacheOptions {
  /**
   * What the flush calls do, in order: an error makes that call fail with it, undefined lets it
   * succeed; calls past the end of the script succeed.
   * @default []
   */
  readonly outcomes?: readonly (Error | undefined)[];
  /** How long each call takes, on timers (fake timers included), like API Gateway accepting a flush. @default 0 */
  readonly callMs?: number;
  /** The clock the call times are read on. @default Date.now (fake timers included) */
  readonly now?: () => number;
}

/**
 * The authorizer cache every test uses in place of API Gateway's stage cache or the local
 * runtime's: it counts flushes, can be scripted to fail, times each call, and can run a hook
 * during a flush (to interleave a request with a revocation).
 */
export class FakeAuthorizerCache implements AuthorizerCache {
  /** Flush calls started. */
  flushes = 0;
  /** Flush calls finished, in the order they finished. */
  readonly calls: FlushCall[] = [];
  /** Runs inside each flush, after it is counted; its rejection fails the flush. */
  onFlush: (() => Promise<void>) | undefined;
  readonly #outcomes: (Error | undefined)[];
  readonly #callMs: number;
  readonly #now: () => number;

  constructor(options: FakeAuthorizerCacheOptions = {}) {
    this.#outcomes = [...(options.outcomes ?? [])];
    this.#callMs = options.callMs ?? 0;
    this.#now = options.now ?? (() => Date.now());
  }

  /** The start times of the finished calls, in order. */
  get starts(): number[] {
    return this.calls.map((call) => call.start);
  }

  /** A scripted failure the first `count` calls: each fails with an error naming the call. */
  static failingFirst(count: number, options: Omit<FakeAuthorizerCacheOptions, 'outcomes'> = {}): FakeAuthorizerCache {
    return new FakeAuthorizerCache({ ...options, outcomes: Array.from({ length: count }, (_, n) => new Error(`flush ${n + 1} failed`)) });
  }

  flush(): Promise<void> {
    this.flushes += 1;
    const start = this.#now();
    const outcome = this.#outcomes.shift();
    // Settled without a timer or hook the call stays synchronous, as a plain resolved promise.
    if (this.#callMs === 0 && this.onFlush === undefined) return this.#settle(start, outcome);
    return this.#slowFlush(start, outcome);
  }

  async #slowFlush(start: number, outcome: Error | undefined): Promise<void> {
    if (this.#callMs > 0) await new Promise((resolve) => setTimeout(resolve, this.#callMs));
    if (this.onFlush !== undefined) await this.onFlush();
    await this.#settle(start, outcome);
  }

  #settle(start: number, outcome: Error | undefined): Promise<void> {
    this.calls.push({ start, end: this.#now(), ok: outcome === undefined });
    return outcome === undefined ? Promise.resolve() : Promise.reject(outcome);
  }
}
