import type { ApiKey, AuditEvent } from '../domain/model.ts';
import type { AuthorizationRecords } from './credentials.ts';

/** A new secret's digest, made with the pepper of that version. */
export interface NewSecret {
  readonly hash: Uint8Array;
  readonly pepperVersion: number;
}

/** An account (its key) or, with `keyId`, one of its user keys. */
export interface SecretRef {
  readonly accountId: string;
  readonly keyId?: string | undefined;
}

export interface SecretsFound {
  readonly accounts: Map<string, NonNullable<AuthorizationRecords['account']>>;
  /** By `<accountId>/<keyId>`. */
  readonly keys: Map<string, NonNullable<AuthorizationRecords['key']>>;
}

/**
 * What a leak report records beside a write it made about a live key: the reported value's
 * SHA-256, so that a later report of the same value can tell it was a live key after the key
 * is gone (leaksRecorded). Never the value itself.
 */
export interface LeakRecord {
  /** The hex SHA-256 of the reported value. */
  readonly valueHash: string;
  /** ISO 8601: the record is kept at least until then. */
  readonly until: string;
}

/** A value reported leaked, by its account and its hex SHA-256. */
export interface LeakRef {
  readonly accountId: string;
  readonly valueHash: string;
}

/** Key lifecycle: rolls, grace periods and leak reports. Each write carries its audit event in the same transaction. */
export interface KeyLifecycleStore {
  /**
   * Gives the key a new secret. With a grace period the replaced secret stays valid until its
   * deadline (capped at the key's expiry), taking the place of any older one, whose grace ends
   * at once: never more than two live secrets. Conditioned on the digest first read, so that
   * of two concurrent rolls one fails (ConflictError) and a roll racing a delete finds nothing
   * (NotFoundError). An expired key cannot be rolled (ConflictError). `check` sees the key as
   * read and may refuse by throwing; the write is conditioned on the key's permissions it saw.
   */
  rollKey(
    accountId: string,
    keyId: string,
    secret: NewSecret,
    gracePeriodSeconds: number,
    at: Date,
    event: AuditEvent,
    check?: (key: ApiKey) => void,
  ): Promise<{ readonly key: ApiKey; readonly previousSecretExpiresAt: string | null }>;
  /** The same for the account key, which also clears a leak report about the key it replaces. */
  rollAccountKey(
    accountId: string,
    accountKey: NewSecret & { readonly ciphertext: Uint8Array; readonly masked: string },
    gracePeriodSeconds: number,
    at: Date,
    event: AuditEvent,
  ): Promise<{ readonly previousKeyExpiresAt: string | null }>;
  /** The digests of many accounts and keys at once (leak reports); what is not found is absent. */
  loadSecrets(refs: readonly SecretRef[]): Promise<SecretsFound>;
  /**
   * Deletes the key as deleteKey does, if `secretHash` is still its current secret; false (nothing deleted) otherwise.
   * Each leak report write below takes a `leak` record too: written in the same transaction as the write, or not at all.
   */
  deleteKeyIfSecret(accountId: string, keyId: string, secretHash: Uint8Array, event: AuditEvent, leak?: LeakRecord): Promise<boolean>;
  /** Ends a rolled user secret's grace now, if `hash` is still it; false if it no longer is. */
  endPreviousSecret(accountId: string, keyId: string, hash: Uint8Array, event: AuditEvent, leak?: LeakRecord): Promise<boolean>;
  /** Ends a rolled account key's grace now, if `hash` is still it. */
  endPreviousAccountKey(accountId: string, hash: Uint8Array, event: AuditEvent, leak?: LeakRecord): Promise<boolean>;
  /** Marks the account key as reported leaked, if `hash` is still the account key and not yet marked; false otherwise. */
  flagAccountKeyLeak(accountId: string, hash: Uint8Array, at: string, event: AuditEvent, leak?: LeakRecord): Promise<boolean>;
  /** The value hashes among `refs` whose leak record is there and kept until after `at` (one batched read). */
  leaksRecorded(refs: readonly LeakRef[], at: Date): Promise<ReadonlySet<string>>;
}
