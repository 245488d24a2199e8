import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../../domain/errors.ts';
import { effectOf } from '../../domain/audit.ts';
import { type Role, canHoldKeys } from '../../domain/roles.ts';
import { MAX_KEYS_PER_USER } from '../environment.ts';
import type { AuditEvent, User } from '../../domain/model.ts';
import type { UserStore } from '../../ports/user-store.ts';
import { META_SK, USER_PREFIX, accountPk, keySk, userFromItem, userItem, userSk } from './items.ts';
import { addNamesTaken, keyDeletes, liveKeyNames } from './reservations.ts';
import { retrying } from './retry.ts';
import { DynamoDbTable, type DynamoDbStoreOptions } from './table.ts';
import type { TransactItem } from './transact-item.ts';
import { readUserState } from './user-state.ts';

const LAST_OWNER = 'the account must keep at least one owner';

/**
 * An account's users on the table. The account counts its owners, and removing one is
 * conditioned on another remaining, so that no two racing writes leave it without one.
 */
export class DynamoDbUserStore implements UserStore {
  readonly #table: DynamoDbTable;

  constructor(client: DynamoDBDocumentClient, tableName: string, options: DynamoDbStoreOptions = {}) {
    this.#table = new DynamoDbTable(client, tableName, options);
  }

  async listUsers(accountId: string): Promise<readonly User[]> {
    const items = await this.#table.queryAll({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
      ExpressionAttributeValues: { ':pk': accountPk(accountId), ':prefix': USER_PREFIX },
    });
    return items.map(userFromItem);
  }

  async getUser(accountId: string, userId: string): Promise<User | undefined> {
    const item = await this.#table.get(accountPk(accountId), userSk(userId));
    return item === undefined ? undefined : userFromItem(item);
  }

  async createUser(user: User, event: AuditEvent): Promise<void> {
    const table = this.#table;
    // The account must exist; a new owner also counts towards the owners the account keeps.
    const accountWrite: TransactItem =
      user.role === 'owner'
        ? this.#ownerCountChange(user.accountId, 1)
        : {
            ConditionCheck: {
              TableName: table.name,
              Key: { pk: accountPk(user.accountId), sk: META_SK },
              ConditionExpression: 'attribute_exists(#pk)',
              ExpressionAttributeNames: { '#pk': 'pk' },
            },
          };
    await retrying('the account changed concurrently; retry', async () => {
      const cancellation = await table.transact([table.putNew(userItem(user, [])), accountWrite, table.putEvent(event)]);
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
    const table = this.#table;
    const namesTaken = new Set<string>();
    return retrying('the user changed concurrently; retry', async () => {
      const state = await readUserState(table, accountId, userId);
      const wasOwner = state.user.role === 'owner';
      const isOwner = role === 'owner';
      // A role that may not hold keys takes the user's keys away for good: keeping them with a
      // refused role would bring every old secret back with a later promotion.
      const keysGo = !canHoldKeys(role) && state.keyIds.length > 0;
      const names = await liveKeyNames(table, accountId, state.keyIds);
      const live = state.keyIds.filter((keyId) => names.has(keyId));
      // Keys DynamoDB's TTL removed are forgotten in the same write (reservations.ts, liveKeyNames).
      const removed = state.keyIds.filter((keyId) => !names.has(keyId));
      const forget = !keysGo && removed.length > 0;
      const userUpdate = keysGo
        ? 'SET #role = :role, #rev = #rev + :one, #keyCount = :zero REMOVE #keyIds'
        : forget
          ? 'SET #role = :role, #rev = #rev + :one ADD #keyCount :forgotten DELETE #keyIds :removed'
          : 'SET #role = :role, #rev = #rev + :one';
      if (keysGo && live.length > MAX_KEYS_PER_USER) {
        // Keys issued under an older, higher limit: the change could not be one transaction.
        throw new ConflictError(`the user holds ${live.length} keys; delete some (to at most ${MAX_KEYS_PER_USER}) before changing their role to one that holds none`);
      }
      const deletes = keysGo
        ? keyDeletes(table.name, accountId, live.map((keyId) => ({ keyId, name: names.get(keyId) ?? '' })), namesTaken, 1)
        : undefined;
      const items: TransactItem[] = [
        {
          Update: {
            TableName: table.name,
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
                  TableName: table.name,
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
      const ownerChangeAt = items.length;
      if (ownerChange !== undefined) items.push(ownerChange);
      items.push(table.putEvent(event));
      // Each key the change takes away is audited as its own deletion, in the same transaction.
      if (keysGo) for (const keyId of live) items.push(table.putEvent(effectOf(event, 'api-key.delete', `api-key/${keyId}`)));
      const cancellation = await table.transact(items);
      if (cancellation === undefined) return { user: { ...state.user, role }, deletedKeyIds: keysGo ? live : [] };
      if (deletes !== undefined && addNamesTaken(cancellation, deletes.reservations, namesTaken)) return 'continue';
      // A stale read (the user or their keys changed) is retried first: the re-read may show
      // that the demotion no longer removes an owner.
      if (cancellation.onlyConflicts || cancellation.failed(0)) return undefined;
      if (ownerChange !== undefined && cancellation.failed(ownerChangeAt)) {
        if (!isOwner) throw new ConflictError(LAST_OWNER);
        throw new NotFoundError('account');
      }
      return undefined;
    });
  }

  async deleteUser(accountId: string, userId: string, event: AuditEvent): Promise<{ readonly deletedKeyIds: readonly string[] }> {
    const table = this.#table;
    const namesTaken = new Set<string>();
    return retrying('the user changed concurrently; retry', async () => {
      const state = await readUserState(table, accountId, userId);
      // Keys DynamoDB's TTL removed are gone already: nothing to delete for them (reservations.ts, liveKeyNames).
      const names = await liveKeyNames(table, accountId, state.keyIds);
      const live = state.keyIds.filter((keyId) => names.has(keyId));
      const isOwner = state.user.role === 'owner';
      // One transaction: the user, each key with its name reservation, the owner count and the
      // event (2n + 3 items, within DynamoDB's 100 because MAX_KEYS_PER_USER is 32).
      const deletes = keyDeletes(table.name, accountId, live.map((keyId) => ({ keyId, name: names.get(keyId) ?? '' })), namesTaken, 1);
      const items: TransactItem[] = [
        {
          Delete: {
            TableName: table.name,
            Key: { pk: accountPk(accountId), sk: userSk(userId) },
            ConditionExpression: '#rev = :rev',
            ExpressionAttributeNames: { '#rev': 'rev' },
            ExpressionAttributeValues: { ':rev': state.rev },
          },
        },
        ...deletes.items,
      ];
      if (isOwner) items.push(this.#ownerCountChange(accountId, -1));
      items.push(table.putEvent(event));
      const cancellation = await table.transact(items);
      if (cancellation === undefined) return { deletedKeyIds: live };
      if (addNamesTaken(cancellation, deletes.reservations, namesTaken)) return 'continue';
      if (cancellation.onlyConflicts || cancellation.failed(0)) return undefined;
      if (isOwner && cancellation.failed(items.length - 2)) throw new ConflictError(LAST_OWNER);
      return undefined;
    });
  }

  /** +1 or -1 owner; removing one is conditioned on another owner remaining. */
  #ownerCountChange(accountId: string, delta: 1 | -1): TransactItem {
    return {
      Update: {
        TableName: this.#table.name,
        Key: { pk: accountPk(accountId), sk: META_SK },
        UpdateExpression: 'ADD #ownerCount :delta',
        ConditionExpression: delta < 0 ? '#ownerCount > :one' : 'attribute_exists(#pk)',
        ExpressionAttributeNames: delta < 0 ? { '#ownerCount': 'ownerCount' } : { '#ownerCount': 'ownerCount', '#pk': 'pk' },
        ExpressionAttributeValues: delta < 0 ? { ':delta': delta, ':one': 1 } : { ':delta': delta },
      },
    };
  }
}
