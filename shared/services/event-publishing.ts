import type { Logger } from '@aws-lambda-powertools/logger';
import type { AuditEvent } from '../domain/model.ts';
import { SIGNAL_BUS_BATCH_SIZE, type SignalBus } from '../ports/signal-bus.ts';
import { type Signal, signalOf } from './signals.ts';

/**
 * Every new audit event out to a signal bus (EventBridge on AWS), at least once. The table's
 * stream hands the publisher its new audit items; each becomes a signal (./signals.ts: never a
 * key, secret or digest) and they are put in batches of at most 10, in the stream's order.
 * Entries the bus refuses are put again, with backoff, a few times; a batch still refused, or a
 * call still failing, is answered as failed records, which the stream delivers again (from the
 * first of them on: records after it come twice, which at-least-once allows).
 */

/** One new audit event and the stream record it came in (its sequence number, for a failure report). */
export interface PublishableEvent {
  readonly recordId: string;
  readonly event: AuditEvent;
}

export interface EventPublishingDeps {
  readonly bus: SignalBus;
  readonly logger: Logger;
  /** Waits between attempts (a test passes one that does not). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Attempts per batch: the first and up to three retries of what was refused, 100, 200 and 400 ms apart. */
export const PUT_ATTEMPTS = 4;
const FIRST_BACKOFF_MS = 100;

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Puts each event's signal on the bus; answers the record ids of those it could not put. */
export async function publishAuditEvents(deps: EventPublishingDeps, events: readonly PublishableEvent[]): Promise<string[]> {
  const failed: string[] = [];
  for (let start = 0; start < events.length; start += SIGNAL_BUS_BATCH_SIZE) {
    const batch = events.slice(start, start + SIGNAL_BUS_BATCH_SIZE).map((item) => ({ recordId: item.recordId, signal: signalOf(item.event) }));
    failed.push(...(await putWithRetries(deps, batch)));
  }
  return failed;
}

async function putWithRetries(deps: EventPublishingDeps, batch: readonly { recordId: string; signal: Signal }[]): Promise<string[]> {
  const sleep = deps.sleep ?? realSleep;
  let pending = batch;
  for (let attempt = 1; attempt <= PUT_ATTEMPTS && pending.length > 0; attempt += 1) {
    if (attempt > 1) await sleep(FIRST_BACKOFF_MS * 2 ** (attempt - 2));
    try {
      const accepted = await deps.bus.put(pending.map((item) => item.signal));
      pending = pending.filter((_item, index) => accepted[index] !== true);
    } catch (error) {
      // The whole call failed (throttled, a network fault): every entry of it is still pending.
      deps.logger.warn('putting signals failed', { attempt, entries: pending.length, error });
      continue;
    }
    if (pending.length > 0) deps.logger.warn('the bus refused some signals', { attempt, refused: pending.length });
  }
  // Ids and actions only: what a signal carries stays out of the function's log.
  if (pending.length > 0) deps.logger.error('signals not put', { records: pending.map((item) => item.recordId), actions: pending.map((item) => item.signal.type) });
  return pending.map((item) => item.recordId);
}
