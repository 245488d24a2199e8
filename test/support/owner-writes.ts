import { randomBytes } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { type OperationId, ROUTES } from '#shared/http/routes.ts';
import type { ApiCall, ApiTestBed } from './api-events.ts';
import type { TestTable } from './dynamodb.ts';

/**
 * Every write an owner's key can make, each with a valid request, for the suites that show a
 * write refused with nothing written (stale principals, secrets rolled away).
 */

export const OWNER_WRITES = ROUTES.filter((route) => route.mutates && (route.roles as readonly string[]).includes('owner'));

/** What a write acts on, made fresh for each case. */
export interface Subject {
  readonly userId: string;
  readonly keyId: string;
  readonly ruleId: string;
}

/** A valid request for each owner write, against the subject. */
export const OWNER_WRITE_REQUESTS: Partial<Record<OperationId, (subject: Subject) => ApiCall>> = {
  createUser: () => ({ body: { name: 'Mallory Owner', email: 'mallory@example.com', role: 'owner' } }),
  updateUser: (s) => ({ params: { userId: s.userId }, body: { role: 'owner' } }),
  deleteUser: (s) => ({ params: { userId: s.userId } }),
  createApiKey: (s) => ({ body: { name: `stale-${randomBytes(4).toString('hex')}`, userId: s.userId } }),
  deleteApiKey: (s) => ({ params: { keyId: s.keyId } }),
  addCidrRule: (s) => ({ params: { keyId: s.keyId }, body: { cidr: '203.0.113.0/24' } }),
  updateCidrRule: (s) => ({ params: { keyId: s.keyId, ruleId: s.ruleId }, body: { cidr: '203.0.113.0/24' } }),
  deleteCidrRule: (s) => ({ params: { keyId: s.keyId, ruleId: s.ruleId } }),
  rollApiKey: (s) => ({ params: { keyId: s.keyId }, body: { gracePeriodSeconds: 60 } }),
  updateApiKey: (s) => ({ params: { keyId: s.keyId }, body: { permissions: ['account:read'] } }),
  // A week of grace: the account key the other cases' callers hold keeps working.
  rollAccountKey: () => ({ body: { gracePeriodSeconds: 604_800 } }),
  updateAccount: () => ({ body: { apiEnabled: true } }),
};

/** A viewer of the bed's account with a key that has one CIDR rule: what the writes act on. */
export async function newSubject(bed: ApiTestBed): Promise<Subject> {
  const subject = await bed.addCaller('viewer');
  const rule = await bed.call('addCidrRule', bed.owner, { params: { keyId: subject.principal.keyId }, body: { cidr: '192.0.2.0/24' } });
  return { userId: subject.user.id, keyId: subject.principal.keyId, ruleId: rule.json.id as string };
}

/** Every item of the table, in a stable order: equal snapshots mean nothing was written. */
export async function tableSnapshot(table: TestTable): Promise<string> {
  const items: unknown[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await table.client.send(new ScanCommand({ TableName: table.tableName, ConsistentRead: true, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  const rows = items.map((item) => JSON.stringify(item, (_k, v: unknown) => (v instanceof Set ? [...(v as Set<unknown>)].sort() : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)));
  return rows.sort().join('\n');
}
