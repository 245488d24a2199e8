import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR, auditEvent } from '#shared/domain/audit.ts';
import type { Principal } from '#shared/domain/model.ts';
import { isApiSwitchRoute } from '#shared/authorization/api-switch.ts';
import type { OperationId } from '#shared/http/routes.ts';
import { type ApiTestBed, type GatewayCall, type GatewayTestBed, createApiTestBed, createGatewayTestBed } from '#test/support/api-events.ts';
import { OWNER_WRITES, OWNER_WRITE_REQUESTS as REQUESTS, type Subject, newSubject, tableSnapshot as snapshot } from '#test/support/owner-writes.ts';

/**
 * No lasting access from a stale principal: an owner demoted or deleted (or whose key was
 * deleted, or whose account's API was turned off) a moment ago may still hold a cached Allow.
 * Every owner write re-checks the caller inside its own transaction and answers 401 with
 * nothing written. Run on every mutating route of the table.
 */

type Staleness = 'demoted' | 'deleted' | 'key deleted' | 'api off';
const STALENESS: readonly Staleness[] = ['demoted', 'deleted', 'key deleted', 'api off'];

describe('a stale owner, through the handlers', () => {
  let bed: ApiTestBed;

  beforeAll(async () => {
    bed = await createApiTestBed();
  });

  it('covers every owner write of the route table', () => {
    expect(OWNER_WRITES.length).toBeGreaterThan(0);
    for (const route of OWNER_WRITES) expect(REQUESTS[route.operationId], `no stale-principal case for ${route.operationId}`).toBeDefined();
  });

  /** A fresh owner (the one who goes stale) and a subject in the same account. */
  async function setUp(): Promise<{ stale: Principal; subject: Subject }> {
    const stale = await bed.addCaller('owner');
    return { stale: stale.principal, subject: await newSubject(bed) };
  }

  async function makeStale(stale: Principal, how: Staleness): Promise<void> {
    const accountId = stale.accountId;
    if (how === 'demoted') expect((await bed.call('updateUser', bed.owner, { params: { userId: stale.userId }, body: { role: 'viewer' } })).status).toBe(200);
    if (how === 'deleted') expect((await bed.call('deleteUser', bed.owner, { params: { userId: stale.userId } })).status).toBe(204);
    if (how === 'key deleted') expect((await bed.call('deleteApiKey', bed.owner, { params: { keyId: stale.keyId } })).status).toBe(204);
    if (how === 'api off') {
      await bed.deps.store.setApiEnabled(accountId, false, auditEvent(accountId, SYSTEM_ACTOR, 'account.api-disable', `account/${accountId}`, new Date()));
    }
  }

  for (const route of OWNER_WRITES) {
    // The API switch is the one write an owner may make while the API is off (DESIGN 9); the
    // test of that hook is below.
    for (const how of STALENESS.filter((h) => h !== 'api off' || !isApiSwitchRoute(route))) {
      it(`${route.operationId}: an owner ${how} since the authorizer's decision gets 401 and nothing is written`, async () => {
        const request = REQUESTS[route.operationId];
        if (request === undefined) throw new Error(`no stale-principal case for ${route.operationId}`);
        const { stale, subject } = await setUp();
        // The same request by the owner while still current is accepted (so the 401 below is
        // the staleness, not a bad request).
        if (how === 'demoted') {
          const probe = await bed.addCaller('owner');
          const { subject: probeSubject } = await setUp();
          expect((await bed.call(route.operationId, probe.principal, request(probeSubject))).status).toBe(route.status);
        }
        await makeStale(stale, how);
        const before = await snapshot(bed.table);

        const response = await bed.call(route.operationId, stale, request(subject));

        expect(response.status).toBe(401);
        expect(response.headers['content-type']).toBe('application/problem+json');
        expect(response.json).toMatchObject({ status: 401, type: 'urn:latchkey:problem:unauthorized' });
        expect(await snapshot(bed.table)).toBe(before);
        if (how === 'api off') {
          const accountId = stale.accountId;
          await bed.deps.store.setApiEnabled(accountId, true, auditEvent(accountId, SYSTEM_ACTOR, 'account.api-enable', `account/${accountId}`, new Date()));
        }
      });
    }
  }

  it('an owner acting on their own key and user is not refused by the check', async () => {
    const self = await bed.addCaller('owner');
    expect((await bed.call('addCidrRule', self.principal, { params: { keyId: self.principal.keyId }, body: { cidr: '0.0.0.0/0' } })).status).toBe(201);
    expect((await bed.call('updateUser', self.principal, { params: { userId: self.user.id }, body: { role: 'viewer' } })).status).toBe(200);
    // Now a viewer's key: a replayed owner write is stale.
    expect((await bed.call('createUser', self.principal, REQUESTS.createUser?.({ userId: '', keyId: '', ruleId: '' }))).status).toBe(401);
  });

  it('the API switch itself may be written by an owner while the API is off (the hook for PATCH /v1/account)', async () => {
    const accountId = bed.owner.accountId;
    const owner = await bed.addCaller('owner');
    const actor = { userId: owner.principal.userId, keyId: owner.principal.keyId, sourceIp: null };
    await bed.deps.store.setApiEnabled(accountId, false, auditEvent(accountId, actor, 'account.api-disable', `account/${accountId}`, new Date()));
    const account = await bed.deps.store.setApiEnabled(accountId, true, auditEvent(accountId, actor, 'account.api-enable', `account/${accountId}`, new Date()));
    expect(account.apiEnabled).toBe(true);
    // …but not by a key that no longer belongs to an owner.
    expect((await bed.call('updateUser', bed.owner, { params: { userId: owner.user.id }, body: { role: 'viewer' } })).status).toBe(200);
    await expect(
      bed.deps.store.setApiEnabled(accountId, false, auditEvent(accountId, actor, 'account.api-disable', `account/${accountId}`, new Date())),
    ).rejects.toThrow(/no longer allows/);
  });
});

