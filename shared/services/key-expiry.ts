import type { Logger } from '@aws-lambda-powertools/logger';
import { SYSTEM_ACTOR } from '../domain/audit.ts';
import { derivedId } from '../domain/derived-id.ts';
import type { AuditEvent } from '../domain/model.ts';
import type { ExpiredKey, KeyExpiryStore } from '../ports/key-expiry-store.ts';

/**
 * What follows DynamoDB's TTL removing an expired user key. TTL deletes the key's item and
 * tells nobody; the table's stream reports it (to the table signals function on AWS, to the
 * stream poller locally), and this records it:
 * - an audit event `api-key.expire` on the key's account, by the system (no user, no key, no
 *   address), naming the key like the other key events;
 * - the key taken off its holder's key list and count, so that the holder may hold a new one.
 *
 * Streams deliver at least once, and a failed batch is delivered again: a replay writes
 * nothing more. The event's id and time are derived from the removal itself, so a replay puts
 * the same item, which the store writes only if absent; the holder's update is conditioned on
 * the list still naming the key.
 *
 * The event's time is when DynamoDB removed the key (the stream record's time), not its
 * `expiresAt`: the audit log reads newest first, and an event dated at the expiry would land
 * behind events written since (on AWS TTL removes an item within days of its expiry), where a
 * reader who follows the log from the top would never see it. It is never earlier than the
 * expiry (DynamoDB Local dates its records to the minute).
 */

export const KEY_EXPIRE_ACTION = 'api-key.expire';

export interface KeyExpiryDeps {
  readonly store: KeyExpiryStore;
  readonly logger: Logger;
}

/** The audit event of one TTL removal: the same for every delivery of that removal. */
export function keyExpiryEvent(key: ExpiredKey): AuditEvent {
  const expiredAt = Date.parse(key.expiresAt);
  const removedAt = key.removedAt === null ? Number.NaN : Date.parse(key.removedAt);
  const time = new Date(Number.isNaN(removedAt) ? expiredAt : Math.max(removedAt, expiredAt)).toISOString();
  return {
    // A key id is never reused, and TTL removes a key once: one expiry event per key.
    id: derivedId(KEY_EXPIRE_ACTION, key.accountId, key.keyId),
    accountId: key.accountId,
    time,
    action: KEY_EXPIRE_ACTION,
    actor: { userId: SYSTEM_ACTOR.userId, keyId: SYSTEM_ACTOR.keyId },
    target: `api-key/${key.keyId}`,
    sourceIp: SYSTEM_ACTOR.sourceIp,
  };
}

/**
 * Records each TTL removal of a key, in order. A fault is thrown after the removals before it
 * were recorded: the caller delivers the batch again, and those are not recorded twice.
 */
export async function recordKeyExpiries(deps: KeyExpiryDeps, keys: readonly ExpiredKey[]): Promise<void> {
  for (const key of keys) {
    const outcome = await deps.store.recordKeyExpiry(key, keyExpiryEvent(key));
    // Ids and times only: the removed item's digests never reach a log.
    deps.logger.info('expired key removed by TTL', {
      accountId: key.accountId,
      keyId: key.keyId,
      userId: key.userId,
      expiresAt: key.expiresAt,
      removedAt: key.removedAt,
      ...outcome,
    });
  }
}
