import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { CidrAllowList, type CidrRule } from '../domain/cidr.ts';
import { ConflictError, LimitExceededError, NotFoundError, ValidationError } from '../domain/errors.ts';
import { type Role, canHoldKeys } from '../domain/roles.ts';
import { digestsEqual } from '../domain/hashing.ts';
import { graceDeadline, hasExpired } from '../domain/key-lifecycle.ts';
import { MAX_KEYS_PER_USER } from './environment.ts';
import type { Plan } from '../domain/plan.ts';
import type { Account, AccountRecord, ApiKey, ApiKeyRecord, AuditEvent, Page, User } from '../domain/model.ts';
import type { AccountLimits } from '../ports/account-store.ts';
import type { AuthorizationRecords, CredentialStore } from '../ports/credentials.ts';
import type { ExpiredKey, KeyExpiryOutcome, KeyExpiryStore } from '../ports/key-expiry-store.ts';
import type { Limits } from '../ports/limits.ts';
import type { ListOptions } from '../ports/list-options.ts';
import type { NewSecret, SecretRef, SecretsFound } from '../ports/key-lifecycle-store.ts';
import type { PepperStore, StoredPepper } from '../ports/pepper-store.ts';
import type { Store } from '../ports/store.ts';
import type { UsageKey } from '../ports/usage-plans.ts';
import { authorizationLimitsFromItem, planAttribute, planFromItem, usageKeyAttributes, usageKeyFromItem } from './dynamodb/plan-items.ts';
import { type CursorShape, decodeCursor, pageFromQuery } from './dynamodb/cursor.ts';
import {
  ACCOUNT_KEY_TAGS,
  ACCOUNT_PREFIX,
  CONFIG_PK,
  EVENT_PREFIX,
  type Item,
  KEY_PREFIX,
  KEY_SECRET_TAGS,
  META_SK,
  PEPPER_PREFIX,
  USER_PREFIX,
  accountFromItem,
  accountItem,
  accountPk,
  accountRecordFromItem,
  allowListFromAttributes,
  apiKeyFromItem,
  authorizationAccountFromItem,
  authorizationKeyFromItem,
  cidrSet,
  eventFromItem,
  eventItem,
  keyItem,
  keyNameItem,
  keyNameSk,
  keySk,
  pepperFromItem,
  pepperSk,
  readBinary,
  readNumber,
  readRole,
  readRules,
  readString,
  readStringSet,
  rolledSecretTags,
  rulesItem,
  userFromItem,
  userIndexPk,
  userItem,
  userSk,
} from './dynamodb/items.ts';
import {
  MAX_ATTEMPTS,
  RETRY_BUDGET_MS,
  type Cancellation,
  backoff,
  backoffDelay,
  pause,
  transactWrite,
} from './dynamodb/transactions.ts';
import type { TransactItem } from './dynamodb/transact-item.ts';
import { BY_USER_INDEX } from './table-schema.ts';

export interface DynamoDbStoreOptions {
  /** Audit events expire this many days after they happen (DynamoDB TTL); 0 or absent keeps them. */
  readonly auditRetentionDays?: number;
}

/** A user as read for a write that must not race: its keys and the revision the write is conditioned on. */
interface UserState {
  readonly user: User;
  readonly keyIds: readonly string[];
  readonly rev: number;
}

const MAX_LIST_LIMIT = 1000;

const PREVIOUS_SECRET_NAMES = {
  '#previousHash': 'previousSecretHash',
  '#previousPepperVersion': 'previousPepperVersion',
  '#previousExpiresAt': 'previousSecretExpiresAt',
} as const;

const ACCOUNT_KEY_NAMES = {
  '#hash': 'accountKeyHash',
  '#pepperVersion': 'accountKeyPepperVersion',
  '#ciphertext': 'accountKeyCiphertext',
  '#masked': 'accountKeyMasked',
  '#previousHash': 'previousAccountKeyHash',
  '#previousPepperVersion': 'previousAccountKeyPepperVersion',
  '#previousExpiresAt': 'previousAccountKeyExpiresAt',
} as const;

const LAST_OWNER = 'the account must keep at least one owner';

/**
 * The Store, CredentialStore and PepperStore on one DynamoDB table (layout: table-schema.ts).
 *
 * Every write that can race is a conditional transaction: key-name reservations, per-user key
 * counts, the account's owner count and per-item revisions make the database, not the
 * caller, refuse the loser. A write that lost only a race is re-read and retried a bounded
 * number of times; a write whose condition says no becomes the domain error that explains it.
 */
