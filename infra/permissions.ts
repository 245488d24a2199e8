import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import {
  ACCOUNT_KEY_ENCRYPTION_CONTEXT_PURPOSE,
  ENCRYPTION_CONTEXT_PURPOSE_KEY,
  PEPPER_ENCRYPTION_CONTEXT_PURPOSE,
} from '#shared/adapters/kms-secrets.ts';
import { FLUSH_LEDGER_ATTRIBUTES } from '#shared/adapters/dynamodb/flush-ledger.ts';
import { ACCOUNT_PREFIX, CONFIG_PK, FLUSH_LEDGER_PK } from '#shared/adapters/dynamodb/items.ts';
import { ACCOUNT_KEY_DIGEST, USER_KEY_DIGEST } from '#shared/adapters/dynamodb/items.ts';
import { BY_USER_INDEX, TABLE_KEYS, TTL_ATTRIBUTE } from '#shared/adapters/table-schema.ts';
import type { FunctionGroup } from '#shared/http/routes.ts';

/**
 * Exactly what each function may do on the table and the key, derived from the DynamoDB and
 * KMS calls of shared/adapters (DynamoDbStore, KmsSecrets) that its use cases make. Writes in
 * a TransactWriteItems are authorized per item as PutItem / UpdateItem / DeleteItem /
 * ConditionCheckItem, so those are the actions listed.
 */

/** The partition that holds the peppers' ciphertexts (see table-schema.ts). */
export const PEPPER_PARTITION = CONFIG_PK;

type KmsUse = 'none' | 'decrypt-pepper' | 'decrypt-account-key' | 'roll-account-key';

/**
 * The partitions a management function may touch: its accounts', never CONFIG (the peppers).
 * DynamoDB authorizes each item of a transaction or batch on its own, so this holds for every
 * write. Account ids are not known to the policy (one function serves every account), so the
 * tenant boundary itself is the authorizer's principal and the store's keys, not IAM.
 */
export const ACCOUNT_PARTITIONS = `${ACCOUNT_PREFIX}*`;

/** What an audit event item holds (shared/adapters/dynamodb/items.ts eventItem). */
export const EVENT_ATTRIBUTES = [
  TABLE_KEYS.partitionKey,
  TABLE_KEYS.sortKey,
  'id',
  'accountId',
  'time',
  'action',
  'actorUserId',
  'actorKeyId',
  'target',
  'sourceIp',
  TTL_ATTRIBUTE,
] as const;

/** What a leak record holds (items.ts leakRecordItem): its keys (the value's SHA-256 in the sort key) and its TTL. */
export const LEAK_RECORD_ATTRIBUTES = [TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey, TTL_ATTRIBUTE] as const;

/** What rolling the account key (or a leak report about it) writes on the account item. */
export const ACCOUNT_KEY_ROLL_ATTRIBUTES = [
  'accountKeyHash',
  'accountKeyPepperVersion',
  'accountKeyCiphertext',
  'accountKeyMasked',
  'accountKeyTag',
  'previousAccountKeyHash',
  'previousAccountKeyPepperVersion',
  'previousAccountKeyExpiresAt',
  'previousAccountKeyTag',
  'accountKeyLeakReportedAt',
] as const;

/** What recording a key's expiry writes on its holder's user item: the key list and count, and the revision. */
export const KEY_EXPIRY_USER_ATTRIBUTES = [TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey, 'keyIds', 'keyCount', 'rev'] as const;

/** What editing an allow list writes on a key item: never its role, holder or digest. */
export const ALLOW_LIST_ATTRIBUTES = [TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey, 'rules', 'cidrs', 'rev', 'lastUsedAt'] as const;

/**
 * What the users function puts: a new user item (items.ts userItem) and audit events. Never a
 * digest, a pepper version or an allow list, so it cannot make or replace a key that works.
 */
export const USER_PUT_ATTRIBUTES = [
  ...EVENT_ATTRIBUTES,
  'name',
  'email',
  'role',
  'createdAt',
  'keyIds',
  'keyCount',
  'rev',
] as const;

