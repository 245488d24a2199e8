import { beforeAll, describe, expect, it } from 'vitest';
import { insertedAuditEvent } from '#shared/adapters/dynamodb/audit-inserts.ts';
import { KEY_PREFIX } from '#shared/adapters/dynamodb/items.ts';
import { narrowsAccess, stringOf } from '#shared/adapters/dynamodb/narrowing.ts';
import { SYSTEM_ACTOR, auditEvent } from '#shared/domain/audit.ts';
import type { AuditEvent } from '#shared/domain/model.ts';
import { type SeededAccount, type TestTable, createTestTable, seedAccount, seedUser, testKey } from '#test/support/dynamodb.ts';
import { tableChanges } from '#test/support/table-stream.ts';

/**
 * A change of a key's permissions as DynamoDB Local's stream delivers it, held up to the rules
 * the revocation flusher and the event publishing read it with: every change of the list,
 * narrowing or widening, flushes the authorizer cache; the audit event it writes leaves with
 * both lists.
 */

let table: TestTable;
let seeded: SeededAccount;

beforeAll(async () => {
  table = await createTestTable();
  seeded = await seedAccount(table.store);
});

async function keyModifications(since: number, keyId: string): Promise<ReturnType<typeof narrowsAccess>[]> {
  const changes = (await tableChanges(table)).slice(since);
  return changes.filter((change) => change.eventName === 'MODIFY' && stringOf(change.keys?.sk) === `${KEY_PREFIX}${keyId}`).map(narrowsAccess);
}

function updateEvent(keyId: string, before: readonly string[] | null, after: readonly string[] | null): (current: unknown) => AuditEvent {
  return () => ({ ...auditEvent(seeded.account.id, SYSTEM_ACTOR, 'api-key.update', `api-key/${keyId}`, new Date()), permissions: { before, after } });
}

describe("a key's permissions on the table stream", () => {
  it.each([
    ['restricted', null, ['logs:read', 'widgets:read']],
    ['narrowed', ['logs:read', 'widgets:read'], ['logs:read']],
    ['widened', ['logs:read'], ['logs:read', 'widgets:write']],
    ['lifted', ['logs:read'], null],
  ] as const)('%s: the MODIFY of the key item narrows access, and its audit event carries both lists', async (_case, before, after) => {
    // Prepare
    const user = await seedUser(table.store, seeded.account.id, 'owner');
    const key = { ...testKey(user), permissions: before };
    await table.store.createKey(key, auditEvent(seeded.account.id, SYSTEM_ACTOR, 'api-key.create', `api-key/${key.id}`, new Date()), { keysPerUser: 10, rulesPerKey: 5 });
    const since = (await tableChanges(table)).length;

    // Act
    await table.store.setKeyPermissions(seeded.account.id, key.id, after, updateEvent(key.id, before, after));

    // Assess
    expect(await keyModifications(since, key.id)).toEqual([true]);
    const events = (await tableChanges(table)).slice(since).map(insertedAuditEvent).filter((event) => event !== undefined);
    expect(events).toEqual([expect.objectContaining({ action: 'api-key.update', target: `api-key/${key.id}`, permissions: { before, after } })]);
  });

  it('a key used but not changed (lastUsedAt) does not flush: the list alone is no reason', async () => {
    // Prepare
    const user = await seedUser(table.store, seeded.account.id, 'owner');
    const key = { ...testKey(user), permissions: ['logs:read'] };
    await table.store.createKey(key, auditEvent(seeded.account.id, SYSTEM_ACTOR, 'api-key.create', `api-key/${key.id}`, new Date()), { keysPerUser: 10, rulesPerKey: 5 });
    const since = (await tableChanges(table)).length;

    // Act
    await table.store.recordKeyUse(seeded.account.id, key.id, new Date().toISOString());

    // Assess
    expect(await keyModifications(since, key.id)).toEqual([false]);
  });
});