export class DynamoDbStore implements Store, CredentialStore, PepperStore, KeyExpiryStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #retentionDays: number;

  constructor(client: DynamoDBDocumentClient, tableName: string, options: DynamoDbStoreOptions = {}) {
    this.#client = client;
    this.#tableName = tableName;
    this.#retentionDays = options.auditRetentionDays ?? 0;
  }

  // Authorization

  async loadForAuthorization(accountId: string, keyId: string): Promise<AuthorizationRecords> {
    const pk = accountPk(accountId);
    const metaKey = { pk, sk: META_SK };
    const keyKey = { pk, sk: keySk(keyId) };
    const output = await this.#client.send(
      new BatchGetCommand({
        RequestItems: {
          [this.#tableName]: {
            Keys: [metaKey, keyKey],
            // Strongly consistent: a deleted key, removed rule or disabled API must stop working at once.
            ConsistentRead: true,
            ProjectionExpression:
              '#sk, #apiEnabled, #accountKeyHash, #accountKeyPepperVersion, #plan, #usageKeyValue, #userId, #role, #secretHash, #pepperVersion, #rules, ' +
              // Key lifecycle: the key's expiry and the secrets a roll replaced, while their grace lasts.
              '#keyExpiresAt, #prevHash, #prevPepperVersion, #prevExpiresAt, #prevAccountKeyHash, #prevAccountKeyPepperVersion, #prevAccountKeyExpiresAt, ' +
              // Which secret matched: its tag travels with the Allow (domain/secret-tags.ts).
              '#secretTag, #prevSecretTag, #accountKeyTag, #prevAccountKeyTag',
            ExpressionAttributeNames: {
              '#sk': 'sk',
              '#apiEnabled': 'apiEnabled',
              '#accountKeyHash': 'accountKeyHash',
              '#accountKeyPepperVersion': 'accountKeyPepperVersion',
              '#plan': 'plan',
              '#usageKeyValue': 'usageKeyValue',
              '#userId': 'userId',
              '#role': 'role',
              '#secretHash': 'secretHash',
              '#pepperVersion': 'pepperVersion',
              '#rules': 'rules',
              '#keyExpiresAt': 'keyExpiresAt',
              '#prevHash': 'previousSecretHash',
              '#prevPepperVersion': 'previousPepperVersion',
              '#prevExpiresAt': 'previousSecretExpiresAt',
              '#prevAccountKeyHash': 'previousAccountKeyHash',
              '#prevAccountKeyPepperVersion': 'previousAccountKeyPepperVersion',
              '#prevAccountKeyExpiresAt': 'previousAccountKeyExpiresAt',
              '#secretTag': KEY_SECRET_TAGS.current,
              '#prevSecretTag': KEY_SECRET_TAGS.previous,
              '#accountKeyTag': ACCOUNT_KEY_TAGS.current,
              '#prevAccountKeyTag': ACCOUNT_KEY_TAGS.previous,
            },
          },
        },
      }),
    );
    // A partial answer could read as "no such key" or miss an allow list: fail closed, and
    // leave retrying to the caller's next request rather than spend the authorizer's budget.
    const unprocessed = output.UnprocessedKeys ?? {};
    if (Object.values(unprocessed).some((entry) => (entry.Keys?.length ?? 0) > 0)) {
      throw new Error('the authorization read came back incomplete');
    }
    const items = output.Responses?.[this.#tableName] ?? [];
    const meta = items.find((item) => item.sk === metaKey.sk);
    const key = items.find((item) => item.sk === keyKey.sk);
    return {
      account: meta === undefined ? undefined : { ...authorizationAccountFromItem(meta), ...authorizationLimitsFromItem(meta) },
      key: key === undefined ? undefined : authorizationKeyFromItem(key),
    };
  }

  // Accounts

  async createAccount(input: {
    readonly account: AccountRecord;
    readonly owner: User;
    readonly ownerKey: ApiKeyRecord;
    readonly event: AuditEvent;
    readonly usageKey?: UsageKey | undefined;
  }): Promise<void> {
    const { account, owner, ownerKey, event, usageKey } = input;
    if (owner.accountId !== account.id || ownerKey.accountId !== account.id || ownerKey.userId !== owner.id || owner.role !== 'owner') {
      throw new Error('an account is created with its own owner and that owner\'s key');
    }
    const cancellation = await transactWrite(this.#client, [
      this.#putNew({ ...accountItem(account, 1), ...usageKeyAttributes(usageKey) }),
      this.#putNew(userItem(owner, [ownerKey.id])),
      this.#putNew(keyItem(ownerKey)),
      this.#putNew(keyNameItem(ownerKey)),
      this.#putEvent(event),
    ]);
    if (cancellation !== undefined) {
      if (cancellation.onlyConflicts) throw new ConflictError('the account is being created concurrently; retry');
      throw new ConflictError('the account already exists');
    }
  }

  async getAccount(accountId: string): Promise<AccountRecord | undefined> {
    const item = await this.#get(accountPk(accountId), META_SK);
    return item === undefined ? undefined : accountRecordFromItem(item);
  }

  async getAccountLimits(accountId: string): Promise<AccountLimits> {
    const item = await this.#get(accountPk(accountId), META_SK);
    if (item === undefined) throw new NotFoundError('account');
    return { plan: planFromItem(item), usageKey: usageKeyFromItem(item) };
  }

  async setPlan(accountId: string, plan: Plan | null, usageKey: UsageKey, event: AuditEvent): Promise<void> {
    const key = usageKeyAttributes(usageKey);
    const names: Record<string, string> = { '#pk': 'pk', '#plan': 'plan', '#usagePlanId': 'usagePlanId' };
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    for (const [name, value] of Object.entries(key)) {
      names[`#${name}`] = name;
      values[`:${name}`] = value;
      sets.push(`#${name} = :${name}`);
    }
    if (plan !== null) {
      values[':plan'] = planAttribute(plan);
      sets.push('#plan = :plan');
    }
    const removes = [...(plan === null ? ['#plan'] : []), ...(usageKey.usagePlanId === null ? ['#usagePlanId'] : [])];
    const cancellation = await transactWrite(this.#client, [
      {
        Update: {
          TableName: this.#tableName,
          Key: { pk: accountPk(accountId), sk: META_SK },
          UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        },
      },
      this.#putEvent(event),
    ]);
    if (cancellation === undefined) return;
    if (cancellation.failed(0)) throw new NotFoundError('account');
    throw new ConflictError('the account changed concurrently; retry');
  }

  async setApiEnabled(accountId: string, enabled: boolean, event: AuditEvent): Promise<Account> {
    await this.#retrying('the account changed concurrently; retry', async () => {
      const cancellation = await transactWrite(this.#client, [
        {
          Update: {
            TableName: this.#tableName,
            Key: { pk: accountPk(accountId), sk: META_SK },
            UpdateExpression: 'SET #apiEnabled = :enabled',
            ConditionExpression: 'attribute_exists(#pk)',
            ExpressionAttributeNames: { '#pk': 'pk', '#apiEnabled': 'apiEnabled' },
            ExpressionAttributeValues: { ':enabled': enabled },
          },
        },
        this.#putEvent(event),
      ]);
      if (cancellation === undefined) return true;
      if (cancellation.failed(0)) throw new NotFoundError('account');
      return undefined;
    });
    const item = await this.#get(accountPk(accountId), META_SK);
    if (item === undefined) throw new NotFoundError('account');
    return accountFromItem(item);
  }

  // Users

  async listUsers(accountId: string): Promise<readonly User[]> {
    const items = await this.#queryAll({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
      ExpressionAttributeValues: { ':pk': accountPk(accountId), ':prefix': USER_PREFIX },
    });
    return items.map(userFromItem);
  }

  async getUser(accountId: string, userId: string): Promise<User | undefined> {
    const item = await this.#get(accountPk(accountId), userSk(userId));
    return item === undefined ? undefined : userFromItem(item);
  }

  async createUser(user: User, event: AuditEvent): Promise<void> {
    // The account must exist; a new owner also counts towards the owners the account keeps.
    const accountWrite: TransactItem =
      user.role === 'owner'
        ? this.#ownerCountChange(user.accountId, 1)
        : {
            ConditionCheck: {
              TableName: this.#tableName,
              Key: { pk: accountPk(user.accountId), sk: META_SK },
              ConditionExpression: 'attribute_exists(#pk)',
              ExpressionAttributeNames: { '#pk': 'pk' },
            },
          };
    await this.#retrying('the account changed concurrently; retry', async () => {
      const cancellation = await transactWrite(this.#client, [this.#putNew(userItem(user, [])), accountWrite, this.#putEvent(event)]);
      if (cancellation === undefined) return true;
      if (cancellation.failed(1)) throw new NotFoundError('account');
      if (cancellation.failed(0)) throw new ConflictError('the user already exists');
      return undefined;
    });
  }

  async changeRole(
    accountId: string,
    userId: string,
    role: Role,
    event: AuditEvent,
  ): Promise<{ readonly user: User; readonly deletedKeyIds: readonly string[] }> {
    const namesTaken = new Set<string>();
    return this.#retrying('the user changed concurrently; retry', async () => {
      const state = await this.#readUserState(accountId, userId);
      const wasOwner = state.user.role === 'owner';
      const isOwner = role === 'owner';
      // A role that may not hold keys takes the user's keys away for good: keeping them with a
      // refused role would bring every old secret back with a later promotion.
      const keysGo = !canHoldKeys(role) && state.keyIds.length > 0;
      const names = await this.#liveKeyNames(accountId, state.keyIds);
      const live = state.keyIds.filter((keyId) => names.has(keyId));
      // Keys DynamoDB's TTL removed are forgotten in the same write (#liveKeyNames).
      const removed = state.keyIds.filter((keyId) => !names.has(keyId));
      const forget = !keysGo && removed.length > 0;
      const userUpdate = keysGo
        ? 'SET #role = :role, #rev = #rev + :one, #keyCount = :zero REMOVE #keyIds'
        : forget
          ? 'SET #role = :role, #rev = #rev + :one ADD #keyCount :forgotten DELETE #keyIds :removed'
          : 'SET #role = :role, #rev = #rev + :one';
      const deletes = keysGo ? this.#deleteKeys(accountId, live.map((keyId) => ({ keyId, name: names.get(keyId) ?? '' })), namesTaken, 1) : undefined;
      const items: TransactItem[] = [
        {
          Update: {
            TableName: this.#tableName,
            Key: { pk: accountPk(accountId), sk: userSk(userId) },
            UpdateExpression: userUpdate,
            ConditionExpression: '#rev = :rev',
            ExpressionAttributeNames: {
              '#role': 'role',
              '#rev': 'rev',
              ...(keysGo || forget ? { '#keyCount': 'keyCount', '#keyIds': 'keyIds' } : {}),
            },
            ExpressionAttributeValues: {
              ':role': role,
              ':rev': state.rev,
              ':one': 1,
              ...(keysGo ? { ':zero': 0 } : {}),
              ...(forget ? { ':forgotten': -removed.length, ':removed': new Set(removed) } : {}),
            },
          },
        },
        ...(deletes !== undefined
          ? deletes.items
          : // Each key carries its holder's role so that the authorizer decides from one read.
            live.map(
              (keyId): TransactItem => ({
                Update: {
                  TableName: this.#tableName,
                  Key: { pk: accountPk(accountId), sk: keySk(keyId) },
                  UpdateExpression: 'SET #role = :role',
                  ConditionExpression: 'attribute_exists(#pk)',
                  ExpressionAttributeNames: { '#pk': 'pk', '#role': 'role' },
                  ExpressionAttributeValues: { ':role': role },
                },
              }),
            )),
      ];
      const ownerChange = wasOwner === isOwner ? undefined : this.#ownerCountChange(accountId, isOwner ? 1 : -1);
      if (ownerChange !== undefined) items.push(ownerChange);
      items.push(this.#putEvent(event));
      const cancellation = await transactWrite(this.#client, items);
      if (cancellation === undefined) return { user: { ...state.user, role }, deletedKeyIds: keysGo ? live : [] };
      if (deletes !== undefined && this.#namesTaken(cancellation, deletes.reservations, namesTaken)) return 'continue';
      // A stale read (the user or their keys changed) is retried first: the re-read may show
      // that the demotion no longer removes an owner.
      if (cancellation.onlyConflicts || cancellation.failed(0)) return undefined;
      if (ownerChange !== undefined && cancellation.failed(items.length - 2)) {
        if (!isOwner) throw new ConflictError(LAST_OWNER);
        throw new NotFoundError('account');
      }
      return undefined;
    });
  }

  async deleteUser(accountId: string, userId: string, event: AuditEvent): Promise<{ readonly deletedKeyIds: readonly string[] }> {
    const namesTaken = new Set<string>();
    return this.#retrying('the user changed concurrently; retry', async () => {
      const state = await this.#readUserState(accountId, userId);
      // Keys DynamoDB's TTL removed are gone already: nothing to delete for them (#liveKeyNames).
      const names = await this.#liveKeyNames(accountId, state.keyIds);
      const live = state.keyIds.filter((keyId) => names.has(keyId));
      const isOwner = state.user.role === 'owner';
      // One transaction: the user, each key with its name reservation, the owner count and the
      // event (2n + 3 items, within DynamoDB's 100 because MAX_KEYS_PER_USER is 48).
      const deletes = this.#deleteKeys(accountId, live.map((keyId) => ({ keyId, name: names.get(keyId) ?? '' })), namesTaken, 1);
      const items: TransactItem[] = [
        {
          Delete: {
            TableName: this.#tableName,
            Key: { pk: accountPk(accountId), sk: userSk(userId) },
            ConditionExpression: '#rev = :rev',
            ExpressionAttributeNames: { '#rev': 'rev' },
            ExpressionAttributeValues: { ':rev': state.rev },
          },
        },
        ...deletes.items,
      ];
      if (isOwner) items.push(this.#ownerCountChange(accountId, -1));
      items.push(this.#putEvent(event));
      const cancellation = await transactWrite(this.#client, items);
      if (cancellation === undefined) return { deletedKeyIds: live };
      if (this.#namesTaken(cancellation, deletes.reservations, namesTaken)) return 'continue';
      if (cancellation.onlyConflicts || cancellation.failed(0)) return undefined;
      if (isOwner && cancellation.failed(items.length - 2)) throw new ConflictError(LAST_OWNER);
      return undefined;
    });
  }

  // Keys

  async createKey(key: ApiKeyRecord, event: AuditEvent, limits: Limits): Promise<void> {
    const userIndex = 2;
    // Whatever the caller asks, never more keys than deleting or demoting the user can remove in one transaction.
    const keyLimit = Math.min(limits.keysPerUser, MAX_KEYS_PER_USER);
    const items: TransactItem[] = [
      this.#putNew(keyItem(key)),
      // The name reservation makes names unique per account even under concurrent creation.
      this.#putNew(keyNameItem(key)),
      {
        Update: {
          TableName: this.#tableName,
          Key: { pk: accountPk(key.accountId), sk: userSk(key.userId) },
          UpdateExpression: 'ADD #keyIds :keyIds, #keyCount :one, #rev :one',
          // The role is the one the caller checked may hold keys: if it changed since, the key
          // would carry a stale role copy, so refuse rather than store it.
          ConditionExpression: 'attribute_exists(#pk) AND #role = :role AND #keyCount < :limit',
          ExpressionAttributeNames: { '#pk': 'pk', '#role': 'role', '#keyIds': 'keyIds', '#keyCount': 'keyCount', '#rev': 'rev' },
          ExpressionAttributeValues: { ':keyIds': new Set([key.id]), ':one': 1, ':role': key.role, ':limit': keyLimit },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      this.#putEvent(event),
    ];
    await this.#retrying('the user changed concurrently; retry', async () => {
      const cancellation = await transactWrite(this.#client, items);
      if (cancellation === undefined) return true;
      if (cancellation.failed(userIndex)) {
        const old = cancellation.oldItem(userIndex);
        const user = old === undefined ? await this.#get(accountPk(key.accountId), userSk(key.userId)) : undefined;
        if (old === undefined && user === undefined) throw new NotFoundError('user');
        const role = old?.role?.S ?? (user === undefined ? undefined : readRole(user));
        const keyCount = old?.keyCount?.N === undefined ? (user === undefined ? undefined : readNumber(user, 'keyCount')) : Number(old.keyCount.N);
        if (role !== key.role) throw new ConflictError("the user's role changed, retry");
        if (keyCount !== undefined && keyCount >= keyLimit) {
          // The count may still hold keys DynamoDB's TTL removed: only live keys count.
          const forgotten = await this.#forgetRemovedKeys(key.accountId, key.userId);
          if (forgotten === 'forgot') return 'continue';
          if (forgotten === 'raced') return undefined;
          throw new LimitExceededError(`a user may have at most ${keyLimit} API keys`, keyLimit);
        }
      }
      if (cancellation.failed(1)) throw new ConflictError(`an API key named '${key.name}' already exists in this account`);
      if (cancellation.failed(0)) throw new ConflictError('the API key already exists');
      return undefined;
    });
  }

  async getKey(accountId: string, keyId: string): Promise<ApiKey | undefined> {
    const item = await this.#get(accountPk(accountId), keySk(keyId));
    return item === undefined ? undefined : apiKeyFromItem(item);
  }

  async listKeys(accountId: string, options: ListOptions & { readonly userId?: string | undefined }): Promise<Page<ApiKey>> {
    const pk = accountPk(accountId);
    if (options.userId === undefined) {
      return this.#page(
        {
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
          ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
          ExpressionAttributeValues: { ':pk': pk, ':prefix': KEY_PREFIX },
          ConsistentRead: true,
        },
        { pk, skPrefix: KEY_PREFIX },
        options,
        apiKeyFromItem,
      );
    }
    const indexPk = userIndexPk(accountId, options.userId);
    return this.#page(
      {
        IndexName: BY_USER_INDEX.name,
        KeyConditionExpression: '#gpk = :gpk AND begins_with(#gsk, :prefix)',
        ExpressionAttributeNames: { '#gpk': BY_USER_INDEX.partitionKey, '#gsk': BY_USER_INDEX.sortKey },
        ExpressionAttributeValues: { ':gpk': indexPk, ':prefix': KEY_PREFIX },
      },
      { pk, skPrefix: KEY_PREFIX, indexPk },
      options,
      apiKeyFromItem,
    );
  }

  async deleteKey(accountId: string, keyId: string, event: AuditEvent): Promise<void> {
    if (!(await this.#deleteKey(accountId, keyId, event))) throw new NotFoundError('api key');
  }

  deleteKeyIfSecret(accountId: string, keyId: string, secretHash: Uint8Array, event: AuditEvent): Promise<boolean> {
    return this.#deleteKey(accountId, keyId, event, secretHash);
  }

  /** False if the key is gone, or (given `secretHash`) holds another secret: nothing deleted. */
  async #deleteKey(accountId: string, keyId: string, event: AuditEvent, secretHash?: Uint8Array): Promise<boolean> {
    const namesTaken = new Set<string>();
    return this.#retrying('the API key changed concurrently; retry', async () => {
      const item = await this.#get(accountPk(accountId), keySk(keyId));
      if (item === undefined) return false;
      if (secretHash !== undefined && !digestsEqual(readBinary(item, 'secretHash'), secretHash)) return false;
      const userId = readString(item, 'userId');
      const deletes = this.#deleteKeys(accountId, [{ keyId, name: readString(item, 'name') }], namesTaken, 0, { userId, secretHash });
      const cancellation = await transactWrite(this.#client, [
        ...deletes.items,
        {
          Update: {
            TableName: this.#tableName,
            Key: { pk: accountPk(accountId), sk: userSk(userId) },
            UpdateExpression: 'DELETE #keyIds :keyIds ADD #keyCount :minus, #rev :one',
            ConditionExpression: 'contains(#keyIds, :keyId)',
            ExpressionAttributeNames: { '#keyIds': 'keyIds', '#keyCount': 'keyCount', '#rev': 'rev' },
            ExpressionAttributeValues: { ':keyIds': new Set([keyId]), ':keyId': keyId, ':minus': -1, ':one': 1 },
          },
        },
        this.#putEvent(event),
      ]);
      if (cancellation === undefined) return true;
      if (this.#namesTaken(cancellation, deletes.reservations, namesTaken)) return 'continue';
      // Whatever else failed, the re-read tells: the key is gone, rolled, or it is tried again.
      return undefined;
    });
  }

  async editAllowList<T>(
    accountId: string,
    keyId: string,
    edit: (list: CidrAllowList) => { readonly list: CidrAllowList; readonly result: T },
    event: AuditEvent,
    limits: Limits,
  ): Promise<T> {
    let current: { rules: readonly CidrRule[]; rev: number } | undefined;
    const outcome = await this.#retrying('the allow list changed concurrently; retry', async () => {
      const state = current ?? (await this.#readAllowList(accountId, keyId));
      current = undefined;
      const edited = edit(new CidrAllowList(state.rules, limits.rulesPerKey));
      // The CIDR set follows the list it indexes, or addCidrRule's duplicate check goes wrong.
      const cidrs = cidrSet(edited.list.rules);
      const cancellation = await transactWrite(this.#client, [
        {
          Update: {
            TableName: this.#tableName,
            Key: { pk: accountPk(accountId), sk: keySk(keyId) },
            UpdateExpression: `SET #rules = :rules, #rev = :next${cidrs === undefined ? ' REMOVE #cidrs' : ', #cidrs = :cidrs'}`,
            // Conditioned on the revision read: a concurrent edit makes this one re-apply to
            // the list as it now is, so no rule is lost and the limit holds.
            ConditionExpression: '#rev = :rev',
            ExpressionAttributeNames: { '#rules': 'rules', '#rev': 'rev', '#cidrs': 'cidrs' },
            ExpressionAttributeValues: {
              ':rules': rulesItem(edited.list.rules),
              ':rev': state.rev,
              ':next': state.rev + 1,
              ...(cidrs === undefined ? {} : { ':cidrs': cidrs }),
            },
            // The key as the winner left it comes back with the refusal: no second read needed.
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        this.#putEvent(event),
      ]);
      if (cancellation === undefined) return { value: edited.result };
      const winner = cancellation.failed(0) ? cancellation.oldItem(0) : undefined;
      // No item with the refusal means the key is gone: the next read answers 404.
      if (winner !== undefined) current = allowListFromAttributes(winner);
      return undefined;
    });
    return outcome.value;
  }

  async addCidrRule(accountId: string, keyId: string, rule: CidrRule, event: AuditEvent, limits: Limits): Promise<CidrRule> {
    const key = { pk: accountPk(accountId), sk: keySk(keyId) };
    const items: TransactItem[] = [
      {
        Update: {
          TableName: this.#tableName,
          Key: key,
          // An append, not a rewrite of the list read: concurrent adds need no re-read, each one
          // lands or is refused by the state it meets. The revision still moves, so that an
          // edit in flight (editAllowList) re-applies to the list with this rule in it.
          UpdateExpression: 'SET #rules = list_append(#rules, :newRules), #rev = #rev + :one ADD #cidrs :newCidrs',
          // The set must be there whenever there are rules, or a duplicate would slip past it.
          ConditionExpression:
            'attribute_exists(#pk) AND size(#rules) < :limit AND NOT contains(#cidrs, :cidr) AND (attribute_exists(#cidrs) OR size(#rules) = :zero)',
          ExpressionAttributeNames: { '#pk': 'pk', '#rules': 'rules', '#rev': 'rev', '#cidrs': 'cidrs' },
          ExpressionAttributeValues: {
            ':newRules': rulesItem([rule]),
            ':newCidrs': new Set([rule.cidr]),
            ':cidr': rule.cidr,
            ':limit': limits.rulesPerKey,
            ':one': 1,
            ':zero': 0,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      this.#putEvent(event),
    ];
    const outcome = await this.#retrying('the allow list changed concurrently; retry', async () => {
      const cancellation = await transactWrite(this.#client, items);
      if (cancellation === undefined) return 'added';
      if (!cancellation.failed(0)) return undefined;
      const old = cancellation.oldItem(0);
      const rules = old === undefined ? (await this.#readAllowList(accountId, keyId)).rules : allowListFromAttributes(old).rules;
      // The list as the refusal found it explains the refusal in the domain's own words: full,
      // or the CIDR is already on it.
      new CidrAllowList(rules, limits.rulesPerKey).add(rule);
      // It would have fitted: the CIDR set is missing or out of step with the list.
      return 'unindexed';
    });
    if (outcome === 'added') return rule;
    // The whole-list edit rewrites the set from the rules, so the next add is a plain append.
    return this.editAllowList(accountId, keyId, (list) => ({ list: list.add(rule), result: rule }), event, limits);
  }

  async #readAllowList(accountId: string, keyId: string): Promise<{ rules: readonly CidrRule[]; rev: number }> {
    const item = await this.#get(accountPk(accountId), keySk(keyId));
    if (item === undefined) throw new NotFoundError('api key');
    return { rules: readRules(item), rev: readNumber(item, 'rev') };
  }

  async recordKeyUse(accountId: string, keyId: string, at: string): Promise<void> {
    await this.#writeIfCondition(() => this.#client.send(
      new UpdateCommand({
        TableName: this.#tableName,
        Key: { pk: accountPk(accountId), sk: keySk(keyId) },
        UpdateExpression: 'SET #lastUsedAt = :at',
        // Never recreate a key deleted meanwhile as a stub.
        ConditionExpression: 'attribute_exists(#pk)',
        ExpressionAttributeNames: { '#pk': 'pk', '#lastUsedAt': 'lastUsedAt' },
        ExpressionAttributeValues: { ':at': at },
      }),
    ));
  }

  // Audit events

  async recordEvent(event: AuditEvent): Promise<void> {
    if (event.actor.keyId === null) {
      await this.#client.send(new PutCommand({ TableName: this.#tableName, Item: eventItem(event, this.#retentionDays) }));
      return;
    }
    // An event a key causes (the reveal of the account key) is a transaction, so that it gets
    // its actor's checks (principal-check.ts): a stale key, or a secret rolled away, records
    // nothing, and the caller shows nothing.
    await this.#retrying('the account changed concurrently; retry', async () =>
      (await transactWrite(this.#client, [this.#putEvent(event)])) === undefined ? true : undefined,
    );
  }

  async listEvents(accountId: string, options: ListOptions): Promise<Page<AuditEvent>> {
    const pk = accountPk(accountId);
    return this.#page(
      {
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
        ExpressionAttributeValues: { ':pk': pk, ':prefix': EVENT_PREFIX },
        ScanIndexForward: false,
        ConsistentRead: true,
      },
      { pk, skPrefix: EVENT_PREFIX },
      options,
      eventFromItem,
    );
  }

  // Peppers

  async listPeppers(): Promise<readonly StoredPepper[]> {
    const items = await this.#queryAll({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
      ExpressionAttributeValues: { ':pk': CONFIG_PK, ':prefix': PEPPER_PREFIX },
    });
    return items.map(pepperFromItem);
  }

  async addPepper(pepper: StoredPepper): Promise<boolean> {
    return this.#writeIfCondition(() => this.#client.send(
      new PutCommand({
        TableName: this.#tableName,
        Item: { pk: CONFIG_PK, sk: pepperSk(pepper.version), version: pepper.version, ciphertext: pepper.ciphertext },
        // A pepper version is written once: overwriting it would orphan every digest made with it.
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': 'pk' },
      }),
    ));
  }

  // Key lifecycle

  async rollKey(
    accountId: string,
    keyId: string,
    secret: NewSecret,
    gracePeriodSeconds: number,
    at: Date,
    event: AuditEvent,
  ): Promise<{ readonly key: ApiKey; readonly previousSecretExpiresAt: string | null }> {
    // The digest read first is the one every attempt is conditioned on: a roll that lands in
    // between makes this one a 409, never a second new secret on top of it.
    let replaced: Uint8Array | undefined;
    return this.#retrying('the API key changed concurrently; retry', async () => {
      const item = await this.#get(accountPk(accountId), keySk(keyId));
      if (item === undefined) throw new NotFoundError('api key');
      const current = readBinary(item, 'secretHash');
      replaced ??= current;
      if (!digestsEqual(current, replaced)) throw new ConflictError('the API key was rolled concurrently; retry');
      const key = apiKeyFromItem(item);
      if (hasExpired(key.expiresAt, at)) throw new ConflictError('the API key has expired; create a new one');
      const deadline = graceDeadline(at, gracePeriodSeconds, key.expiresAt);
      const tags = rolledSecretTags(item, KEY_SECRET_TAGS, deadline !== undefined);
      const names = { '#pk': 'pk', '#secretHash': 'secretHash', '#pepperVersion': 'pepperVersion', ...PREVIOUS_SECRET_NAMES, ...tags.names };
      // At most two live secrets: the one replaced now takes the place of any older one, whose
      // grace ends here.
      const sets = [
        '#secretHash = :hash',
        '#pepperVersion = :pepperVersion',
        ...(deadline === undefined ? [] : ['#previousHash = :old', '#previousPepperVersion = :oldPepperVersion', '#previousExpiresAt = :deadline']),
        ...tags.sets,
      ];
      const removes = [...(deadline === undefined ? ['#previousHash', '#previousPepperVersion', '#previousExpiresAt'] : []), ...tags.removes];
      const cancellation = await transactWrite(this.#client, [
        {
          Update: {
            TableName: this.#tableName,
            Key: { pk: accountPk(accountId), sk: keySk(keyId) },
            UpdateExpression: `SET ${sets.join(', ')}${removes.length === 0 ? '' : ` REMOVE ${removes.join(', ')}`}`,
            ConditionExpression: 'attribute_exists(#pk) AND #secretHash = :replaced',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: {
              ':hash': secret.hash,
              ':pepperVersion': secret.pepperVersion,
              ':replaced': replaced,
              ...(deadline === undefined ? {} : { ':old': current, ':oldPepperVersion': readNumber(item, 'pepperVersion'), ':deadline': deadline }),
              ...tags.values,
            },
          },
        },
        this.#putEvent(event),
      ]);
      if (cancellation === undefined) return { key, previousSecretExpiresAt: deadline ?? null };
      // A refused condition is told apart by the next read: the key is gone (404) or rolled (409).
      return undefined;
    });
  }

  async rollAccountKey(
    accountId: string,
    accountKey: NewSecret & { readonly ciphertext: Uint8Array; readonly masked: string },
    gracePeriodSeconds: number,
    at: Date,
    event: AuditEvent,
  ): Promise<{ readonly previousKeyExpiresAt: string | null }> {
    let replaced: Uint8Array | undefined;
    return this.#retrying('the account changed concurrently; retry', async () => {
      const item = await this.#get(accountPk(accountId), META_SK);
      if (item === undefined) throw new NotFoundError('account');
      const current = readBinary(item, 'accountKeyHash');
      replaced ??= current;
      if (!digestsEqual(current, replaced)) throw new ConflictError('the account key was rolled concurrently; retry');
      const deadline = graceDeadline(at, gracePeriodSeconds);
      const tags = rolledSecretTags(item, ACCOUNT_KEY_TAGS, deadline !== undefined);
      const sets = [
        '#hash = :hash',
        '#pepperVersion = :pepperVersion',
        '#ciphertext = :ciphertext',
        '#masked = :masked',
        ...(deadline === undefined ? [] : ['#previousHash = :old', '#previousPepperVersion = :oldPepperVersion', '#previousExpiresAt = :deadline']),
        ...tags.sets,
      ];
      // A new key answers a leak report: the flag goes with the key it was about.
      const removes = [...(deadline === undefined ? ['#previousHash', '#previousPepperVersion', '#previousExpiresAt'] : []), '#leak', ...tags.removes];
      const cancellation = await transactWrite(this.#client, [
        {
          Update: {
            TableName: this.#tableName,
            Key: { pk: accountPk(accountId), sk: META_SK },
            UpdateExpression: `SET ${sets.join(', ')} REMOVE ${removes.join(', ')}`,
            ConditionExpression: 'attribute_exists(#pk) AND #hash = :replaced',
            ExpressionAttributeNames: { '#pk': 'pk', '#leak': 'accountKeyLeakReportedAt', ...ACCOUNT_KEY_NAMES, ...tags.names },
            ExpressionAttributeValues: {
              ':hash': accountKey.hash,
              ':pepperVersion': accountKey.pepperVersion,
              ':ciphertext': accountKey.ciphertext,
              ':masked': accountKey.masked,
              ':replaced': replaced,
              ...(deadline === undefined
                ? {}
                : { ':old': current, ':oldPepperVersion': readNumber(item, 'accountKeyPepperVersion'), ':deadline': deadline }),
              ...tags.values,
            },
          },
        },
        this.#putEvent(event),
      ]);
      if (cancellation === undefined) return { previousKeyExpiresAt: deadline ?? null };
      return undefined;
    });
  }

  async loadSecrets(refs: readonly SecretRef[]): Promise<SecretsFound> {
    const wanted = new Map<string, { pk: string; sk: string }>();
    for (const ref of refs) {
      const key = { pk: accountPk(ref.accountId), sk: ref.keyId === undefined ? META_SK : keySk(ref.keyId) };
      wanted.set(`${key.pk}|${key.sk}`, key);
    }
    const found: SecretsFound = { accounts: new Map(), keys: new Map() };
    let pending = [...wanted.values()];
    while (pending.length > 0) {
      const batch = pending.slice(0, 100);
      pending = pending.slice(100);
      const output = await this.#client.send(
        new BatchGetCommand({ RequestItems: { [this.#tableName]: { Keys: batch, ConsistentRead: true } } }),
      );
      for (const item of output.Responses?.[this.#tableName] ?? []) {
        const accountId = readString(item, 'pk').slice(ACCOUNT_PREFIX.length);
        if (item.sk === META_SK) found.accounts.set(accountId, authorizationAccountFromItem(item));
        else found.keys.set(`${accountId}/${readString(item, 'id')}`, authorizationKeyFromItem(item));
      }
      const unprocessed = output.UnprocessedKeys?.[this.#tableName]?.Keys ?? [];
      if (unprocessed.length > 0) {
        pending.push(...(unprocessed as { pk: string; sk: string }[]));
        await backoff(1);
      }
    }
    return found;
  }

  async endPreviousSecret(accountId: string, keyId: string, hash: Uint8Array, event: AuditEvent): Promise<boolean> {
    return this.#endPrevious({ pk: accountPk(accountId), sk: keySk(keyId) }, PREVIOUS_SECRET_NAMES, hash, event);
  }

  async endPreviousAccountKey(accountId: string, hash: Uint8Array, event: AuditEvent): Promise<boolean> {
    const { '#previousHash': h, '#previousPepperVersion': v, '#previousExpiresAt': e } = ACCOUNT_KEY_NAMES;
    return this.#endPrevious(
      { pk: accountPk(accountId), sk: META_SK },
      { '#previousHash': h, '#previousPepperVersion': v, '#previousExpiresAt': e },
      hash,
      event,
    );
  }

  async flagAccountKeyLeak(accountId: string, hash: Uint8Array, at: string, event: AuditEvent): Promise<boolean> {
    return this.#updateAudited({
      Key: { pk: accountPk(accountId), sk: META_SK },
      UpdateExpression: 'SET #leak = :at',
      // Only while the reported key is still the account's key (a roll since answered the report),
      // and once per key: a roll clears the flag, so a repeated report writes nothing, not even its event.
      ConditionExpression: '#hash = :hash AND attribute_not_exists(#leak)',
      ExpressionAttributeNames: { '#leak': 'accountKeyLeakReportedAt', '#hash': 'accountKeyHash' },
      ExpressionAttributeValues: { ':at': at, ':hash': hash },
    }, event);
  }

  /** Ends a rolled secret's grace at once, if `hash` is still that secret. */
  async #endPrevious(
    key: { pk: string; sk: string },
    names: Readonly<Record<keyof typeof PREVIOUS_SECRET_NAMES, string>>,
    hash: Uint8Array, event: AuditEvent): Promise<boolean> {
    return this.#updateAudited({
      Key: key,
      UpdateExpression: 'REMOVE #previousHash, #previousPepperVersion, #previousExpiresAt',
      ConditionExpression: '#previousHash = :hash',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':hash': hash },
    }, event);
  }

  /** One conditional update and its audit event, in one transaction: true if made, false if its condition refused it. */
  async #updateAudited(update: Omit<NonNullable<TransactItem['Update']>, 'TableName'>, event: AuditEvent): Promise<boolean> {
    const cancellation = await transactWrite(this.#client, [{ Update: { TableName: this.#tableName, ...update } }, this.#putEvent(event)]);
    return cancellation === undefined;
  }

  // Key expiry

  async recordKeyExpiry(key: ExpiredKey, event: AuditEvent): Promise<KeyExpiryOutcome> {
    // Two writes, not one transaction: the event is owed even when the holder is gone, and each
    // write is safe to repeat on its own, so a delivery that failed half-way is simply redone.
    // The holder first: once the event can be read, the holder is free to hold another key.
    const { userId } = key;
    const keyForgotten = userId !== null && await this.#writeIfCondition(() => this.#client.send(new UpdateCommand({
      TableName: this.#tableName,
      Key: { pk: accountPk(key.accountId), sk: userSk(userId) },
      UpdateExpression: 'DELETE #keyIds :keyIds ADD #keyCount :minus, #rev :one',
      // Only while the holder still lists the key: a replay, a holder since deleted or a write
      // that already forgot the key (#forgetRemovedKeys) leave the count alone.
      ConditionExpression: 'contains(#keyIds, :keyId)',
      ExpressionAttributeNames: { '#keyIds': 'keyIds', '#keyCount': 'keyCount', '#rev': 'rev' },
      ExpressionAttributeValues: { ':keyIds': new Set([key.keyId]), ':keyId': key.keyId, ':minus': -1, ':one': 1 },
    })));
    const eventRecorded = await this.#writeIfCondition(() => this.#client.send(new PutCommand({
      TableName: this.#tableName,
      Item: eventItem(event, this.#retentionDays),
      // A replay derives the same id and time, so the same item: written once.
      ConditionExpression: 'attribute_not_exists(#pk)',
      ExpressionAttributeNames: { '#pk': 'pk' },
    })));
    return { eventRecorded, keyForgotten };
  }

  /** Makes a conditional write: true if it was made, false if its condition refused it. */
  async #writeIfCondition(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  // Building blocks

  /**
   * Runs `attempt` until it settles: `undefined` means it lost a race (re-read and try again
   * after a short random pause), `'continue'` means it made progress and must go on, anything
   * else is the result. Gives up with a ConflictError after MAX_ATTEMPTS lost races, or at a
   * lost race when the pause would end past RETRY_BUDGET_MS from the start.
   */
  async #retrying<T>(conflictMessage: string, attempt: () => Promise<T | 'continue' | undefined>): Promise<T> {
    const deadline = performance.now() + RETRY_BUDGET_MS;
    let lost = 0;
    for (;;) {
      const outcome = await attempt();
      if (outcome === 'continue') continue;
      if (outcome !== undefined) return outcome;
      lost += 1;
      const delay = backoffDelay(lost);
      if (lost >= MAX_ATTEMPTS || performance.now() + delay >= deadline) throw new ConflictError(conflictMessage);
      await pause(delay);
    }
  }

  async #get(pk: string, sk: string): Promise<Item | undefined> {
    const output = await this.#client.send(new GetCommand({ TableName: this.#tableName, Key: { pk, sk }, ConsistentRead: true }));
    return output.Item;
  }

  async #readUserState(accountId: string, userId: string): Promise<UserState> {
    const item = await this.#get(accountPk(accountId), userSk(userId));
    if (item === undefined) throw new NotFoundError('user');
    return { user: userFromItem(item), keyIds: readStringSet(item, 'keyIds'), rev: readNumber(item, 'rev') };
  }

  /**
   * The names of those of the user's keys that still exist (needed to free their reservations),
   * by key id. A key listed on its user but absent from the table was removed by DynamoDB's TTL
   * after it expired: every other removal (deleteKey, deleteUser, changeRole) updates the user
   * in the same transaction, and a key is created with its place on the user in one. So a write
   * conditioned on the user's `rev` may treat such a key as gone: if the user changed since it
   * was read (a key added or deleted meanwhile), the condition refuses the write and it reads
   * again.
   */
  async #liveKeyNames(accountId: string, keyIds: readonly string[]): Promise<Map<string, string>> {
    const names = new Map<string, string>();
    let pending: Record<string, unknown>[] = keyIds.map((keyId) => ({ pk: accountPk(accountId), sk: keySk(keyId) }));
    while (pending.length > 0) {
      const batch = pending.slice(0, 100);
      pending = pending.slice(100);
      const output = await this.#client.send(
        new BatchGetCommand({
          RequestItems: {
            [this.#tableName]: {
              Keys: batch,
              ConsistentRead: true,
              ProjectionExpression: '#id, #name',
              ExpressionAttributeNames: { '#id': 'id', '#name': 'name' },
            },
          },
        }),
      );
      for (const item of output.Responses?.[this.#tableName] ?? []) names.set(readString(item, 'id'), readString(item, 'name'));
      const unprocessed = output.UnprocessedKeys?.[this.#tableName]?.Keys ?? [];
      if (unprocessed.length > 0) {
        pending.push(...unprocessed);
        await backoff(1);
      }
    }
    return names;
  }

  /**
   * Drops from the user's key list and count the keys DynamoDB's TTL removed (#liveKeyNames),
   * conditioned on the revision read: 'forgot' when it dropped some, 'none' when every listed
   * key exists, 'raced' when the user changed meanwhile.
   */
  async #forgetRemovedKeys(accountId: string, userId: string): Promise<'forgot' | 'none' | 'raced'> {
    const state = await this.#readUserState(accountId, userId);
    const names = await this.#liveKeyNames(accountId, state.keyIds);
    const removed = state.keyIds.filter((keyId) => !names.has(keyId));
    if (removed.length === 0) return 'none';
    const forgot = await this.#writeIfCondition(() => this.#client.send(
      new UpdateCommand({
        TableName: this.#tableName,
        Key: { pk: accountPk(accountId), sk: userSk(userId) },
        UpdateExpression: 'ADD #keyCount :forgotten, #rev :one DELETE #keyIds :removed',
        ConditionExpression: '#rev = :rev',
        ExpressionAttributeNames: { '#keyCount': 'keyCount', '#keyIds': 'keyIds', '#rev': 'rev' },
        ExpressionAttributeValues: { ':forgotten': -removed.length, ':removed': new Set(removed), ':one': 1, ':rev': state.rev },
      }),
    ));
    return forgot ? 'forgot' : 'raced';
  }

  /**
   * The deletes of keys and of their name reservations, to sit from index `at` of a transaction,
   * and the index of each reservation's delete (by key id). A key whose reservation now holds
   * another key (`namesTaken`) keeps its hands off it: see #namesTaken.
   */
  #deleteKeys(
    accountId: string,
    keys: readonly { readonly keyId: string; readonly name: string }[],
    namesTaken: ReadonlySet<string>,
    at: number,
    only?: { readonly userId: string; readonly secretHash?: Uint8Array | undefined },
  ): { readonly items: TransactItem[]; readonly reservations: ReadonlyMap<number, string> } {
    const items: TransactItem[] = [];
    const reservations = new Map<number, string>();
    const conditions = ['attribute_exists(#pk)'];
    const names: Record<string, string> = { '#pk': 'pk' };
    const values: Record<string, unknown> = {};
    if (only !== undefined) {
      conditions.push('#userId = :userId');
      names['#userId'] = 'userId';
      values[':userId'] = only.userId;
    }
    if (only?.secretHash !== undefined) {
      // A leak report deletes the key only while it still holds the reported secret: a roll since keeps it.
      conditions.push('#secretHash = :secretHash');
      names['#secretHash'] = 'secretHash';
      values[':secretHash'] = only.secretHash;
    }
    for (const { keyId, name } of keys) {
      items.push({
        Delete: {
          TableName: this.#tableName,
          Key: { pk: accountPk(accountId), sk: keySk(keyId) },
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ...(Object.keys(values).length === 0 ? {} : { ExpressionAttributeValues: values }),
        },
      });
      if (namesTaken.has(keyId)) continue;
      reservations.set(at + items.length, keyId);
      items.push({
        // Frees the name, but only the reservation this key holds.
        Delete: {
          TableName: this.#tableName,
          Key: { pk: accountPk(accountId), sk: keyNameSk(name) },
          ConditionExpression: 'attribute_not_exists(#pk) OR #keyId = :keyId',
          ExpressionAttributeNames: { '#pk': 'pk', '#keyId': 'keyId' },
          ExpressionAttributeValues: { ':keyId': keyId },
        },
      });
    }
    return { items, reservations };
  }

  /**
   * Adds to `namesTaken` the keys whose reservation refused its delete: it holds another key.
   * DynamoDB's TTL removes an expired key's item and its name reservation independently, so the
   * reservation may go first and another key take the name while the expired key is still
   * listed; deleting the expired key must then leave the name to its new holder. True if any
   * was added (the write is tried again without those deletes).
   */
  #namesTaken(cancellation: Cancellation, reservations: ReadonlyMap<number, string>, namesTaken: Set<string>): boolean {
    let added = false;
    for (const [index, keyId] of reservations) {
      if (!cancellation.failed(index) || namesTaken.has(keyId)) continue;
      namesTaken.add(keyId);
      added = true;
    }
    return added;
  }

  /** +1 or -1 owner; removing one is conditioned on another owner remaining. */
  #ownerCountChange(accountId: string, delta: 1 | -1): TransactItem {
    return {
      Update: {
        TableName: this.#tableName,
        Key: { pk: accountPk(accountId), sk: META_SK },
        UpdateExpression: 'ADD #ownerCount :delta',
        ConditionExpression: delta < 0 ? '#ownerCount > :one' : 'attribute_exists(#pk)',
        ExpressionAttributeNames: delta < 0 ? { '#ownerCount': 'ownerCount' } : { '#ownerCount': 'ownerCount', '#pk': 'pk' },
        ExpressionAttributeValues: delta < 0 ? { ':delta': delta, ':one': 1 } : { ':delta': delta },
      },
    };
  }

  #putNew(item: Item): TransactItem {
    return {
      Put: {
        TableName: this.#tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': 'pk' },
      },
    };
  }

  #putEvent(event: AuditEvent): TransactItem {
    return { Put: { TableName: this.#tableName, Item: eventItem(event, this.#retentionDays) } };
  }

  async #queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const output = await this.#client.send(
        new QueryCommand({ ...input, TableName: this.#tableName, ConsistentRead: true, ExclusiveStartKey: startKey }),
      );
      items.push(...(output.Items ?? []));
      startKey = output.LastEvaluatedKey;
    } while (startKey !== undefined);
    return items;
  }

  async #page<T>(
    input: Omit<QueryCommandInput, 'TableName'>,
    shape: CursorShape,
    options: ListOptions,
    map: (item: Item) => T,
  ): Promise<Page<T>> {
    if (!Number.isInteger(options.limit) || options.limit < 1 || options.limit > MAX_LIST_LIMIT) {
      throw new ValidationError('limit', 'range', `limit must be a whole number from 1 to ${MAX_LIST_LIMIT}`);
    }
    const startKey = options.cursor === undefined ? undefined : decodeCursor(options.cursor, shape);
    // One item more than asked tells whether another page exists, so the page holding the
    // last item says so (`nextCursor: null`) instead of sending the caller to an empty page.
    const output = await this.#client.send(
      new QueryCommand({ ...input, TableName: this.#tableName, Limit: options.limit + 1, ExclusiveStartKey: startKey }),
    );
    return pageFromQuery(output.Items ?? [], output.LastEvaluatedKey, options.limit, shape, map);
  }
}
