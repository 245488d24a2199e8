import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { CidrRule } from '../../domain/cidr.ts';
import { newSecretTag } from '../../domain/secret-tags.ts';
import { isRole, type Role } from '../../domain/roles.ts';
import type { Account, AccountRecord, ApiKey, ApiKeyRecord, AuditEvent, PreviousSecret, User } from '../../domain/model.ts';
import type { AuthorizationSecret } from '../../ports/credentials.ts';
import type { LeakRecord } from '../../ports/key-lifecycle-store.ts';
import { TTL_ATTRIBUTE } from '../table-schema.ts';
import { eventPermissionsAttribute, keyPermissionsAttribute, readEventPermissions, readKeyPermissions } from './permission-attributes.ts';

/**
 * Item keys and the mapping between stored items and model types (layout: table-schema.ts).
 * Every field is read explicitly and type-checked: a stored item is never spread into an API
 * object, so digests and ciphertexts cannot ride along into a response by accident.
 */
export type Item = Record<string, unknown>;

export const ACCOUNT_PREFIX = 'ACCOUNT#';
export const META_SK = 'META';
export const USER_PREFIX = 'USER#';
export const KEY_PREFIX = 'KEY#';
export const KEYNAME_PREFIX = 'KEYNAME#';
export const EVENT_PREFIX = 'EVENT#';
/** A value a leak report found live and acted on, by its SHA-256 (leakRecordItem). */
export const LEAKED_PREFIX = 'LEAKED#';
export const CONFIG_PK = 'CONFIG';
export const PEPPER_PREFIX = 'PEPPER#';
/** The revocation flusher's ledger of flush attempts, one item per stage (flush-ledger.ts). */
export const FLUSH_LEDGER_PK = 'FLUSH-LEDGER';

export const accountPk = (accountId: string): string => `${ACCOUNT_PREFIX}${accountId}`;
export const userSk = (userId: string): string => `${USER_PREFIX}${userId}`;
export const keySk = (keyId: string): string => `${KEY_PREFIX}${keyId}`;
export const keyNameSk = (name: string): string => `${KEYNAME_PREFIX}${name}`;
export const eventSk = (event: AuditEvent): string => `${EVENT_PREFIX}${event.time}#${event.id}`;
export const leakedSk = (valueHash: string): string => `${LEAKED_PREFIX}${valueHash}`;
export const pepperSk = (version: number): string => `${PEPPER_PREFIX}${version}`;
export const userIndexPk = (accountId: string, userId: string): string => `${accountPk(accountId)}#${userSk(userId)}`;

/** Where an item keeps a secret's digest, its pepper version, and the digest an upgrade replaced. */
export interface DigestAttributes {
  readonly hash: string;
  readonly pepperVersion: string;
  readonly upgradedFrom: string;
}

export const USER_KEY_DIGEST: DigestAttributes = { hash: 'secretHash', pepperVersion: 'pepperVersion', upgradedFrom: 'secretHashUpgradedFrom' };
export const ACCOUNT_KEY_DIGEST: DigestAttributes = {
  hash: 'accountKeyHash',
  pepperVersion: 'accountKeyPepperVersion',
  upgradedFrom: 'accountKeyHashUpgradedFrom',
};

/**
 * Where an item keeps the tags of its secrets (domain/secret-tags.ts): the current one, the
 * one a roll replaced, and the end of that one's grace.
 */
export interface SecretTagAttributes {
  readonly current: string;
  readonly previous: string;
  readonly previousExpiresAt: string;
}

export const KEY_SECRET_TAGS: SecretTagAttributes = { current: 'secretTag', previous: 'previousSecretTag', previousExpiresAt: 'previousSecretExpiresAt' };
export const ACCOUNT_KEY_TAGS: SecretTagAttributes = {
  current: 'accountKeyTag',
  previous: 'previousAccountKeyTag',
  previousExpiresAt: 'previousAccountKeyExpiresAt',
};

/**
 * A roll's update of an item's secret tags: the new secret gets a new tag; the replaced one's
 * tag moves to the previous slot for its grace, or goes (a grace of 0, or it had none).
 */
