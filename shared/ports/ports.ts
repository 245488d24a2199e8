import type { CidrAllowList, CidrRule } from '../domain/cidr.ts';
import type { Plan } from '../domain/plan.ts';
import type { Role } from '../domain/roles.ts';
import type { Account, AccountRecord, ApiKey, ApiKeyRecord, AuditEvent, Page, User } from '../domain/model.ts';

/**
 * Ports: what the domain and the handlers need from the outside world. Adapters (DynamoDB,
 * KMS, API Gateway, and the local stand-ins) implement them and take their SDK client in
 * the constructor.
 *
 * Expected refusals surface as the domain's errors (NotFoundError, ConflictError,
 * LimitExceededError, RoleCannotHoldKeysError, ValidationError for a bad cursor); anything
 * else an adapter throws is a fault.
 */

/** Everything the authorizer decides on, from one round trip. */
export interface AuthorizationRecords {
  readonly account:
    | {
        readonly apiEnabled: boolean;
        readonly accountKeyHash: Uint8Array;
        readonly accountKeyPepperVersion: number;
        /** The account key's secret tag (domain/secret-tags.ts); absent on an account stored before tags. */
        readonly accountKeyTag?: string | undefined;
        /** The account key before its last roll, with its deadline in epoch milliseconds. */
        readonly previousAccountKey?: AuthorizationSecret | undefined;
        /** The account's own plan; absent: the deployment's default plan. */
        readonly plan?: Plan | undefined;
        /** The value of the account's usage-plan key, which the authorizer hands API Gateway. */
        readonly usageIdentifierKey?: string | undefined;
      }
    | undefined;
  readonly key:
    | {
        readonly userId: string;
        readonly role: Role;
        readonly secretHash: Uint8Array;
        readonly pepperVersion: number;
        /** The secret's tag (domain/secret-tags.ts); absent on a key stored before tags. */
        readonly secretTag?: string | undefined;
        readonly cidrs: readonly string[];
        /** Epoch milliseconds after which the key no longer works; undefined = never. */
        readonly expiresAt?: number | undefined;
        /** The secret before the key's last roll, with its deadline. */
        readonly previousSecret?: AuthorizationSecret | undefined;
      }
    | undefined;
}

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

/** A digest that stops matching at `expiresAt` (epoch milliseconds). */
export interface AuthorizationSecret {
  readonly hash: Uint8Array;
  readonly pepperVersion: number;
  readonly expiresAt: number;
  /** Absent on a secret stored before tags. */
  readonly tag?: string | undefined;
}

export interface CredentialStore {
  /** Exactly one database round trip (one BatchGetItem), strongly consistent so revocation is immediate. */
  loadForAuthorization(accountId: string, keyId: string): Promise<AuthorizationRecords>;
}

export interface StoredPepper {
  readonly version: number;
  readonly ciphertext: Uint8Array;
}

export interface PepperStore {
  listPeppers(): Promise<readonly StoredPepper[]>;
  /** Stores a new version; false if that version already exists (another writer won). */
  addPepper(pepper: StoredPepper): Promise<boolean>;
}

export interface Secrets {
  /** A new random 32-byte pepper, returned only as ciphertext bound to its version. */
  generatePepper(version: number): Promise<Uint8Array>;
  decryptPepper(version: number, ciphertext: Uint8Array): Promise<Uint8Array>;
  /** Account keys are encrypted with a context bound to their account. */
  encryptAccountKey(accountId: string, accountKey: string): Promise<Uint8Array>;
  decryptAccountKey(accountId: string, ciphertext: Uint8Array): Promise<string>;
}

/** Drops every cached authorizer decision (API Gateway's stage cache, or the local runtime's). */
export interface AuthorizerCache {
  flush(): Promise<void>;
}

/** Where a stage's flush attempts stand, as every flusher invocation sees them. */
export interface FlushLedgerState {
  /** Attempts claimed so far; the next one is numbered `attempts + 1`. */
  readonly attempts: number;
  /** The highest-numbered attempt that succeeded (0: none). */
  readonly succeeded: number;
  /** Epoch milliseconds before which no attempt may be claimed (the window, or a failure's backoff). */
  readonly nextAttemptAt: number;
  /** Failed attempts since the last success. */
  readonly failures: number;
}

/**
 * The record of one stage's flush attempts shared by every flusher invocation (one per stream
 * shard on AWS), so that the window of one flush call holds across all of them.
 */
export interface FlushLedger {
  read(): Promise<FlushLedgerState>;
  /**
   * Claims attempt `seen.attempts + 1` and holds the next claim off until `nextAttemptAt`;
   * false when another invocation claimed since `seen` was read or the attempt is not due.
   */
  claim(seen: FlushLedgerState, now: number, nextAttemptAt: number): Promise<boolean>;
  /**
   * Records that `attempt` succeeded (a later attempt's success is never overwritten) and, unless
   * a later attempt was claimed meanwhile, that the next is due at `nextAttemptAt`.
   */
  succeeded(attempt: number, nextAttemptAt: number): Promise<void>;
  /** Records that `attempt` failed: the next claim waits until `nextAttemptAt`. */
  failed(attempt: number, failures: number, nextAttemptAt: number): Promise<void>;
}