/**
 * What the users function updates: a user's role, key list, count and revision, the role copy
 * on each of the user's keys, the account's owner count, and the key-use stamp.
 */
export const USER_UPDATE_ATTRIBUTES = [
  TABLE_KEYS.partitionKey,
  TABLE_KEYS.sortKey,
  'role',
  'keyIds',
  'keyCount',
  'rev',
  'ownerCount',
  'lastUsedAt',
] as const;

/**
 * What the api-keys function puts: a new key (items.ts keyItem as issueUserKey makes it: no
 * allow list yet, no previous secret), its name reservation (keyNameItem) and audit events
 * (a key's `permissions` on both: the key's restriction, and the list its events record).
 */
export const API_KEY_PUT_ATTRIBUTES = [
  ...EVENT_ATTRIBUTES,
  BY_USER_INDEX.partitionKey,
  BY_USER_INDEX.sortKey,
  'name',
  'userId',
  'role',
  'createdAt',
  'rules',
  'secretHash',
  'pepperVersion',
  'secretTag',
  'keyExpiresAt',
  'createdByUserId',
  'createdByKeyId',
  'permissions',
  'rev',
  'keyId',
] as const;

/**
 * What the api-keys function updates: a holder's key list, count and revision (a key created,
 * deleted, or removed by TTL and forgotten), a rolled key's digest and the secret it replaced,
 * a key's permissions, and the key-use stamp. Never a role, an allow list or anything of the
 * account item.
 */
export const API_KEY_UPDATE_ATTRIBUTES = [
  TABLE_KEYS.partitionKey,
  TABLE_KEYS.sortKey,
  'keyIds',
  'keyCount',
  'rev',
  'permissions',
  'secretHash',
  'pepperVersion',
  'secretTag',
  'previousSecretHash',
  'previousPepperVersion',
  'previousSecretExpiresAt',
  'previousSecretTag',
  'lastUsedAt',
] as const;

/**
 * What moving a digest to the newest pepper writes (shared/adapters/dynamodb/digest-upgrades.ts):
 * the digest, its version, and the digest it replaced (which tells the stream it was no roll).
 */
export const DIGEST_UPGRADE_ATTRIBUTES = [
  TABLE_KEYS.partitionKey,
  TABLE_KEYS.sortKey,
  USER_KEY_DIGEST.hash,
  USER_KEY_DIGEST.pepperVersion,
  USER_KEY_DIGEST.upgradedFrom,
  ACCOUNT_KEY_DIGEST.hash,
  ACCOUNT_KEY_DIGEST.pepperVersion,
  ACCOUNT_KEY_DIGEST.upgradedFrom,
] as const;

interface GroupAccess {
  readonly tableActions: readonly string[];
  /** Actions on the byUser index (listing one user's keys). */
  readonly indexActions: readonly string[];
  /** Loads the pepper ring (a Query of the pepper partition plus one KMS Decrypt per version). */
  readonly kms: KmsUse;
  /**
   * PutItem may write only items made of these attributes, and UpdateItem only these (returning
   * none of the others): `dynamodb:Attributes`. Required, so that no group can be given a write
   * of any attribute by leaving its list out; empty for a group that neither puts nor updates.
   */
  readonly puts: readonly string[];
  readonly updates: readonly string[];
}

/** A group that reads and writes whole items in transactions (users, user keys). */
const TRANSACTIONAL_WRITER_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:ConditionCheckItem',
] as const;

/**
 * Every function that writes a transaction with an audit event also needs ConditionCheckItem
 * and BatchGetItem: the stale-principal check (shared/adapters/dynamodb/principal-check.ts)
 * checks the caller's key and account in the same transaction and reads them after a refusal.
 */
