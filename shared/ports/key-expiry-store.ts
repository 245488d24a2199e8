import type { AuditEvent } from '../domain/model.ts';

/**
 * A user key that DynamoDB's TTL removed some time after it expired, as the table's stream
 * reports the removal (shared/adapters/dynamodb/expired-keys.ts). TTL removes the key's item
 * and nothing else: its audit event and its holder's key list and count are left to
 * KeyExpiryStore.
 */
export interface ExpiredKey {
  readonly accountId: string;
  readonly keyId: string;
  /** The key's holder, whose key list and count still name it; null if the removed item does not say. */
  readonly userId: string | null;
  /** When the key stopped working (ISO 8601). */
  readonly expiresAt: string;
  /** When DynamoDB removed it, as the stream record tells (ISO 8601); null if the record does not say. */
  readonly removedAt: string | null;
}

/** What recording one expiry did: a delivery seen before (or a holder already gone) changes nothing. */
export interface KeyExpiryOutcome {
  /** The audit event was written now (false: an earlier delivery of the same removal wrote it). */
  readonly eventRecorded: boolean;
  /** The key left its holder's key list and count now (false: already gone, or the holder is). */
  readonly keyForgotten: boolean;
}

export interface KeyExpiryStore {
  /**
   * Records a TTL removal: the key off its holder's key list and count, only while the list
   * still names it, then the audit event once (put if absent, under an id and time that a
   * replay of the same removal derives again), so that an owner who reads the event finds the
   * holder free. Safe to repeat.
   */
  recordKeyExpiry(key: ExpiredKey, event: AuditEvent): Promise<KeyExpiryOutcome>;
}
