import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { createTable } from '#shared/adapters/create-table.ts';
import { DynamoDbStore, type DynamoDbStoreOptions } from '#shared/adapters/dynamodb-store.ts';
import { newId } from '#shared/domain/ids.ts';
import type { Role } from '#shared/domain/roles.ts';
import type { AccountRecord, ApiKeyRecord, AuditEvent, User } from '#shared/domain/model.ts';
import type { Store } from '#shared/ports/store.ts';

export interface TestTable {
  readonly raw: DynamoDBClient;
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly store: DynamoDbStore;
}

/** A fresh, uniquely named table on the run's DynamoDB Local (or another engine's), with a store on it. */
export async function createTestTable(options: DynamoDbStoreOptions = {}, endpoint: string = inject('dynamodbEndpoint')): Promise<TestTable> {
  const raw = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const client = DynamoDBDocumentClient.from(raw);
  const tableName = `latchkey-test-${newId()}`;
  await createTable(raw, tableName);
  return { raw, client, tableName, store: new DynamoDbStore(client, tableName, options) };
}

/** Stand-in digest bytes: the store never looks inside them. */
export function fakeDigest(): Buffer {
  return randomBytes(32);
}

export function testEvent(accountId: string, action = 'test.action', at = new Date()): AuditEvent {
  return {
    id: newId(),
    accountId,
    time: at.toISOString(),
    action,
    actor: { userId: null, keyId: null },
    target: `account/${accountId}`,
    sourceIp: null,
  };
}

export function testUser(accountId: string, role: Role = 'viewer'): User {
  const id = newId();
  return { id, accountId, name: `user ${id}`, email: `${id.toLowerCase()}@example.com`, role, createdAt: new Date().toISOString() };
}

export function testKey(user: User, name = `key-${newId()}`): ApiKeyRecord {
  return {
    id: newId(),
    accountId: user.accountId,
    name,
    userId: user.id,
    role: user.role,
    createdAt: new Date().toISOString(),
    lastUsedAt: null,
    cidrAllowList: [],
    createdBy: { userId: null, keyId: null },
    secretHash: fakeDigest(),
    pepperVersion: 1,
  };
}

export interface SeededAccount {
  readonly account: AccountRecord;
  readonly owner: User;
  readonly ownerKey: ApiKeyRecord;
}

/** An account with its first owner and that owner's key, created through the store. */
export async function seedAccount(store: Store, options: { apiEnabled?: boolean } = {}): Promise<SeededAccount> {
  const id = newId();
  const account: AccountRecord = {
    id,
    name: `account ${id}`,
    apiEnabled: options.apiEnabled ?? true,
    accountKeyMasked: 'lka_********wxyz',
    createdAt: new Date().toISOString(),
    accountKeyHash: fakeDigest(),
    accountKeyPepperVersion: 1,
    accountKeyCiphertext: randomBytes(64),
  };
  const owner = testUser(id, 'owner');
  const ownerKey = testKey(owner, 'owner-initial-key');
  await store.createAccount({ account, owner, ownerKey, event: testEvent(id, 'account.create') });
  return { account, owner, ownerKey };
}

/** Creates a user through the store and returns it. */
export async function seedUser(store: Store, accountId: string, role: Role = 'viewer'): Promise<User> {
  const user = testUser(accountId, role);
  await store.createUser(user, testEvent(accountId, 'user.create'));
  return user;
}
