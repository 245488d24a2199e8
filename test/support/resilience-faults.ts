import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * Fault injection for the resilience tests. Every outgoing SDK call (DynamoDB through client
 * middleware, KMS through the mocked client) passes through one injector, which numbers the
 * calls in the order they are made and can make exactly one of them fail.
 *
 * Modes:
 * - `error`: the call fails before it reaches the service (as once the SDK's retries ran out);
 * - `timeout`: the call fails after a short wait with a `TimeoutError`, as the SDK's request
 *   timeout or an abort signal would make it fail;
 * - `hang`: the call never answers;
 * - `answer-lost`: the service does the work, then the answer is lost (a reset connection):
 *   the caller sees a fault for a write that did happen.
 */
export type FaultMode = 'error' | 'timeout' | 'hang' | 'answer-lost';

export const FAULT_MODES: readonly FaultMode[] = ['error', 'timeout', 'hang', 'answer-lost'];

const TIMEOUT_AFTER_MS = 20;

export interface RecordedCall {
  /** 1-based position of the call since the last reset. */
  readonly index: number;
  readonly name: string;
  readonly input: unknown;
}

/** Thrown in place of a service's answer. Its message carries a marker so tests can prove it never reaches a client. */
export class InjectedFaultError extends Error {
  constructor(message: string, name = 'InternalServerError') {
    super(message);
    this.name = name;
  }
}

export class FaultInjector {
  /** A random string in every injected error message: if it shows up in a response, internals leaked. */
  readonly marker = `injected-fault-${randomUUID()}`;
  readonly #calls: RecordedCall[] = [];
  #target: { readonly call: number | string; readonly mode: FaultMode } | undefined;
  #hung = 0;

  get calls(): readonly RecordedCall[] {
    return this.#calls;
  }

  /** How many calls were left hanging (never answered) since the last reset. */
  get hung(): number {
    return this.#hung;
  }

  /** Forgets the calls made so far and disarms: the next call is number 1 again. */
  reset(): void {
    this.#calls.length = 0;
    this.#target = undefined;
    this.#hung = 0;
  }

  /**
   * The call numbered `call` (counted from the last reset), or the next call of the command
   * named `call`, will fail in `mode`. Only one call fails: the injector disarms itself.
   */
  arm(call: number | string, mode: FaultMode): void {
    this.#target = { call, mode };
  }

  disarm(): void {
    this.#target = undefined;
  }

  async run<T>(name: string, input: unknown, call: () => Promise<T>): Promise<T> {
    const index = this.#calls.length + 1;
    this.#calls.push({ index, name, input });
    const target = this.#target;
    if (target === undefined || (target.call !== index && target.call !== name)) return call();
    this.#target = undefined;
    switch (target.mode) {
      case 'error':
        throw new InjectedFaultError(`${this.marker}: ${name} failed`);
      case 'timeout':
        await new Promise((resolve) => setTimeout(resolve, TIMEOUT_AFTER_MS));
        throw new InjectedFaultError(`${this.marker}: ${name} timed out`, 'TimeoutError');
      case 'hang':
        this.#hung += 1;
        return new Promise<T>(() => undefined);
      case 'answer-lost':
        await call();
        throw new InjectedFaultError(`${this.marker}: ${name} connection reset after the request was sent`, 'ECONNRESET');
    }
  }

  /**
   * Routes every command of `client` (and of document clients built on it, which share its
   * middleware stack) through this injector. Added at the `initialize` step, before the SDK's
   * retries: an injected failure is the call's final outcome, as when every retry failed.
   */
  instrument(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => (args) => this.run(context.commandName ?? 'unknown', args.input, () => next(args)),
      { step: 'initialize', name: 'latchkeyFaultInjection', priority: 'high', override: true },
    );
  }
}
