import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CidrAllowList, CidrRule } from '../domain/cidr.ts';
import type { Plan } from '../domain/plan.ts';
import type { Role } from '../domain/roles.ts';
import type { Account, AccountRecord, ApiKey, ApiKeyRecord, AuditEvent, Page, User } from '../domain/model.ts';
import type { AccountLimits } from '../ports/account-store.ts';
import type { AuthorizationRecords, CredentialStore } from '../ports/credentials.ts';
import type { ExpiredKey, KeyExpiryOutcome, KeyExpiryStore } from '../ports/key-expiry-store.ts';
import type { LeakRecord, LeakRef, NewSecret, SecretRef, SecretsFound } from '../ports/key-lifecycle-store.ts';
import type { Limits } from '../ports/limits.ts';
import type { ListOptions } from '../ports/list-options.ts';
import type { PepperStore, StoredPepper } from '../ports/pepper-store.ts';
import type { Store } from '../ports/store.ts';
import type { UsageKey } from '../ports/usage-plans.ts';
import { DynamoDbAccountStore } from './dynamodb/account-store.ts';
import { DynamoDbAllowListStore } from './dynamodb/allow-list-store.ts';
import { DynamoDbAuditStore } from './dynamodb/audit-store.ts';
import { DynamoDbCredentialStore } from './dynamodb/credential-store.ts';
import { DynamoDbKeyExpiryStore } from './dynamodb/key-expiry-store.ts';
import { DynamoDbKeyLifecycleStore } from './dynamodb/key-lifecycle-store.ts';
import { DynamoDbKeyStore } from './dynamodb/key-store.ts';
import { DynamoDbPepperStore } from './dynamodb/pepper-store.ts';
import { DynamoDbUserStore } from './dynamodb/user-store.ts';
import type { DynamoDbStoreOptions } from './dynamodb/table.ts';

export type { DynamoDbStoreOptions };

/**
 * Every store on the one DynamoDB table (layout: table-schema.ts) behind one object, for the
 * callers that need them all. Each resource's store lives in dynamodb/ and can be built alone
 * from the same `(client, tableName, options)`; this only hands each call to its store.
 *
 * Every write that can race is a conditional transaction: key-name reservations, per-user key
 * counts, the account's owner count and per-item revisions make the database, not the
 * caller, refuse the loser. A write that lost only a race is re-read and retried a bounded
 * number of times; a write whose condition says no becomes the domain error that explains it.
 */
export class DynamoDbStore implements Store, CredentialStore, PepperStore, KeyExpiryStore {
  readonly #credentials: DynamoDbCredentialStore;
  readonly #accounts: DynamoDbAccountStore;
  readonly #users: DynamoDbUserStore;
  readonly #keys: DynamoDbKeyStore;
  readonly #allowLists: DynamoDbAllowListStore;
  readonly #audit: DynamoDbAuditStore;
  readonly #peppers: DynamoDbPepperStore;
  readonly #lifecycle: DynamoDbKeyLifecycleStore;
  readonly #expiry: DynamoDbKeyExpiryStore;

  constructor(client: DynamoDBDocumentClient, tableName: string, options: DynamoDbStoreOptions = {}) {
    this.#credentials = new DynamoDbCredentialStore(client, tableName, options);
    this.#accounts = new DynamoDbAccountStore(client, tableName, options);
    this.#users = new DynamoDbUserStore(client, tableName, options);
    this.#keys = new DynamoDbKeyStore(client, tableName, options);
    this.#allowLists = new DynamoDbAllowListStore(client, tableName, options);
    this.#audit = new DynamoDbAuditStore(client, tableName, options);
    this.#peppers = new DynamoDbPepperStore(client, tableName, options);
    this.#lifecycle = new DynamoDbKeyLifecycleStore(client, tableName, options);
    this.#expiry = new DynamoDbKeyExpiryStore(client, tableName, options);
  }

  // Authorization (dynamodb/credential-store.ts)

  loadForAuthorization(accountId: string, keyId: string): Promise<AuthorizationRecords> {
    return this.#credentials.loadForAuthorization(accountId, keyId);
  }

  // Accounts (dynamodb/account-store.ts)

  createAccount(input: {
    readonly account: AccountRecord;
    readonly owner: User;
    readonly ownerKey: ApiKeyRecord;
    readonly event: AuditEvent;
    readonly usageKey?: UsageKey | undefined;
  }): Promise<void> {
    return this.#accounts.createAccount(input);
  }

  getAccount(accountId: string): Promise<AccountRecord | undefined> {
    return this.#accounts.getAccount(accountId);
  }

  getAccountLimits(accountId: string): Promise<AccountLimits> {
    return this.#accounts.getAccountLimits(accountId);
  }

  setPlan(accountId: string, plan: Plan | null, usageKey: UsageKey, event: AuditEvent): Promise<void> {
    return this.#accounts.setPlan(accountId, plan, usageKey, event);
  }

  setApiEnabled(accountId: string, enabled: boolean, event: AuditEvent): Promise<Account> {
    return this.#accounts.setApiEnabled(accountId, enabled, event);
  }

  // Users (dynamodb/user-store.ts)

  listUsers(accountId: string): Promise<readonly User[]> {
    return this.#users.listUsers(accountId);
  }

  getUser(accountId: string, userId: string): Promise<User | undefined> {
    return this.#users.getUser(accountId, userId);
  }

  createUser(user: User, event: AuditEvent): Promise<void> {
    return this.#users.createUser(user, event);
  }

