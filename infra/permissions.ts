import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import {
  ACCOUNT_KEY_ENCRYPTION_CONTEXT_PURPOSE,
  ENCRYPTION_CONTEXT_PURPOSE_KEY,
  PEPPER_ENCRYPTION_CONTEXT_PURPOSE,
} from '#shared/adapters/kms-secrets.ts';
import { CONFIG_PK } from '#shared/adapters/dynamodb/items.ts';
import { BY_USER_INDEX, TABLE_KEYS } from '#shared/adapters/table-schema.ts';
import { ROUTES, type FunctionGroup } from '#shared/routes.ts';

/**
 * Exactly what each function may do on the table and the key, derived from the DynamoDB and
 * KMS calls of shared/adapters (DynamoDbStore, KmsSecrets) that its use cases make. Writes in
 * a TransactWriteItems are authorized per item as PutItem / UpdateItem / DeleteItem /
 * ConditionCheckItem, so those are the actions listed.
 */

/** The partition that holds the peppers' ciphertexts (see table-schema.ts). */
export const PEPPER_PARTITION = CONFIG_PK;

type KmsUse = 'none' | 'decrypt-pepper' | 'decrypt-account-key' | 'roll-account-key';

interface GroupAccess {
  readonly tableActions: readonly string[];
  /** Actions on the byUser index (listing one user's keys). */
  readonly indexActions: readonly string[];
  /** Loads the pepper ring (a Query of the pepper partition plus one KMS Decrypt per version). */
  readonly kms: KmsUse;
}

const GROUP_ACCESS: Readonly<Record<FunctionGroup, GroupAccess>> = {
  // Answers from the authorizer's context alone (plus the key-use stamp every route function writes).
  whoami: { tableActions: [], indexActions: [], kms: 'none' },
  // Reads the account; the reveal decrypts the account key and writes its audit event; the API
  // switch updates the account item with its audit event in one transaction; a roll hashes a
  // new account key with the pepper, encrypts it and updates the account.
  account: { tableActions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], indexActions: [], kms: 'roll-account-key' },
  users: {
    tableActions: [
      'dynamodb:GetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:Query',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:ConditionCheckItem',
    ],
    indexActions: [],
    kms: 'none',
  },
  // Creating a key hashes its secret with the pepper.
  'api-keys': {
    tableActions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
    indexActions: ['dynamodb:Query'],
    kms: 'decrypt-pepper',
  },
  'cidr-allow-list': { tableActions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], indexActions: [], kms: 'none' },
  logs: { tableActions: ['dynamodb:Query'], indexActions: [], kms: 'none' },
  // Leak reports: one batched read of the reported keys' items, the pepper to compare digests,
  // and the writes a valid key causes (deleting a user key, ending a grace, flagging the account).
  'leaked-keys': {
    tableActions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
    indexActions: [],
    kms: 'decrypt-pepper',
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
      'ForAllValues:StringEquals': { 'dynamodb:Attributes': [TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey, 'lastUsedAt'] },
      StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE'] },
    },
  });
}

/** Groups with a route that changes state: only they may flush the authorizer cache. */
export function groupMutates(group: FunctionGroup): boolean {
  return ROUTES.some((route) => route.group === group && route.mutates);
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
 * The one write the authorizer makes (shared/digest-upgrades.ts): a digest under an old pepper
 * replaced by one under the newest when its key is used; those attributes only, nothing returned.
 */
function upgradeDigests(table: ITable): PolicyStatement {
  return new PolicyStatement({
    effect: Effect.ALLOW,
    actions: ['dynamodb:UpdateItem'],
    resources: [table.tableArn],
    conditions: {
      'ForAllValues:StringEquals': {
        'dynamodb:Attributes': [TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey, 'secretHash', 'pepperVersion', 'accountKeyHash', 'accountKeyPepperVersion'],
      },
      StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE'] },
    },
  });
}

/** The management function of one route group; `flushArn` is this API stage's authorizer cache. */
export function groupStatements(group: FunctionGroup, { table, key }: DataResources, flushArn: string): PolicyStatement[] {
  const access = GROUP_ACCESS[group];
  const statements: PolicyStatement[] = [];
  if (access.tableActions.length > 0) {
    statements.push(new PolicyStatement({ effect: Effect.ALLOW, actions: [...access.tableActions], resources: [table.tableArn] }));
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
  if (groupMutates(group)) {
    // FlushStageAuthorizersCache is `DELETE /restapis/{id}/stages/{stage}/cache/authorizers`.
    statements.push(new PolicyStatement({ effect: Effect.ALLOW, actions: ['apigateway:DELETE'], resources: [flushArn] }));
  }
  return statements;
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