const GROUP_ACCESS: Readonly<Record<FunctionGroup, GroupAccess>> = {
  // Answers from the authorizer's context alone (plus the key-use stamp every route function writes).
  whoami: { tableActions: [], indexActions: [], kms: 'none', puts: [], updates: [] },
  // Reads the account; the reveal decrypts the account key and writes its audit event; the API
  // switch sets the account's apiEnabled with its audit event in one transaction; a roll of the
  // account key hashes the new key with the pepper, encrypts it for reveal and sets the account
  // key's attributes (and the one it replaces, for its grace period), never anything else.
  account: {
    tableActions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'],
    indexActions: [],
    kms: 'roll-account-key',
    puts: EVENT_ATTRIBUTES,
    updates: [TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey, 'apiEnabled', 'lastUsedAt', ...ACCOUNT_KEY_ROLL_ATTRIBUTES],
  },
  // Adds, changes and deletes users with their keys' role copies and the owner count.
  users: {
    tableActions: TRANSACTIONAL_WRITER_ACTIONS,
    indexActions: [],
    kms: 'none',
    puts: USER_PUT_ATTRIBUTES,
    updates: USER_UPDATE_ATTRIBUTES,
  },
  // Creating a key hashes its secret with the pepper.
  'api-keys': {
    tableActions: TRANSACTIONAL_WRITER_ACTIONS,
    indexActions: ['dynamodb:Query'],
    kms: 'decrypt-pepper',
    puts: API_KEY_PUT_ATTRIBUTES,
    updates: API_KEY_UPDATE_ATTRIBUTES,
  },
  // Edits allow lists: may put audit events and update a key's rules, never its role or digest.
  'cidr-allow-list': {
    tableActions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'],
    indexActions: [],
    kms: 'none',
    puts: EVENT_ATTRIBUTES,
    updates: ALLOW_LIST_ATTRIBUTES,
  },
  logs: { tableActions: ['dynamodb:Query'], indexActions: [], kms: 'none', puts: [], updates: [] },
  // Leak reports: one batched read of the reported keys' items, the pepper to compare digests,
  // and the writes a valid key causes (deleting a user key, ending a grace, flagging the account),
  // each with its audit event and its leak record (GitHub's alerts read those back, batched).
  // Its updates touch only a key's holder list (a deleted key), the secrets a roll replaced
  // (a grace ended) and the account's leak flag: never a role, a digest in use or an allow list.
  'leaked-keys': {
    tableActions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
    indexActions: [],
    kms: 'decrypt-pepper',
    puts: [...new Set([...EVENT_ATTRIBUTES, ...LEAK_RECORD_ATTRIBUTES])],
    updates: [
      TABLE_KEYS.partitionKey,
      TABLE_KEYS.sortKey,
      'keyIds',
      'keyCount',
      'rev',
      'previousSecretHash',
      'previousPepperVersion',
      'previousSecretExpiresAt',
      'previousAccountKeyHash',
      'previousAccountKeyPepperVersion',
      'previousAccountKeyExpiresAt',
      'accountKeyLeakReportedAt',
    ],
  },
};

/**
 * After each successful request a route function stamps the caller's key with `lastUsedAt`
 * (DynamoDbStore.recordKeyUse). Groups that update nothing else get UpdateItem for that
 * attribute alone, with nothing returned.
 */
function recordKeyUse(table: ITable): PolicyStatement {
  return new PolicyStatement({
    effect: Effect.ALLOW,
    actions: ['dynamodb:UpdateItem'],
    resources: [table.tableArn],
    conditions: {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [ACCOUNT_PARTITIONS] },
      'ForAllValues:StringEquals': { 'dynamodb:Attributes': [TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey, 'lastUsedAt'] },
      StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE'] },
    },
  });
}

/** `action` (PutItem or UpdateItem) in the account partitions, on `attributes` only, returning nothing. */
function onlyAttributes(table: ITable, action: string, attributes: readonly string[]): PolicyStatement {
  return new PolicyStatement({
    effect: Effect.ALLOW,
    actions: [action],
    resources: [table.tableArn],
    conditions: {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [ACCOUNT_PARTITIONS] },
      'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...attributes] },
      // ALL_OLD / ALL_NEW would hand back the attributes the policy keeps out of reach.
      StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE'] },
    },
  });
}