  changeRole(
    accountId: string,
    userId: string,
    role: Role,
    event: AuditEvent,
  ): Promise<{ readonly user: User; readonly deletedKeyIds: readonly string[] }> {
    return this.#users.changeRole(accountId, userId, role, event);
  }

  deleteUser(accountId: string, userId: string, event: AuditEvent): Promise<{ readonly deletedKeyIds: readonly string[] }> {
    return this.#users.deleteUser(accountId, userId, event);
  }

  // Keys (dynamodb/key-store.ts)

  createKey(key: ApiKeyRecord, event: AuditEvent, limits: Limits): Promise<void> {
    return this.#keys.createKey(key, event, limits);
  }

  getKey(accountId: string, keyId: string): Promise<ApiKey | undefined> {
    return this.#keys.getKey(accountId, keyId);
  }

  listKeys(accountId: string, options: ListOptions & { readonly userId?: string | undefined }): Promise<Page<ApiKey>> {
    return this.#keys.listKeys(accountId, options);
  }

  deleteKey(accountId: string, keyId: string, event: AuditEvent): Promise<void> {
    return this.#keys.deleteKey(accountId, keyId, event);
  }

  setKeyPermissions(
    accountId: string,
    keyId: string,
    permissions: readonly string[] | null,
    audit: (current: { readonly key: ApiKey; readonly role: Role }) => AuditEvent,
  ): Promise<ApiKey> {
    return this.#keys.setKeyPermissions(accountId, keyId, permissions, audit);
  }

  recordKeyUse(accountId: string, keyId: string, at: string): Promise<void> {
    return this.#keys.recordKeyUse(accountId, keyId, at);
  }

  // Allow lists (dynamodb/allow-list-store.ts)

  editAllowList<T>(
    accountId: string,
    keyId: string,
    edit: (list: CidrAllowList) => { readonly list: CidrAllowList; readonly result: T },
    event: AuditEvent,
    limits: Limits,
  ): Promise<T> {
    return this.#allowLists.editAllowList(accountId, keyId, edit, event, limits);
  }

  addCidrRule(accountId: string, keyId: string, rule: CidrRule, event: AuditEvent, limits: Limits): Promise<CidrRule> {
    return this.#allowLists.addCidrRule(accountId, keyId, rule, event, limits);
  }

  // Audit events (dynamodb/audit-store.ts)

  recordEvent(event: AuditEvent): Promise<void> {
    return this.#audit.recordEvent(event);
  }

  listEvents(accountId: string, options: ListOptions): Promise<Page<AuditEvent>> {
    return this.#audit.listEvents(accountId, options);
  }

  // Peppers (dynamodb/pepper-store.ts)

  listPeppers(): Promise<readonly StoredPepper[]> {
    return this.#peppers.listPeppers();
  }

  addPepper(pepper: StoredPepper): Promise<boolean> {
    return this.#peppers.addPepper(pepper);
  }

  // Key lifecycle (dynamodb/key-lifecycle-store.ts)

  rollKey(
    accountId: string,
    keyId: string,
    secret: NewSecret,
    gracePeriodSeconds: number,
    at: Date,
    event: AuditEvent,
    check?: (key: ApiKey) => void,
  ): Promise<{ readonly key: ApiKey; readonly previousSecretExpiresAt: string | null }> {
    return this.#lifecycle.rollKey(accountId, keyId, secret, gracePeriodSeconds, at, event, check);
  }

  rollAccountKey(
    accountId: string,
    accountKey: NewSecret & { readonly ciphertext: Uint8Array; readonly masked: string },
    gracePeriodSeconds: number,
    at: Date,
    event: AuditEvent,
  ): Promise<{ readonly previousKeyExpiresAt: string | null }> {
    return this.#lifecycle.rollAccountKey(accountId, accountKey, gracePeriodSeconds, at, event);
  }

  loadSecrets(refs: readonly SecretRef[]): Promise<SecretsFound> {
    return this.#lifecycle.loadSecrets(refs);
  }

  deleteKeyIfSecret(accountId: string, keyId: string, secretHash: Uint8Array, event: AuditEvent, leak?: LeakRecord): Promise<boolean> {
    return this.#lifecycle.deleteKeyIfSecret(accountId, keyId, secretHash, event, leak);
  }

  endPreviousSecret(accountId: string, keyId: string, hash: Uint8Array, event: AuditEvent, leak?: LeakRecord): Promise<boolean> {
    return this.#lifecycle.endPreviousSecret(accountId, keyId, hash, event, leak);
  }

  endPreviousAccountKey(accountId: string, hash: Uint8Array, event: AuditEvent, leak?: LeakRecord): Promise<boolean> {
    return this.#lifecycle.endPreviousAccountKey(accountId, hash, event, leak);
  }

  flagAccountKeyLeak(accountId: string, hash: Uint8Array, at: string, event: AuditEvent, leak?: LeakRecord): Promise<boolean> {
    return this.#lifecycle.flagAccountKeyLeak(accountId, hash, at, event, leak);
  }

  leaksRecorded(refs: readonly LeakRef[], at: Date): Promise<ReadonlySet<string>> {
    return this.#lifecycle.leaksRecorded(refs, at);
  }

  // Key expiry (dynamodb/key-expiry-store.ts)

  recordKeyExpiry(key: ExpiredKey, event: AuditEvent): Promise<KeyExpiryOutcome> {
    return this.#expiry.recordKeyExpiry(key, event);
  }
}
