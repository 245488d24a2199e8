import { ACCOUNT_KEY_PATTERN, USER_KEY_PATTERN } from '../domain/key-format.ts';
import type { AuditEvent } from '../domain/model.ts';

/**
 * An audit event as it leaves Latchkey (DESIGN.md section 16): a local webhook's body
 * `{type, data}`, an EventBridge event's `DetailType` and `Detail`. `data` is the event as
 * `GET /v1/logs` shows it (AuditEventView) plus its account, so that one receiver can serve
 * many accounts.
 */
export interface Signal {
  /** The action, e.g. `api-key.create`. */
  readonly type: string;
  readonly data: SignalData;
}

/** The audit event as `GET /v1/logs` shows it, with its account: all of it but what it carries for its own checks. */
export type SignalData = Omit<AuditEvent, 'presentedSecrets'>;

/** Names a field of a signal may never have (a key's secret, its digest, or a secret's tag). */
const SECRET_FIELD_NAME = /secret|hash|digest|tag|pepper/i;

/**
 * The signal of an audit event. The fields are picked one by one, never spread, so that what an
 * event carries for its own checks (the presented secrets' tags) stays behind; and the result is
 * checked to hold no key-shaped string, since a signal leaves for systems Latchkey does not hold.
 */
export function signalOf(event: AuditEvent): Signal {
  const data: SignalData = {
    id: event.id,
    accountId: event.accountId,
    time: event.time,
    action: event.action,
    actor: { userId: event.actor.userId, keyId: event.actor.keyId },
    target: event.target,
    sourceIp: event.sourceIp,
    ...(event.permissions === undefined ? {} : { permissions: event.permissions }),
  };
  assertNoSecrets(data);
  return { type: event.action, data };
}

/** Throws if a value holds a key-shaped string or a field is named like a secret. */
export function assertNoSecrets(value: unknown, path = 'data'): void {
  if (typeof value === 'string') {
    if (ACCOUNT_KEY_PATTERN.test(value) || USER_KEY_PATTERN.test(value)) throw new Error(`a signal's ${path} holds a key`);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [name, field] of Object.entries(value)) {
    if (SECRET_FIELD_NAME.test(name)) throw new Error(`a signal may not carry ${path}.${name}`);
    assertNoSecrets(field, `${path}.${name}`);
  }
}