export interface Limits {
  readonly keysPerUser: number;
  readonly rulesPerKey: number;
}

export interface ListOptions {
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export interface Store {
  createAccount(input: {
    readonly account: AccountRecord;
    readonly owner: User;
    readonly ownerKey: ApiKeyRecord;
    readonly event: AuditEvent;
    readonly usageKey?: UsageKey | undefined;
  }): Promise<void>;
  /** The account's plan (undefined: the default plan) and usage-plan key; NotFoundError without the account. */
  getAccountLimits(accountId: string): Promise<AccountLimits>;
  /** Stores the account's plan (null: back to the default) and its usage-plan key with the event, in one transaction. */
  setPlan(accountId: string, plan: Plan | null, usageKey: UsageKey, event: AuditEvent): Promise<void>;
  getAccount(accountId: string): Promise<AccountRecord | undefined>;
  setApiEnabled(accountId: string, enabled: boolean, event: AuditEvent): Promise<Account>;

  listUsers(accountId: string): Promise<readonly User[]>;
  getUser(accountId: string, userId: string): Promise<User | undefined>;
  createUser(user: User, event: AuditEvent): Promise<void>;
  /**
   * Changes a user's role and the copy of it on each of their keys, in one transaction; a role
   * that may not hold keys deletes the user's keys in that transaction instead. Refuses
   * (ConflictError) to leave the account without an owner.
   */
  changeRole(
    accountId: string,
    userId: string,
    role: Role,
    event: AuditEvent,
  ): Promise<{ readonly user: User; readonly deletedKeyIds: readonly string[] }>;
  /** Deletes the user and all their keys in one transaction; never the last owner. */
  deleteUser(accountId: string, userId: string, event: AuditEvent): Promise<{ readonly deletedKeyIds: readonly string[] }>;

  /**
   * Creates a key if its name is free in the account, its user still exists with the role the
   * record carries (one that may hold keys), and the user is under the key limit.
   */
  createKey(key: ApiKeyRecord, event: AuditEvent, limits: Limits): Promise<void>;
  getKey(accountId: string, keyId: string): Promise<ApiKey | undefined>;
  listKeys(accountId: string, options: ListOptions & { readonly userId?: string | undefined }): Promise<Page<ApiKey>>;
  deleteKey(accountId: string, keyId: string, event: AuditEvent): Promise<void>;
  /**
   * Applies `edit` to the key's current allow list and stores the result with the event,
   * atomically; a concurrent edit makes it re-read and re-apply, so nothing is lost.
   */
  editAllowList<T>(
    accountId: string,
    keyId: string,
    edit: (list: CidrAllowList) => { readonly list: CidrAllowList; readonly result: T },
    event: AuditEvent,
    limits: Limits,
  ): Promise<T>;
  /**
   * Appends one rule to the key's allow list in a single conditional write: refuses a full list
   * (LimitExceededError) or a CIDR already on it (ConflictError) with the same answers as
   * CidrAllowList.add. It never re-reads and re-applies, so many adds racing on one key cost one
   * write each instead of retrying against every other winner.
   */
  addCidrRule(accountId: string, keyId: string, rule: CidrRule, event: AuditEvent, limits: Limits): Promise<CidrRule>;
  /** Best effort, for `lastUsedAt`. */
  recordKeyUse(accountId: string, keyId: string, at: string): Promise<void>;

  recordEvent(event: AuditEvent): Promise<void>;

  // Key lifecycle. Each write carries its audit event in the same transaction.

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
  /** Newest first. */
  listEvents(accountId: string, options: ListOptions): Promise<Page<AuditEvent>>;
}

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

/**
 * An account's usage-plan key: an API Gateway API key (or the local runtime's stand-in) that
 * only the authorizer ever presents, as `usageIdentifierKey`. Never shown to anyone.
 */
export interface UsageKey {
  readonly id: string;
  readonly value: string;
  /** The usage plan the key is associated with; null locally. */
  readonly usagePlanId: string | null;
}

export interface AccountLimits {
  readonly plan: Plan | undefined;
  readonly usageKey: UsageKey | undefined;
}

/** What an account has used of its plan in the current period. */
export interface UsageFigures {
  readonly used: number;
  readonly remaining: number | null;
}

/**
 * Per-account usage plans: API Gateway's (usage plans, API keys and their usage data), or the
 * local runtime's limiter. The domain decides which plan an account is on; this applies it.
 */
export interface UsagePlans {
  /** A new usage-plan key for the account, associated with the usage plan of `plan` (null: the default plan). */
  createKey(accountId: string, plan: Plan | null): Promise<UsageKey>;
  /** Removes the key and its association; a key already gone is not an error. */
  deleteKey(key: UsageKey): Promise<void>;
  /** Associates the key with the usage plan of `plan` instead of its current one; returns the key as now associated. */
  assignPlan(key: UsageKey, plan: Plan | null): Promise<UsageKey>;
  /** Requests counted for the key from `from` (a period start) to `at`. */
  usage(accountId: string, key: UsageKey | undefined, plan: Plan, from: Date, at: Date): Promise<UsageFigures>;
}

export type { CidrRule };