export function rolledSecretTags(
  item: Item,
  attributes: SecretTagAttributes,
  keepsReplaced: boolean,
): { sets: string[]; removes: string[]; names: Record<string, string>; values: Record<string, unknown> } {
  const replaced = readOptionalString(item, attributes.current);
  const names = { '#tag': attributes.current, '#previousTag': attributes.previous };
  const values: Record<string, unknown> = { ':tag': newSecretTag() };
  if (!keepsReplaced || replaced === null) return { sets: ['#tag = :tag'], removes: ['#previousTag'], names, values };
  return { sets: ['#tag = :tag', '#previousTag = :replacedTag'], removes: [], names, values: { ...values, ':replacedTag': replaced } };
}

export function itemKey(pk: string, sk: string): { pk: string; sk: string } {
  return { pk, sk };
}

// The messages name the attribute, never its value: a value may be a digest or ciphertext.
function malformed(name: string): Error {
  return new Error(`stored item has a missing or malformed '${name}'`);
}

export function readString(item: Item, name: string): string {
  const value = item[name];
  if (typeof value !== 'string') throw malformed(name);
  return value;
}

function readOptionalString(item: Item, name: string): string | null {
  const value = item[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw malformed(name);
  return value;
}

export function readNumber(item: Item, name: string): number {
  const value = item[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw malformed(name);
  return value;
}

function readBoolean(item: Item, name: string): boolean {
  const value = item[name];
  if (typeof value !== 'boolean') throw malformed(name);
  return value;
}

export function readBinary(item: Item, name: string): Uint8Array {
  const value = item[name];
  if (!(value instanceof Uint8Array)) throw malformed(name);
  return value;
}

export function readRole(item: Item): Role {
  const value = item.role;
  if (!isRole(value)) throw malformed('role');
  return value;
}

/** A string set (absent when empty: DynamoDB has no empty sets). */
export function readStringSet(item: Item, name: string): string[] {
  const value = item[name];
  if (value === undefined) return [];
  if (!(value instanceof Set)) throw malformed(name);
  return [...(value as Set<unknown>)].map((entry) => {
    if (typeof entry !== 'string') throw malformed(name);
    return entry;
  });
}

export function readRules(item: Item): CidrRule[] {
  const value = item.rules;
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw malformed('rules');
  return value.map((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) throw malformed('rules');
    const rule = entry as Item;
    return { id: readString(rule, 'id'), cidr: readString(rule, 'cidr'), createdAt: readString(rule, 'createdAt') };
  });
}

export function rulesItem(rules: readonly CidrRule[]): Item[] {
  return rules.map((rule) => ({ id: rule.id, cidr: rule.cidr, createdAt: rule.createdAt }));
}

/**
 * The rules' CIDRs as a string set, stored beside the list on a key so that one conditional
 * append can refuse a duplicate (a condition cannot look inside the list's maps). Undefined
 * for no rules: DynamoDB has no empty sets, so the attribute is then removed or left out.
 */
export function cidrSet(rules: readonly CidrRule[]): Set<string> | undefined {
  return rules.length === 0 ? undefined : new Set(rules.map((rule) => rule.cidr));
}

// Accounts

export function accountItem(account: AccountRecord, ownerCount: number): Item {
  return {
    ...itemKey(accountPk(account.id), META_SK),
    id: account.id,
    name: account.name,
    apiEnabled: account.apiEnabled,
    accountKeyMasked: account.accountKeyMasked,
    createdAt: account.createdAt,
    accountKeyHash: account.accountKeyHash,
    accountKeyPepperVersion: account.accountKeyPepperVersion,
    accountKeyCiphertext: account.accountKeyCiphertext,
    // A new secret, so a new tag.
    [ACCOUNT_KEY_TAGS.current]: newSecretTag(),
    ownerCount,
    ...previousAccountKeyAttributes(account.previousAccountKey),
  };
}

/** The attributes of an account key replaced by a roll, while its grace lasts. */
export function previousAccountKeyAttributes(previous: PreviousSecret | undefined): Item {
  if (previous === undefined) return {};
  return {
    previousAccountKeyHash: previous.hash,
    previousAccountKeyPepperVersion: previous.pepperVersion,
    previousAccountKeyExpiresAt: previous.expiresAt,
  };
}

export function accountFromItem(item: Item): Account {
  return {
    id: readString(item, 'id'),
    name: readString(item, 'name'),
    apiEnabled: readBoolean(item, 'apiEnabled'),
    accountKeyMasked: readString(item, 'accountKeyMasked'),
    createdAt: readString(item, 'createdAt'),
    accountKeyLeakReportedAt: readOptionalString(item, 'accountKeyLeakReportedAt'),
  };
}

export function accountRecordFromItem(item: Item): AccountRecord {
  return {
    ...accountFromItem(item),
    accountKeyHash: readBinary(item, 'accountKeyHash'),
    accountKeyPepperVersion: readNumber(item, 'accountKeyPepperVersion'),
    accountKeyCiphertext: readBinary(item, 'accountKeyCiphertext'),
    previousAccountKey: readPrevious(item, 'previousAccountKeyHash', 'previousAccountKeyPepperVersion', 'previousAccountKeyExpiresAt'),
  };
}

function readPrevious(item: Item, hash: string, pepperVersion: string, expiresAt: string): PreviousSecret | undefined {
  if (item[hash] === undefined) return undefined;
  return { hash: readBinary(item, hash), pepperVersion: readNumber(item, pepperVersion), expiresAt: readString(item, expiresAt) };
}

/** A previous secret as the authorizer compares it: its deadline in epoch milliseconds, and its tag if it has one. */
function readAuthorizationSecret(item: Item, hash: string, pepperVersion: string, tags: SecretTagAttributes): AuthorizationSecret | undefined {
  const expiresAt = tags.previousExpiresAt;
  const previous = readPrevious(item, hash, pepperVersion, expiresAt);
  if (previous === undefined) return undefined;
  const tag = readOptionalString(item, tags.previous) ?? undefined;
  return { hash: previous.hash, pepperVersion: previous.pepperVersion, expiresAt: readInstant(previous.expiresAt, expiresAt), tag };
}

function readInstant(value: string, name: string): number {
  const at = Date.parse(value);
  if (Number.isNaN(at)) throw malformed(name);
  return at;
}

/** DynamoDB TTL wants epoch seconds; rounded up so the engine never removes an item before its time. */
export function ttlSeconds(isoTime: string): number {
  return Math.ceil(readInstant(isoTime, TTL_ATTRIBUTE) / 1000);
}

/** Only what the authorizer decides on. */
export function authorizationAccountFromItem(item: Item): {
  apiEnabled: boolean;
  accountKeyHash: Uint8Array;
  accountKeyPepperVersion: number;
  accountKeyTag?: string | undefined;
  previousAccountKey?: AuthorizationSecret | undefined;
} {
  return {
    apiEnabled: readBoolean(item, 'apiEnabled'),
    accountKeyHash: readBinary(item, 'accountKeyHash'),
    accountKeyPepperVersion: readNumber(item, 'accountKeyPepperVersion'),
    accountKeyTag: readOptionalString(item, ACCOUNT_KEY_TAGS.current) ?? undefined,
    previousAccountKey: readAuthorizationSecret(item, 'previousAccountKeyHash', 'previousAccountKeyPepperVersion', ACCOUNT_KEY_TAGS),
  };
}

// Users

export function userItem(user: User, keyIds: readonly string[]): Item {
  return {
    ...itemKey(accountPk(user.accountId), userSk(user.id)),
    id: user.id,
    accountId: user.accountId,
    name: user.name,
    email: user.email,
    role: user.role,
    createdAt: user.createdAt,
    ...(keyIds.length > 0 ? { keyIds: new Set(keyIds) } : {}),
    keyCount: keyIds.length,
    rev: 1,
  };
}

export function userFromItem(item: Item): User {
  return {
    id: readString(item, 'id'),
    accountId: readString(item, 'accountId'),
    name: readString(item, 'name'),
    email: readString(item, 'email'),
    role: readRole(item),
    createdAt: readString(item, 'createdAt'),
  };
}

// Keys

export function keyItem(key: ApiKeyRecord): Item {
  return {
    ...itemKey(accountPk(key.accountId), keySk(key.id)),
    gsi1pk: userIndexPk(key.accountId, key.userId),
    gsi1sk: keySk(key.id),
    id: key.id,
    accountId: key.accountId,
    name: key.name,
    userId: key.userId,
    role: key.role,
    createdAt: key.createdAt,
    ...(key.lastUsedAt === null ? {} : { lastUsedAt: key.lastUsedAt }),
    // Always a list, even empty: adding a rule appends to it.
    rules: rulesItem(key.cidrAllowList),
    ...cidrSetAttribute(key.cidrAllowList),
    secretHash: key.secretHash,
    pepperVersion: key.pepperVersion,
    // A new secret, so a new tag.
    [KEY_SECRET_TAGS.current]: newSecretTag(),
    ...keyExpiryAttributes(key.expiresAt ?? null),
    ...(key.previousSecret === undefined
      ? {}
      : {
          previousSecretHash: key.previousSecret.hash,
          previousPepperVersion: key.previousSecret.pepperVersion,
          previousSecretExpiresAt: key.previousSecret.expiresAt,
        }),
    ...(key.createdBy.userId === null ? {} : { createdByUserId: key.createdBy.userId }),
    ...(key.createdBy.keyId === null ? {} : { createdByKeyId: key.createdBy.keyId }),
    ...keyPermissionsAttribute(key.permissions),
    rev: 1,
  };
}

/**
 * A key with an expiry carries it twice: as ISO 8601 for the API and the authorizer, and as
 * the table's TTL attribute, so that DynamoDB removes the key some time after it expired.
 */
export function keyExpiryAttributes(expiresAt: string | null): Item {
  return expiresAt === null ? {} : { keyExpiresAt: expiresAt, [TTL_ATTRIBUTE]: ttlSeconds(expiresAt) };
}

function cidrSetAttribute(rules: readonly CidrRule[]): { cidrs?: Set<string> } {
  const cidrs = cidrSet(rules);
  return cidrs === undefined ? {} : { cidrs };
}

/** The public view: no digest, no pepper version, no role copy. */
export function apiKeyFromItem(item: Item): ApiKey {
  return {
    id: readString(item, 'id'),
    accountId: readString(item, 'accountId'),
    name: readString(item, 'name'),
    userId: readString(item, 'userId'),
    createdAt: readString(item, 'createdAt'),
    lastUsedAt: readOptionalString(item, 'lastUsedAt'),
    cidrAllowList: readRules(item),
    expiresAt: readOptionalString(item, 'keyExpiresAt'),
    // Keys made before keys recorded their issuer read as issued by the system.
    createdBy: { userId: readOptionalString(item, 'createdByUserId'), keyId: readOptionalString(item, 'createdByKeyId') },
    permissions: readKeyPermissions(item),
  };
}

export function authorizationKeyFromItem(item: Item): {
  userId: string;
  role: Role;
  secretHash: Uint8Array;
  pepperVersion: number;
  secretTag?: string | undefined;
  cidrs: string[];
  expiresAt?: number | undefined;
  previousSecret?: AuthorizationSecret | undefined;
} {
  const expiresAt = readOptionalString(item, 'keyExpiresAt');
  return {
    userId: readString(item, 'userId'),
    role: readRole(item),
    secretHash: readBinary(item, 'secretHash'),
    pepperVersion: readNumber(item, 'pepperVersion'),
    secretTag: readOptionalString(item, KEY_SECRET_TAGS.current) ?? undefined,
    cidrs: readRules(item).map((rule) => rule.cidr),
    expiresAt: expiresAt === null ? undefined : readInstant(expiresAt, 'keyExpiresAt'),
    previousSecret: readAuthorizationSecret(item, 'previousSecretHash', 'previousPepperVersion', KEY_SECRET_TAGS),
  };
}

/** A key's allow list and revision as a transaction's cancellation returned them (raw attribute values). */
export function allowListFromAttributes(item: Record<string, AttributeValue>): { rules: CidrRule[]; rev: number } {
  const rev = Number(item.rev?.N);
  if (!Number.isInteger(rev)) throw malformed('rev');
  const rules = (item.rules?.L ?? []).map((entry) => {
    const rule = entry.M;
    const id = rule?.id?.S;
    const cidr = rule?.cidr?.S;
    const createdAt = rule?.createdAt?.S;
    if (id === undefined || cidr === undefined || createdAt === undefined) throw malformed('rules');
    return { id, cidr, createdAt };
  });
  return { rules, rev };
}

export function keyNameItem(key: ApiKeyRecord): Item {
  // The reservation goes with its key: an expired key's name is freed when TTL removes both.
  const ttl = key.expiresAt === undefined || key.expiresAt === null ? {} : { [TTL_ATTRIBUTE]: ttlSeconds(key.expiresAt) };
  return { ...itemKey(accountPk(key.accountId), keyNameSk(key.name)), keyId: key.id, userId: key.userId, ...ttl };
}

// Leak records

/**
 * What a leak report's write leaves beside it (in its transaction): that this value was a live
 * key of the account, so that a later report of it (GitHub's repeated alert, on any container)
 * can say so after the key is gone. Keyed by the value's SHA-256, never the value; nothing else
 * is kept, and DynamoDB's TTL removes it some time after `until`.
 */
export function leakRecordItem(accountId: string, record: LeakRecord): Item {
  return { ...itemKey(accountPk(accountId), leakedSk(record.valueHash)), [TTL_ATTRIBUTE]: ttlSeconds(record.until) };
}

// Audit events

/**
 * Where an event item carries the tags of the secrets its actor presented, for the
 * transaction that writes it to check (principal-check.ts), which takes them off again: they
 * are never stored.
 */
export const PRESENTED_SECRET_ATTRIBUTES = { accountKey: 'actorAccountKeyTag', userKey: 'actorUserKeyTag' } as const;

export function eventItem(event: AuditEvent, retentionDays: number): Item {
  const item: Item = {
    ...itemKey(accountPk(event.accountId), eventSk(event)),
    id: event.id,
    accountId: event.accountId,
    time: event.time,
    action: event.action,
    actorUserId: event.actor.userId,
    actorKeyId: event.actor.keyId,
    target: event.target,
    sourceIp: event.sourceIp,
    ...eventPermissionsAttribute(event.permissions),
  };
  if (event.presentedSecrets !== undefined) {
    item[PRESENTED_SECRET_ATTRIBUTES.accountKey] = event.presentedSecrets.accountKey;
    item[PRESENTED_SECRET_ATTRIBUTES.userKey] = event.presentedSecrets.userKey;
  }
  if (retentionDays > 0) {
    const happened = Date.parse(event.time);
    if (Number.isNaN(happened)) throw new Error('an audit event needs an ISO-8601 time');
    item.expiresAt = Math.floor(happened / 1000) + retentionDays * 86_400;
  }
  return item;
}

export function eventFromItem(item: Item): AuditEvent {
  return {
    id: readString(item, 'id'),
    accountId: readString(item, 'accountId'),
    time: readString(item, 'time'),
    action: readString(item, 'action'),
    actor: { userId: readOptionalString(item, 'actorUserId'), keyId: readOptionalString(item, 'actorKeyId') },
    target: readString(item, 'target'),
    sourceIp: readOptionalString(item, 'sourceIp'),
    ...permissionsOf(readEventPermissions(item)),
  };
}

function permissionsOf(permissions: AuditEvent['permissions']): Pick<AuditEvent, 'permissions'> {
  return permissions === undefined ? {} : { permissions };
}

// Peppers

export function pepperFromItem(item: Item): { version: number; ciphertext: Uint8Array } {
  return { version: readNumber(item, 'version'), ciphertext: readBinary(item, 'ciphertext') };
}
