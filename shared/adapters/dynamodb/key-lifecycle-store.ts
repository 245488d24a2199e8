import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../../domain/errors.ts';
import { digestsEqual } from '../../domain/hashing.ts';
import { graceDeadline, hasExpired } from '../../domain/key-lifecycle.ts';
import type { ApiKey, AuditEvent } from '../../domain/model.ts';
import type { KeyLifecycleStore, LeakRecord, LeakRef, NewSecret, SecretRef, SecretsFound } from '../../ports/key-lifecycle-store.ts';
import {
  ACCOUNT_KEY_TAGS,
  ACCOUNT_PREFIX,
  KEY_SECRET_TAGS,
  LEAKED_PREFIX,
  META_SK,
  accountPk,
  apiKeyFromItem,
  authorizationAccountFromItem,
  authorizationKeyFromItem,
  keySk,
  leakRecordItem,
  leakedSk,
  readBinary,
  readNumber,
  readString,
  rolledSecretTags,
} from './items.ts';
import { TTL_ATTRIBUTE } from '../table-schema.ts';
import { permissionsUnchanged } from './permission-attributes.ts';
import { deleteKeyAndName } from './reservations.ts';
import { retrying } from './retry.ts';
import { DynamoDbTable, type DynamoDbStoreOptions } from './table.ts';
import type { TransactItem } from './transact-item.ts';

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

/**
 * The secrets of keys and account keys on the table: rolls with their grace, and what a leak
 * report does. Every write is conditioned on the digest it was about, so that a roll in between
 * makes it refuse rather than act on a secret that is no longer the one reported or read.
 */
export class DynamoDbKeyLifecycleStore implements KeyLifecycleStore {
  readonly #table: DynamoDbTable;

  constructor(client: DynamoDBDocumentClient, tableName: string, options: DynamoDbStoreOptions = {}) {
    this.#table = new DynamoDbTable(client, tableName, options);
  }

