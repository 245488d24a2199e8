/** Drops every cached authorizer decision (API Gateway's stage cache, or the local runtime's). */
export interface AuthorizerCache {
  flush(): Promise<void>;
}

/** Where a stage's flush attempts stand, as every flusher invocation sees them. */
export interface FlushLedgerState {
  /** Attempts claimed so far; the next one is numbered `attempts + 1`. */
  readonly attempts: number;
  /** The highest-numbered attempt that succeeded (0: none). */
  readonly succeeded: number;
  /** Epoch milliseconds before which no attempt may be claimed (the window, or a failure's backoff). */
  readonly nextAttemptAt: number;
  /** Failed attempts since the last success. */
  readonly failures: number;
}

/**
 * The record of one stage's flush attempts shared by every flusher invocation (one per stream
 * shard on AWS), so that the window of one flush call holds across all of them.
 */
export interface FlushLedger {
  read(): Promise<FlushLedgerState>;
  /**
   * Claims attempt `seen.attempts + 1` and holds the next claim off until `nextAttemptAt`;
   * false when another invocation claimed since `seen` was read or the attempt is not due.
   */
  claim(seen: FlushLedgerState, now: number, nextAttemptAt: number): Promise<boolean>;
  /**
   * Records that `attempt` succeeded (a later attempt's success is never overwritten) and, unless
   * a later attempt was claimed meanwhile, that the next is due at `nextAttemptAt`.
   */
  succeeded(attempt: number, nextAttemptAt: number): Promise<void>;
  /** Records that `attempt` failed: the next claim waits until `nextAttemptAt`. */
  failed(attempt: number, failures: number, nextAttemptAt: number): Promise<void>;
}
