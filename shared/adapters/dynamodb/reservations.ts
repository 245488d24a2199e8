import { BatchGetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { digestsEqual } from '../../domain/hashing.ts';
import type { AuditEvent } from '../../domain/model.ts';
import { writeIfCondition } from './conditional-write.ts';
import { accountPk, keyNameSk, keySk, readBinary, readString, userSk } from './items.ts';
import { retrying } from './retry.ts';
import type { DynamoDbTable } from './table.ts';
import type { TransactItem } from './transact-item.ts';
import { type Cancellation, backoff } from './transactions.ts';
import { readUserState } from './user-state.ts';

/**
 * A user's keys as DynamoDB's TTL leaves them, and the name reservations deleting them frees.
 *
 * TTL removes an expired key's item some time after it expired, and nothing else: its holder
 * still lists it and counts it, and its name reservation is removed on its own schedule. So the
 * writes that delete a user's keys, or count them, first ask which still exist, and leave a
 * name that another key has taken since to that key.
 */

/** The deletes of keys and of their name reservations, and where each reservation's delete sits. */
export interface KeyDeletes {
  readonly items: TransactItem[];
  /** The transaction index of each reservation's delete, by key id. */
  readonly reservations: ReadonlyMap<number, string>;
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
export async function liveKeyNames(table: DynamoDbTable, accountId: string, keyIds: readonly string[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  let pending: Record<string, unknown>[] = keyIds.map((keyId) => ({ pk: accountPk(accountId), sk: keySk(keyId) }));
  while (pending.length > 0) {
    const batch = pending.slice(0, 100);
    pending = pending.slice(100);
    const output = await table.client.send(
      new BatchGetCommand({
        RequestItems: {
          [table.name]: {
            Keys: batch,
            ConsistentRead: true,
            ProjectionExpression: '#id, #name',
            ExpressionAttributeNames: { '#id': 'id', '#name': 'name' },
          },
        },
      }),
    );
    for (const item of output.Responses?.[table.name] ?? []) names.set(readString(item, 'id'), readString(item, 'name'));
    const unprocessed = output.UnprocessedKeys?.[table.name]?.Keys ?? [];
    if (unprocessed.length > 0) {
      pending.push(...unprocessed);
      await backoff(1);
    }
  }
  return names;
}

/**
 * Drops from the user's key list and count the keys DynamoDB's TTL removed (liveKeyNames),
 * conditioned on the revision read: 'forgot' when it dropped some, 'none' when every listed
 * key exists, 'raced' when the user changed meanwhile.
 */
export async function forgetRemovedKeys(table: DynamoDbTable, accountId: string, userId: string): Promise<'forgot' | 'none' | 'raced'> {
  const state = await readUserState(table, accountId, userId);
  const names = await liveKeyNames(table, accountId, state.keyIds);
  const removed = state.keyIds.filter((keyId) => !names.has(keyId));
  if (removed.length === 0) return 'none';
  const forgot = await writeIfCondition(() => table.client.send(
    new UpdateCommand({
      TableName: table.name,
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
 * another key (`namesTaken`) keeps its hands off it: see addNamesTaken.
 */
export function keyDeletes(
  tableName: string,
  accountId: string,
  keys: readonly { readonly keyId: string; readonly name: string }[],
  namesTaken: ReadonlySet<string>,
  at: number,
  only?: { readonly userId: string; readonly secretHash?: Uint8Array | undefined },
): KeyDeletes {
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
        TableName: tableName,
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
        TableName: tableName,
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
export function addNamesTaken(cancellation: Cancellation, reservations: ReadonlyMap<number, string>, namesTaken: Set<string>): boolean {
  let added = false;
  for (const [index, keyId] of reservations) {
    if (!cancellation.failed(index) || namesTaken.has(keyId)) continue;
    namesTaken.add(keyId);
    added = true;
  }
  return added;
}

/**
 * Deletes one key, its name reservation and its place on its holder, with the event (and the
 * items of `also`), in one transaction. False if the key is gone, or (given `secretHash`) holds
 * another secret: nothing deleted, nothing written.
 */
export async function deleteKeyAndName(
  table: DynamoDbTable,
  accountId: string,
  keyId: string,
  event: AuditEvent,
  secretHash?: Uint8Array,
  also: readonly TransactItem[] = [],
): Promise<boolean> {
  const namesTaken = new Set<string>();
  return retrying('the API key changed concurrently; retry', async () => {
    const item = await table.get(accountPk(accountId), keySk(keyId));
    if (item === undefined) return false;
    if (secretHash !== undefined && !digestsEqual(readBinary(item, 'secretHash'), secretHash)) return false;
    const userId = readString(item, 'userId');
    const deletes = keyDeletes(table.name, accountId, [{ keyId, name: readString(item, 'name') }], namesTaken, 0, { userId, secretHash });
    const cancellation = await table.transact([
      ...deletes.items,
      {
        Update: {
          TableName: table.name,
          Key: { pk: accountPk(accountId), sk: userSk(userId) },
          UpdateExpression: 'DELETE #keyIds :keyIds ADD #keyCount :minus, #rev :one',
          ConditionExpression: 'contains(#keyIds, :keyId)',
          ExpressionAttributeNames: { '#keyIds': 'keyIds', '#keyCount': 'keyCount', '#rev': 'rev' },
          ExpressionAttributeValues: { ':keyIds': new Set([keyId]), ':keyId': keyId, ':minus': -1, ':one': 1 },
        },
      },
      table.putEvent(event),
      ...also,
    ]);
    if (cancellation === undefined) return true;
    if (addNamesTaken(cancellation, deletes.reservations, namesTaken)) return 'continue';
    // Whatever else failed, the re-read tells: the key is gone, rolled, or it is tried again.
    return undefined;
  });
}