  async rollKey(
    accountId: string,
    keyId: string,
    secret: NewSecret,
    gracePeriodSeconds: number,
    at: Date,
    event: AuditEvent,
    check?: (key: ApiKey) => void,
  ): Promise<{ readonly key: ApiKey; readonly previousSecretExpiresAt: string | null }> {
    const table = this.#table;
    // The digest read first is the one every attempt is conditioned on: a roll that lands in
    // between makes this one a 409, never a second new secret on top of it.
    let replaced: Uint8Array | undefined;
    return retrying('the API key changed concurrently; retry', async () => {
      const item = await table.get(accountPk(accountId), keySk(keyId));
      if (item === undefined) throw new NotFoundError('api key');
      const current = readBinary(item, 'secretHash');
      replaced ??= current;
      if (!digestsEqual(current, replaced)) throw new ConflictError('the API key was rolled concurrently; retry');
      const key = apiKeyFromItem(item);
      if (hasExpired(key.expiresAt, at)) throw new ConflictError('the API key has expired; create a new one');
      check?.(key);
      // What the check saw of the key's permissions is what the roll lands on, or it reads again.
      const unchanged = permissionsUnchanged(item);
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
      const cancellation = await table.transact([
        {
          Update: {
            TableName: table.name,
            Key: { pk: accountPk(accountId), sk: keySk(keyId) },
            UpdateExpression: `SET ${sets.join(', ')}${removes.length === 0 ? '' : ` REMOVE ${removes.join(', ')}`}`,
            ConditionExpression: `attribute_exists(#pk) AND #secretHash = :replaced AND ${unchanged.condition}`,
            ExpressionAttributeNames: { ...names, ...unchanged.names },
            ExpressionAttributeValues: {
              ...unchanged.values,
              ':hash': secret.hash,
              ':pepperVersion': secret.pepperVersion,
              ':replaced': replaced,
              ...(deadline === undefined ? {} : { ':old': current, ':oldPepperVersion': readNumber(item, 'pepperVersion'), ':deadline': deadline }),
              ...tags.values,
            },
          },
        },
        table.putEvent(event),
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
    const table = this.#table;
    let replaced: Uint8Array | undefined;
    return retrying('the account changed concurrently; retry', async () => {
      const item = await table.get(accountPk(accountId), META_SK);
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
      const cancellation = await table.transact([
        {
          Update: {
            TableName: table.name,
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
        table.putEvent(event),
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
    for (const item of await this.#table.batchGetAll([...wanted.values()])) {
      const accountId = readString(item, 'pk').slice(ACCOUNT_PREFIX.length);
      if (item.sk === META_SK) found.accounts.set(accountId, authorizationAccountFromItem(item));
      else found.keys.set(`${accountId}/${readString(item, 'id')}`, authorizationKeyFromItem(item));
    }
    return found;
  }

  deleteKeyIfSecret(accountId: string, keyId: string, secretHash: Uint8Array, event: AuditEvent, leak?: LeakRecord): Promise<boolean> {
    return deleteKeyAndName(this.#table, accountId, keyId, event, secretHash, this.#leakRecord(accountId, leak));
  }

  async endPreviousSecret(accountId: string, keyId: string, hash: Uint8Array, event: AuditEvent, leak?: LeakRecord): Promise<boolean> {
    return this.#endPrevious({ pk: accountPk(accountId), sk: keySk(keyId) }, PREVIOUS_SECRET_NAMES, hash, event, this.#leakRecord(accountId, leak));
  }

  async endPreviousAccountKey(accountId: string, hash: Uint8Array, event: AuditEvent, leak?: LeakRecord): Promise<boolean> {
    const { '#previousHash': h, '#previousPepperVersion': v, '#previousExpiresAt': e } = ACCOUNT_KEY_NAMES;
    return this.#endPrevious(
      { pk: accountPk(accountId), sk: META_SK },
      { '#previousHash': h, '#previousPepperVersion': v, '#previousExpiresAt': e },
      hash,
      event,
      this.#leakRecord(accountId, leak),
    );
  }

  async flagAccountKeyLeak(accountId: string, hash: Uint8Array, at: string, event: AuditEvent, leak?: LeakRecord): Promise<boolean> {
    return this.#table.updateAudited({
      Key: { pk: accountPk(accountId), sk: META_SK },
      UpdateExpression: 'SET #leak = :at',
      // Only while the reported key is still the account's key (a roll since answered the report),
      // and once per key: a roll clears the flag, so a repeated report writes nothing, not even its event.
      ConditionExpression: '#hash = :hash AND attribute_not_exists(#leak)',
      ExpressionAttributeNames: { '#leak': 'accountKeyLeakReportedAt', '#hash': 'accountKeyHash' },
      ExpressionAttributeValues: { ':at': at, ':hash': hash },
    }, event, this.#leakRecord(accountId, leak));
  }

  async leaksRecorded(refs: readonly LeakRef[], at: Date): Promise<ReadonlySet<string>> {
    const wanted = new Map<string, { pk: string; sk: string }>();
    for (const ref of refs) {
      const key = { pk: accountPk(ref.accountId), sk: leakedSk(ref.valueHash) };
      wanted.set(`${key.pk}|${key.sk}`, key);
    }
    // DynamoDB's TTL removes an item some time after its expiry, not at it: one past it counts as gone.
    const now = Math.floor(at.getTime() / 1000);
    const recorded = new Set<string>();
    for (const item of await this.#table.batchGetAll([...wanted.values()])) {
      if (readNumber(item, TTL_ATTRIBUTE) > now) recorded.add(readString(item, 'sk').slice(LEAKED_PREFIX.length));
    }
    return recorded;
  }

  /** The leak record's put, to ride in the write's transaction; none without a record. */
  #leakRecord(accountId: string, leak: LeakRecord | undefined): TransactItem[] {
    return leak === undefined ? [] : [{ Put: { TableName: this.#table.name, Item: leakRecordItem(accountId, leak) } }];
  }

  /** Ends a rolled secret's grace at once, if `hash` is still that secret. */
  async #endPrevious(
    key: { pk: string; sk: string },
    names: Readonly<Record<keyof typeof PREVIOUS_SECRET_NAMES, string>>,
    hash: Uint8Array, event: AuditEvent, also: readonly TransactItem[]): Promise<boolean> {
    return this.#table.updateAudited({
      Key: key,
      UpdateExpression: 'REMOVE #previousHash, #previousPepperVersion, #previousExpiresAt',
      ConditionExpression: '#previousHash = :hash',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':hash': hash },
    }, event, also);
  }
}