describe('a stale owner, through the local gateway with the authorizer cache on', () => {
  let bed: GatewayTestBed;

  beforeAll(async () => {
    bed = await createGatewayTestBed({ authorizerTtlSeconds: 300 });
  });

  for (const how of ['demoted', 'deleted'] as const) {
    it(`createUser and createApiKey replayed by an owner ${how} before the cache was flushed: 401, nothing written`, async () => {
      const stale = await bed.addUser(bed.owner, 'owner');
      const subject = await bed.addUser(bed.owner, 'viewer');
      // The stale owner's Allow is in the cache.
      expect((await bed.request('whoami', { keys: stale })).status).toBe(200);
      const accountId = stale.principal.accountId;
      const event = auditEvent(accountId, SYSTEM_ACTOR, 'user.role-change', `user/${stale.user.id}`, new Date());
      // Written straight to the store: the window in which the flush has not happened yet.
      if (how === 'demoted') await bed.app.store.changeRole(accountId, stale.user.id, 'viewer', event);
      else await bed.app.store.deleteUser(accountId, stale.user.id, event);
      expect((await bed.request('whoami', { keys: stale })).json).toMatchObject({ role: 'owner' });

      const calls: [OperationId, GatewayCall][] = [
        ['createUser', { keys: stale, body: { name: 'Mallory Owner', email: 'mallory@example.com', role: 'owner' } }],
        ['createApiKey', { keys: stale, body: { name: `stale-${randomBytes(4).toString('hex')}`, userId: subject.user.id } }],
      ];
      for (const [operationId, call] of calls) {
        const users = await bed.app.store.listUsers(accountId);
        const keys = await bed.app.store.listKeys(accountId, { limit: 1000 });
        const response = await bed.request(operationId, call);
        expect(response.status).toBe(401);
        expect(response.json).toMatchObject({ status: 401, type: 'urn:latchkey:problem:unauthorized' });
        expect(await bed.app.store.listUsers(accountId)).toEqual(users);
        expect((await bed.app.store.listKeys(accountId, { limit: 1000 })).items).toEqual(keys.items);
      }
    });
  }
});
