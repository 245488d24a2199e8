import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConflictError, LimitExceededError, NotFoundError } from '../../domain/errors.ts';
import type { ApiKey, ApiKeyRecord, AuditEvent, Page } from '../../domain/model.ts';
import type { Role } from '../../domain/roles.ts';
import type { KeyStore } from '../../ports/key-store.ts';
import type { Limits } from '../../ports/limits.ts';
import type { ListOptions } from '../../ports/list-options.ts';
import { MAX_KEYS_PER_USER } from '../environment.ts';
import { BY_USER_INDEX } from '../table-schema.ts';
import { writeIfCondition } from './conditional-write.ts';
import { KEY_PREFIX, accountPk, apiKeyFromItem, keyItem, keyNameItem, keySk, readNumber, readRole, userIndexPk, userSk } from './items.ts';
import { KEY_PERMISSIONS_ATTRIBUTE } from './permission-attributes.ts';
import { deleteKeyAndName, forgetRemovedKeys } from './reservations.ts';
import { retrying } from './retry.ts';
import { DynamoDbTable, type DynamoDbStoreOptions } from './table.ts';
import type { TransactItem } from './transact-item.ts';

/**
 * Users' API keys on the table. A key is created with its name reservation (names are unique
 * per account) and its place on its holder's key list and count, in one transaction.
 */
export class DynamoDbKeyStore implements KeyStore {
  readonly #table: DynamoDbTable;

  constructor(client: DynamoDBDocumentClient, tableName: string, options: DynamoDbStoreOptions = {}) {
    this.#table = new DynamoDbTable(client, tableName, options);
  }

  async createKey(key: ApiKeyRecord, event: AuditEvent, limits: Limits): Promise<void> {
    const table = this.#table;
    const userIndex = 2;
    // Whatever the caller asks, never more keys than deleting or demoting the user can remove in one transaction.
    const keyLimit = Math.min(limits.keysPerUser, MAX_KEYS_PER_USER);
    const items: TransactItem[] = [
      table.putNew(keyItem(key)),
      // The name reservation makes names unique per account even under concurrent creation.
      table.putNew(keyNameItem(key)),
      {
        Update: {
          TableName: table.name,
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
      table.putEvent(event),
    ];
    await retrying('the user changed concurrently; retry', async () => {
      const cancellation = await table.transact(items);
      if (cancellation === undefined) return true;
      if (cancellation.failed(userIndex)) {
        const old = cancellation.oldItem(userIndex);
        const user = old === undefined ? await table.get(accountPk(key.accountId), userSk(key.userId)) : undefined;
        if (old === undefined && user === undefined) throw new NotFoundError('user');
        const role = old?.role?.S ?? (user === undefined ? undefined : readRole(user));
        const keyCount = old?.keyCount?.N === undefined ? (user === undefined ? undefined : readNumber(user, 'keyCount')) : Number(old.keyCount.N);
        if (role !== key.role) throw new ConflictError("the user's role changed, retry");
        if (keyCount !== undefined && keyCount >= keyLimit) {
          // The count may still hold keys DynamoDB's TTL removed: only live keys count.
          const forgotten = await forgetRemovedKeys(table, key.accountId, key.userId);
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
    const item = await this.#table.get(accountPk(accountId), keySk(keyId));
    return item === undefined ? undefined : apiKeyFromItem(item);
  }

  async listKeys(accountId: string, options: ListOptions & { readonly userId?: string | undefined }): Promise<Page<ApiKey>> {
    const pk = accountPk(accountId);
    if (options.userId === undefined) {
      return this.#table.page(
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
    return this.#table.page(
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
    if (!(await deleteKeyAndName(this.#table, accountId, keyId, event))) throw new NotFoundError('api key');
  }

  async setKeyPermissions(
    accountId: string,
    keyId: string,
    permissions: readonly string[] | null,
    audit: (current: { readonly key: ApiKey; readonly role: Role }) => AuditEvent,
  ): Promise<ApiKey> {
    const table = this.#table;
    return retrying('the API key changed concurrently; retry', async () => {
      const item = await table.get(accountPk(accountId), keySk(keyId));
      if (item === undefined) throw new NotFoundError('api key');
      const key = apiKeyFromItem(item);
      const role = readRole(item);
      const event = audit({ key, role });
      // Unrestricted is no attribute at all: the authorizer reads a list as a restriction.
      const set = permissions === null ? 'SET #rev = :next REMOVE #permissions' : 'SET #permissions = :permissions, #rev = :next';
      const cancellation = await table.transact([
        {
          Update: {
            TableName: table.name,
            Key: { pk: accountPk(accountId), sk: keySk(keyId) },
            UpdateExpression: set,
            // The role the use case checked the list against, and the list the event says was
            // replaced: a role change or another update in between makes this attempt read again.
            ConditionExpression: 'attribute_exists(#pk) AND #rev = :rev AND #role = :role',
            ExpressionAttributeNames: { '#pk': 'pk', '#rev': 'rev', '#role': 'role', '#permissions': KEY_PERMISSIONS_ATTRIBUTE },
            ExpressionAttributeValues: {
              ':rev': readNumber(item, 'rev'),
              ':next': readNumber(item, 'rev') + 1,
              ':role': role,
              ...(permissions === null ? {} : { ':permissions': [...permissions] }),
            },
          },
        },
        table.putEvent(event),
      ]);
      if (cancellation === undefined) return { ...key, permissions: permissions === null ? null : [...permissions] };
      return undefined;
    });
  }

  async recordKeyUse(accountId: string, keyId: string, at: string): Promise<void> {
    await writeIfCondition(() => this.#table.client.send(
      new UpdateCommand({
        TableName: this.#table.name,
        Key: { pk: accountPk(accountId), sk: keySk(keyId) },
        UpdateExpression: 'SET #lastUsedAt = :at',
        // Never recreate a key deleted meanwhile as a stub.
        ConditionExpression: 'attribute_exists(#pk)',
        ExpressionAttributeNames: { '#pk': 'pk', '#lastUsedAt': 'lastUsedAt' },
        ExpressionAttributeValues: { ':at': at },
      }),
    ));
  }
}
