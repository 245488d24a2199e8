import type { Keys, SmokeHttpClient } from '../http-client.ts';
import type { SmokeLedger } from '../cleanup.ts';
import type { SmokeReport } from '../report.ts';

/** What every check works with: the stack, the owner's keys, the ledger of what it makes, the report. */
export interface SmokeContext {
  readonly client: SmokeHttpClient;
  readonly owner: Keys;
  readonly ledger: SmokeLedger;
  readonly report: SmokeReport;
  /** The documented bound from a narrowing change's success to the first refusal, in ms. */
  readonly revocationBoundMs: number;
  readonly revocationTrials: number;
  readonly graceSeconds: number;
}

/** Who the owner's keys say the caller is: the account, the owner's user, and the address the stack sees. */
export interface Caller {
  readonly accountId: string | undefined;
  readonly userId: string | undefined;
  readonly sourceIp: string | undefined;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** How often a refusal (or a restored access) is looked for: fine enough to measure a local bound of about a second. */
export const POLL_INTERVAL_MS = 50;

export interface PollOutcome<T> {
  /** The last value seen: the one that satisfied `done`, or the last before giving up. */
  readonly last: T;
  readonly reached: boolean;
  /** Milliseconds from `since` to the answer that satisfied `done` (or to giving up). */
  readonly elapsedMs: number;
}

/**
 * Asks `probe` until `done` holds or `limitMs` has passed since `since` (a performance.now()
 * time): the first try is immediate, so a stack that refuses at once shows a few milliseconds.
 */
export async function pollUntil<T>(probe: () => Promise<T>, done: (value: T) => boolean, since: number, limitMs: number): Promise<PollOutcome<T>> {
  for (;;) {
    const value = await probe();
    const elapsedMs = Math.round(performance.now() - since);
    if (done(value)) return { last: value, reached: true, elapsedMs };
    if (elapsedMs >= limitMs) return { last: value, reached: false, elapsedMs };
    await sleep(POLL_INTERVAL_MS);
  }
}

/** How long a check waits for a refusal before calling it missing: twice the bound, so a slow one is measured, not cut off. */
export function pollLimitMs(context: SmokeContext): number {
  return Math.max(2 * context.revocationBoundMs, context.revocationBoundMs + 2000);
}

export function whoami(context: SmokeContext, keys: Keys): ReturnType<SmokeHttpClient['request']> {
  return context.client.request('/v1/whoami', { keys });
}
