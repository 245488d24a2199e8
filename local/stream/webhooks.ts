import type { Logger } from '@aws-lambda-powertools/logger';
import { Webhook } from 'standardwebhooks';
import { insertedAuditEvent } from '#shared/adapters/dynamodb/audit-inserts.ts';
import type { TableChange } from '#shared/adapters/dynamodb/narrowing.ts';
import type { AuditEvent } from '#shared/domain/model.ts';
import { type Signal, signalOf } from '#shared/services/signals.ts';

/**
 * The local runtime's webhooks (docs/signals.md): each new audit event, as the table's stream
 * gives it, POSTed to `--events-url` as `{type, data}` and signed as Standard Webhooks specify,
 * by the `standardwebhooks` library, with the secret in LATCHKEY_EVENTS_SECRET.
 *
 * Delivery runs beside the stream, never in its way: accept() only queues, so a slow or down
 * receiver holds neither a request nor a revocation flush. Each account has its own queue,
 * delivered in order, its head retried with back-off until the receiver takes it; the other
 * accounts go on meanwhile.
 */

export const EVENTS_SECRET_VARIABLE = 'LATCHKEY_EVENTS_SECRET';

/** The prefix Standard Webhooks give a secret, before its base64. */
const SECRET_PREFIX = 'whsec_';
/** Standard Webhooks ask for 24 to 64 random bytes. */
const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;

export interface WebhookRetry {
  /** @default 1 s */
  readonly firstDelayMs: number;
  /** @default 60 s */
  readonly maxDelayMs: number;
  /** An event still undelivered this long after its first try is given up (and logged). @default 6 h */
  readonly giveUpAfterMs: number;
}

export const DEFAULT_WEBHOOK_RETRY: WebhookRetry = { firstDelayMs: 1_000, maxDelayMs: 60_000, giveUpAfterMs: 6 * 3_600_000 };
/** How long one attempt waits for the receiver's answer. */
const ATTEMPT_TIMEOUT_MS = 10_000;
/** How many delivered or queued event ids are remembered, so that a batch the stream gives again is not sent twice. */
const REMEMBERED_IDS = 10_000;

export class EventsSecretError extends Error {
  constructor(problem: string) {
    super(`${EVENTS_SECRET_VARIABLE} ${problem}: give it as ${SECRET_PREFIX} followed by the base64 of ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} random bytes`);
    this.name = 'EventsSecretError';
  }
}

/** The secret from its variable's value, checked; the error names the variable, never the value. */
export function parseEventsSecret(raw: string | undefined): string {
  if (raw === undefined || raw === '') throw new EventsSecretError('is not set');
  if (!raw.startsWith(SECRET_PREFIX)) throw new EventsSecretError(`does not start with ${SECRET_PREFIX}`);
  const encoded = raw.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) throw new EventsSecretError('is not base64 after its prefix');
  const bytes = Buffer.from(encoded, 'base64').length;
  if (bytes < MIN_SECRET_BYTES || bytes > MAX_SECRET_BYTES) throw new EventsSecretError(`holds ${bytes} bytes`);
  return raw;
}

export interface WebhookSenderOptions {
  readonly url: string;
  /** `whsec_`-prefixed base64, as parseEventsSecret checked it. */
  readonly secret: string;
  readonly logger: Logger;
  /** @default DEFAULT_WEBHOOK_RETRY */
  readonly retry?: Partial<WebhookRetry>;
  /** @default the clock */
  readonly now?: () => Date;
}

export class WebhookSender {
  readonly #url: string;
  readonly #webhook: Webhook;
  readonly #logger: Logger;
  readonly #retry: WebhookRetry;
  readonly #now: () => Date;
  readonly #queues = new Map<string, Signal[]>();
  readonly #draining = new Map<string, Promise<void>>();
  readonly #seen = new Set<string>();
  readonly #stopping = new AbortController();
  #delivered = 0;

  constructor(options: WebhookSenderOptions) {
    this.#url = options.url;
    this.#webhook = new Webhook(options.secret);
    this.#logger = options.logger;
    this.#retry = { ...DEFAULT_WEBHOOK_RETRY, ...options.retry };
    this.#now = options.now ?? (() => new Date());
  }

