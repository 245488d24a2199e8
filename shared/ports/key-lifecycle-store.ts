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

/** Key lifecycle: rolls, grace periods and leak reports. Each write carries its audit event in the same transaction. */
export interface KeyLifecycleStore {
  /**
   * Gives the key a new secret. With a grace period the replaced secret stays valid until its
   * deadline (capped at the key's expiry), taking the place of any older one, whose grace ends
   * at once: never more than two live secrets. Conditioned on the digest first read, so that
   * of two concurrent rolls one fails (ConflictError) and a roll racing a delete finds nothing
   * (NotFoundError). An expired key cannot be rolled (ConflictError).
   */
  rollKey(
    accountId: string,
    keyId: string,
    secret: NewSecret,
    gracePeriodSeconds: number,
    at: Date,
    event: AuditEvent,
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
  /** Deletes the key as deleteKey does, if `secretHash` is still its current secret; false (nothing deleted) otherwise. */
  deleteKeyIfSecret(accountId: string, keyId: string, secretHash: Uint8Array, event: AuditEvent): Promise<boolean>;
  /** Ends a rolled user secret's grace now, if `hash` is still it; false if it no longer is. */
  endPreviousSecret(accountId: string, keyId: string, hash: Uint8Array, event: AuditEvent): Promise<boolean>;
  /** Ends a rolled account key's grace now, if `hash` is still it. */
  endPreviousAccountKey(accountId: string, hash: Uint8Array, event: AuditEvent): Promise<boolean>;
  /** Marks the account key as reported leaked, if `hash` is still the account key and not yet marked; false otherwise. */
  flagAccountKeyLeak(accountId: string, hash: Uint8Array, at: string, event: AuditEvent): Promise<boolean>;
}