function decryptUnderPurpose(key: IKey, purpose: string): PolicyStatement {
  return new PolicyStatement({
    effect: Effect.ALLOW,
    actions: ['kms:Decrypt'],
    resources: [key.keyArn],
    conditions: { StringEquals: { [`kms:EncryptionContext:${ENCRYPTION_CONTEXT_PURPOSE_KEY}`]: purpose } },
  });
}

/** Queries restricted to the pepper partition: loading the pepper ring reads nothing else. */
function queryPepperPartition(table: ITable): PolicyStatement {
  return new PolicyStatement({
    effect: Effect.ALLOW,
    actions: ['dynamodb:Query'],
    resources: [table.tableArn],
    conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [PEPPER_PARTITION] } },
  });
}

export interface DataResources {
  readonly table: ITable;
  readonly key: IKey;
}

/**
 * The authorizer reads: one BatchGetItem per request (GetItem kept for a single read), and at
 * cold start (and every few minutes) a Query of the pepper partition and a Decrypt of each
 * pepper, allowed only under the pepper's encryption context, so it cannot decrypt account
 * keys. Its only write moves a digest to the newest pepper.
 */
export function authorizerStatements({ table, key }: DataResources): PolicyStatement[] {
  return [
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'],
      resources: [table.tableArn],
    }),
    queryPepperPartition(table),
    decryptUnderPurpose(key, PEPPER_ENCRYPTION_CONTEXT_PURPOSE),
    upgradeDigests(table),
  ];
}

/**
 * The one write the authorizer makes (shared/authorization/digest-upgrades.ts): a digest under an old pepper
 * replaced by one under the newest when its key is used; those attributes only, nothing returned.
 */
function upgradeDigests(table: ITable): PolicyStatement {
  return new PolicyStatement({
    effect: Effect.ALLOW,
    actions: ['dynamodb:UpdateItem'],
    resources: [table.tableArn],
    conditions: {
      // Digests live in the account partitions only: never a pepper item.
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [ACCOUNT_PARTITIONS] },
      'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...DIGEST_UPGRADE_ATTRIBUTES] },
      StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE'] },
    },
  });
}

/**
 * The management function of one route group. None flushes the authorizer cache: the
 * revocation flusher does (infra/constructs/revocation-flusher.ts).
 */
export function groupStatements(group: FunctionGroup, { table, key }: DataResources): PolicyStatement[] {
  const access = GROUP_ACCESS[group];
  const statements: PolicyStatement[] = [];
  const accountPartitions = { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [ACCOUNT_PARTITIONS] } };
  const limited = new Map<string, readonly string[]>([
    ['dynamodb:PutItem', access.puts],
    ['dynamodb:UpdateItem', access.updates],
  ]);
  const unlimited = access.tableActions.filter((action) => !limited.has(action));
  if (unlimited.length > 0) {
    statements.push(new PolicyStatement({ effect: Effect.ALLOW, actions: unlimited, resources: [table.tableArn], conditions: accountPartitions }));
  }
  for (const [action, attributes] of limited) {
    if (access.tableActions.includes(action)) statements.push(onlyAttributes(table, action, attributes));
  }
  if (!access.tableActions.includes('dynamodb:UpdateItem')) statements.push(recordKeyUse(table));
  if (access.indexActions.length > 0) {
    statements.push(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: [...access.indexActions],
        resources: [`${table.tableArn}/index/${BY_USER_INDEX.name}`],
      }),
    );
  }
  if (access.kms === 'decrypt-pepper') {
    statements.push(queryPepperPartition(table), decryptUnderPurpose(key, PEPPER_ENCRYPTION_CONTEXT_PURPOSE));
  }
  if (access.kms === 'decrypt-account-key') {
    statements.push(decryptUnderPurpose(key, ACCOUNT_KEY_ENCRYPTION_CONTEXT_PURPOSE));
  }
  if (access.kms === 'roll-account-key') {
    statements.push(
      queryPepperPartition(table),
      decryptUnderPurpose(key, PEPPER_ENCRYPTION_CONTEXT_PURPOSE),
      decryptUnderPurpose(key, ACCOUNT_KEY_ENCRYPTION_CONTEXT_PURPOSE),
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['kms:Encrypt'],
        resources: [key.keyArn],
        conditions: { StringEquals: { [`kms:EncryptionContext:${ENCRYPTION_CONTEXT_PURPOSE_KEY}`]: ACCOUNT_KEY_ENCRYPTION_CONTEXT_PURPOSE } },
      }),
    );
  }
  return statements;
}