  /** Queues the new audit events of a batch of the table's stream (its onChanges), in the batch's order. */
  acceptChanges(changes: readonly TableChange[]): void {
    const events: AuditEvent[] = [];
    for (const change of changes) {
      const event = insertedAuditEvent(change);
      if (event !== undefined) events.push(event);
    }
    this.accept(events);
  }

  /** Queues the events for delivery and returns at once; an event already queued or sent is not queued again. */
  accept(events: readonly AuditEvent[]): void {
    for (const event of events) {
      if (this.#stopping.signal.aborted || this.#seen.has(event.id)) continue;
      let signal: Signal;
      try {
        signal = signalOf(event);
      } catch (error) {
        // Never sent: the refusal says why, and the event is named by its id alone.
        this.#logger.error('audit event not sent as a webhook', { eventId: event.id, reason: error instanceof Error ? error.message : String(error) });
        continue;
      }
      this.#remember(event.id);
      const queue = this.#queues.get(event.accountId);
      if (queue === undefined) this.#queues.set(event.accountId, [signal]);
      else queue.push(signal);
      if (!this.#draining.has(event.accountId)) {
        this.#draining.set(
          event.accountId,
          this.#drain(event.accountId)
            // Nothing in a delivery is meant to throw; should it, the runtime goes on and says so.
            .catch((error: unknown) => {
              this.#logger.error('webhook delivery stopped for an account', { accountId: event.accountId, reason: error instanceof Error ? error.name : 'unknown' });
            })
            .finally(() => this.#draining.delete(event.accountId)),
        );
      }
    }
  }

  /** Events the receiver took so far. */
  get delivered(): number {
    return this.#delivered;
  }

  /** Resolves once every queued event is delivered or given up. */
  async idle(): Promise<void> {
    while (this.#draining.size > 0) await Promise.all([...this.#draining.values()]);
  }

  /** Stops delivering: events still queued are not sent. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await Promise.all([...this.#draining.values()]);
  }

  #remember(id: string): void {
    this.#seen.add(id);
    if (this.#seen.size > REMEMBERED_IDS) {
      const oldest = this.#seen.values().next();
      if (oldest.done !== true) this.#seen.delete(oldest.value);
    }
  }

  async #drain(accountId: string): Promise<void> {
    const queue = this.#queues.get(accountId);
    while (queue !== undefined && queue.length > 0 && !this.#stopping.signal.aborted) {
      const head = queue[0];
      if (head !== undefined) await this.#deliver(head);
      queue.shift();
    }
    this.#queues.delete(accountId);
  }

  /** Tries one event until the receiver takes it, the retry window closes, or the sender stops. */
  async #deliver(signal: Signal): Promise<void> {
    const body = JSON.stringify(signal);
    const firstTry = Date.now();
    let delay = this.#retry.firstDelayMs;
    for (let attempt = 1; !this.#stopping.signal.aborted; attempt++) {
      const failure = await this.#attempt(signal.data.id, body);
      if (failure === undefined) {
        this.#delivered++;
        return;
      }
      // Only ids, the action and why: the URL may hold a token, and the body is the receiver's.
      const about = { eventId: signal.data.id, action: signal.type, accountId: signal.data.accountId, attempt, failure };
      if (Date.now() - firstTry + delay > this.#retry.giveUpAfterMs) {
        this.#logger.error('webhook delivery given up', about);
        return;
      }
      this.#logger.warn('webhook delivery failed; retrying', { ...about, retryInMs: delay });
      await sleep(delay, this.#stopping.signal);
      delay = Math.min(delay * 2, this.#retry.maxDelayMs);
    }
  }

  /** One POST, signed now (receivers refuse old timestamps); undefined when taken, else why not. */
  async #attempt(id: string, body: string): Promise<string | undefined> {
    const timestamp = this.#now();
    const headers = {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': this.#webhook.sign(id, timestamp, body),
    };
    try {
      const response = await fetch(this.#url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(ATTEMPT_TIMEOUT_MS), this.#stopping.signal]),
      });
      await response.body?.cancel();
      return response.ok ? undefined : `HTTP ${response.status}`;
    } catch (error) {
      return failureOf(error);
    }
  }
}

/** A network failure's code (ECONNREFUSED, a timeout), never its message: that may quote the URL. */
function failureOf(error: unknown): string {
  if (error instanceof Error) {
    const cause: unknown = error.cause;
    if (typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string') return cause.code;
    return error.name;
  }
  return 'unknown';
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
