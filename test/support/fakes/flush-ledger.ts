import type { FlushLedger, FlushLedgerState } from '#shared/ports/authorizer-cache.ts';

/**
 * A stage's flush ledger in memory, with the conditions of DynamoDbFlushLedger's writes, for
 * tests that run several flusher invocations on a fake clock. Each call takes `latencyMs`, as
 * a round trip to DynamoDB would.
 */
export class MemoryFlushLedger implements FlushLedger {
  #state: FlushLedgerState = { attempts: 0, succeeded: 0, nextAttemptAt: 0, failures: 0 };
  readonly #latencyMs: number;

  constructor(latencyMs = 0) {
    this.#latencyMs = latencyMs;
  }

  get state(): FlushLedgerState {
    return this.#state;
  }

  async read(): Promise<FlushLedgerState> {
    await this.#roundTrip();
    return this.#state;
  }

  async claim(seen: FlushLedgerState, now: number, nextAttemptAt: number): Promise<boolean> {
    await this.#roundTrip();
    if (this.#state.attempts !== seen.attempts || this.#state.nextAttemptAt > now) return false;
    this.#state = { ...this.#state, attempts: seen.attempts + 1, nextAttemptAt };
    return true;
  }

  async succeeded(attempt: number, nextAttemptAt: number): Promise<void> {
    await this.#roundTrip();
    if (this.#state.attempts === attempt) this.#state = { ...this.#state, succeeded: attempt, failures: 0, nextAttemptAt };
    else if (this.#state.succeeded < attempt) this.#state = { ...this.#state, succeeded: attempt };
  }

  async failed(attempt: number, failures: number, nextAttemptAt: number): Promise<void> {
    await this.#roundTrip();
    if (this.#state.attempts === attempt) this.#state = { ...this.#state, failures, nextAttemptAt };
  }

  #roundTrip(): Promise<void> {
    return this.#latencyMs === 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, this.#latencyMs));
  }
}
