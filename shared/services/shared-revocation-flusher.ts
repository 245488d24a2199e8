import type { AuthorizerCache, FlushLedger } from '../ports/authorizer-cache.ts';
import { DEFAULT_FLUSH_WINDOW_MS, DEFAULT_MAX_BACKOFF_MS, FlushNotDoneError, flushBackoffMs } from './revocation-flusher.ts';

/**
 * The coalescing flusher of revocation-flusher.ts for invocations that share no memory: the
 * flusher function on AWS, which the event source mapping runs once per stream shard at a
 * time, so that with several shards several invocations run at once. They agree through a
 * ledger (one conditional-write item per stage) on the rules the in-process flusher keeps in
 * memory: at most one flush call per window across all of them, backoff after a failure, and
 * a request is done once an attempt claimed after it began has succeeded, whichever
 * invocation made it.
 *
 * Why shared, not one invocation at a time (reserved concurrency 1): each shard's invocation
 * then waited behind the others' (each holding its batch up to a window), so a shard's
 * progress fell behind by a window per busy shard, and an invocation refused meanwhile is
 * retried at a pace AWS does not state: a change on that shard waited for the retry whenever
 * no other shard's flush happened to cover it. Here no invocation waits for another shard's,
 * only for the next window.
 */

/**
 * How long a claimed call holds the others off before its outcome is recorded: the window then
 * starts from when the call started, not from the claim. Past it, an invocation that died
 * mid-call is taken over. Longer than a flush call may take (two tries of at most 2 s).
 */
export const CLAIM_LEASE_MS = 10_000;

export interface SharedRevocationFlusherOptions {
  /** @default DEFAULT_FLUSH_WINDOW_MS */
  readonly windowMs?: number;
  /** @default DEFAULT_MAX_BACKOFF_MS */
  readonly maxBackoffMs?: number;
  /**
   * How often a waiting invocation reads the ledger to see another's attempt succeed.
   * @default a tenth of the window
   */
  readonly pollMs?: number;
  /** @default Infinity */
  readonly giveUpAfterMs?: number;
  /** Told about each failed attempt this invocation made (never a secret: the error of a management call). */
  readonly onFailure?: (error: unknown, attempt: number) => void;
  /** Epoch milliseconds: the ledger's times are compared across containers. @default Date.now */
  readonly now?: () => number;
  /** @default setTimeout */
  readonly sleep?: (milliseconds: number) => Promise<void>;
}

export class SharedRevocationFlusher {
  readonly #cache: AuthorizerCache;
  readonly #ledger: FlushLedger;
  readonly #windowMs: number;
  readonly #maxBackoffMs: number;
  readonly #pollMs: number;
  readonly #giveUpAfterMs: number;
  readonly #onFailure: ((error: unknown, attempt: number) => void) | undefined;
  readonly #now: () => number;
  readonly #sleep: (milliseconds: number) => Promise<void>;

  constructor(cache: AuthorizerCache, ledger: FlushLedger, options: SharedRevocationFlusherOptions = {}) {
    this.#cache = cache;
    this.#ledger = ledger;
    this.#windowMs = options.windowMs ?? DEFAULT_FLUSH_WINDOW_MS;
    this.#maxBackoffMs = options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
    this.#pollMs = options.pollMs ?? Math.max(1, Math.round(this.#windowMs / 10));
    this.#giveUpAfterMs = options.giveUpAfterMs ?? Number.POSITIVE_INFINITY;
    this.#onFailure = options.onFailure;
    this.#now = options.now ?? (() => Date.now());
    this.#sleep = options.sleep ?? ((milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds)));
  }

  get windowMs(): number {
    return this.#windowMs;
  }

  /**
   * Resolves once a flush that started after this call has succeeded; the caller already holds
   * the changes (a stream batch), so such a flush covers every one of them.
   */
  async request(): Promise<void> {
    const requestedAt = this.#now();
    let state = await this.#ledger.read();
    // Read after the changes committed: an attempt numbered higher is claimed, and so starts, later.
    const coveredFrom = state.attempts + 1;
    for (;;) {
      if (state.succeeded >= coveredFrom) return;
      const now = this.#now();
      if (now - requestedAt >= this.#giveUpAfterMs) throw new FlushNotDoneError();
      if (now >= state.nextAttemptAt) {
        if (await this.#ledger.claim(state, now, now + CLAIM_LEASE_MS)) {
          const attempt = state.attempts + 1;
          const startedAt = this.#now();
          try {
            await this.#cache.flush();
          } catch (error) {
            const failures = state.failures + 1;
            this.#onFailure?.(error, failures);
            await this.#ledger.failed(attempt, failures, this.#now() + flushBackoffMs(failures, error, this.#windowMs, this.#maxBackoffMs));
            state = await this.#ledger.read();
            continue;
          }
          await this.#ledger.succeeded(attempt, startedAt + this.#windowMs);
          return;
        }
      } else {
        // Another invocation's attempt may be under way: look again soon, at the latest when the next is due.
        await this.#sleep(Math.min(state.nextAttemptAt - now, this.#pollMs));
      }
      state = await this.#ledger.read();
    }
  }
}