/**
 * The key expiry job of the table signals function (shared/services/key-expiry.ts): puts the `api-key.expire` audit event
 * and takes the key off its holder's list and count, two plain conditional writes. It reads
 * nothing of the table (the removed key arrives in the stream record) and deletes nothing.
 */
export function keyExpiryStatements({ table }: Pick<DataResources, 'table'>): PolicyStatement[] {
  return [onlyAttributes(table, 'dynamodb:PutItem', EVENT_ATTRIBUTES), onlyAttributes(table, 'dynamodb:UpdateItem', KEY_EXPIRY_USER_ATTRIBUTES)];
}

/**
 * The event publishing job of the table signals function (shared/services/event-publishing.ts): puts events on the deployment's own
 * bus and no other. It reads nothing of the table (the new audit item arrives in the stream record).
 */
export function eventPublisherStatements({ eventBusArn }: { readonly eventBusArn: string }): PolicyStatement[] {
  return [new PolicyStatement({ effect: Effect.ALLOW, actions: ['events:PutEvents'], resources: [eventBusArn] })];
}

/**
 * The revocation flusher (shared/services/shared-revocation-flusher.ts): reads and writes its
 * stage's flush ledger, one item of its own partition, only the ledger's attributes, returning
 * nothing. It reads and writes no other item.
 */
export function revocationFlusherStatements({ table }: Pick<DataResources, 'table'>): PolicyStatement[] {
  return [
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      resources: [table.tableArn],
      conditions: {
        'ForAllValues:StringEquals': {
          'dynamodb:LeadingKeys': [FLUSH_LEDGER_PK],
          'dynamodb:Attributes': [TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey, ...FLUSH_LEDGER_ATTRIBUTES],
        },
        StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE'] },
      },
    }),
  ];
}

/** Pepper provisioning: list and add pepper versions, and have KMS make one under the pepper context. */
export function pepperInitStatements({ table, key }: DataResources): PolicyStatement[] {
  return [
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['dynamodb:Query', 'dynamodb:PutItem'],
      resources: [table.tableArn],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [PEPPER_PARTITION] } },
    }),
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['kms:GenerateDataKeyWithoutPlaintext'],
      resources: [key.keyArn],
      conditions: {
        StringEquals: { [`kms:EncryptionContext:${ENCRYPTION_CONTEXT_PURPOSE_KEY}`]: PEPPER_ENCRYPTION_CONTEXT_PURPOSE },
      },
    }),
  ];
}

/**
 * The stage whose authorizer cache the revocation flusher empties: a REST API's stage, or an
 * HTTP API's (the `http` flavor).
 */
export type FlushedStage =
  | { readonly flavor: 'rest'; readonly restApiId: string; readonly stageName: string }
  | { readonly flavor: 'http'; readonly httpApiId: string; readonly stageName: string };

/**
 * Emptying that one stage's authorizer cache, and no other stage's or API's. REST's
 * FlushStageAuthorizersCache is `DELETE /restapis/{id}/stages/{stage}/cache/authorizers`; HTTP
 * API's ResetAuthorizersCache is `DELETE /v2/apis/{id}/stages/{stage}/cache/authorizers`, which
 * IAM names by the path without its version (`/apis/...`), as every API Gateway V2 resource.
 */
export function flushAuthorizerCacheStatement(stage: FlushedStage, { partition, region }: { readonly partition: string; readonly region: string }): PolicyStatement {
  const path = stage.flavor === 'rest' ? `/restapis/${stage.restApiId}` : `/apis/${stage.httpApiId}`;
  return new PolicyStatement({
    effect: Effect.ALLOW,
    actions: ['apigateway:DELETE'],
    resources: [`arn:${partition}:apigateway:${region}::${path}/stages/${stage.stageName}/cache/authorizers`],
  });
}
