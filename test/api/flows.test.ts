import { beforeAll, describe, expect, it } from 'vitest';
import { type GatewayTestBed, createGatewayTestBed } from '#test/support/api-events.ts';

/**
 * Whole journeys through the local gateway: the real authorizer (with its decision cache on,
 * as deployed) in front of the handlers, on DynamoDB Local. Each revocation step would fail if
 * the handler did not flush the authorizer cache, since the same keys and address were
 * allowed (and cached) just before.
 */

const UNAUTHORIZED = { message: 'Unauthorized' };
const EXPLICIT_DENY = { message: 'User is not authorized to access this resource with an explicit deny' };
const IMPLICIT_DENY = { message: 'User is not authorized to access this resource' };
const OFFICE = '198.51.100.7';
const HOME = '10.1.2.3';

let bed: GatewayTestBed;

beforeAll(async () => {
  bed = await createGatewayTestBed({ authorizerTtlSeconds: 300 });
});

describe('a user key from creation to deletion', () => {
  it('authorizes, follows its allow list, is deleted by a demotion for good, and leaves an audit trail', async () => {
    // Prepare: a viewer with a key
    const viewer = await bed.addUser(bed.owner, 'viewer');
    const keyParams = { keyId: viewer.principal.keyId };

    // Act + Assess: the new key works, within its role
    const whoami = await bed.request('whoami', { keys: viewer, sourceIp: OFFICE });
    expect(whoami.status).toBe(200);
    expect(whoami.body).toEqual({ ...viewer.principal, sourceIp: OFFICE });
    expect((await bed.request('listApiKeys', { keys: viewer, sourceIp: OFFICE })).status).toBe(200);
    const forbidden = await bed.request('createUser', { keys: viewer, sourceIp: OFFICE, body: { name: 'x', email: 'x@example.com', role: 'owner' } });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toEqual(IMPLICIT_DENY);

    // a rule pins the key to the home network: the office address is refused at once
    expect((await bed.request('whoami', { keys: viewer, sourceIp: HOME })).status).toBe(200);
    const added = await bed.request('addCidrRule', { params: keyParams, body: { cidr: '10.0.0.0/8' } });
    expect(added.status).toBe(201);
    const fromOffice = await bed.request('whoami', { keys: viewer, sourceIp: OFFICE });
    expect(fromOffice.status).toBe(403);
    expect(fromOffice.body).toEqual(EXPLICIT_DENY);
    expect((await bed.request('whoami', { keys: viewer, sourceIp: HOME })).status).toBe(200);

    // editing the rule moves the key to the office network
    const ruleId = added.json.id as string;
    expect((await bed.request('updateCidrRule', { params: { ...keyParams, ruleId }, body: { cidr: '198.51.100.0/24' } })).status).toBe(200);
    expect((await bed.request('whoami', { keys: viewer, sourceIp: OFFICE })).status).toBe(200);
    expect((await bed.request('whoami', { keys: viewer, sourceIp: HOME })).status).toBe(403);

    // deleting the last rule opens the key to every address again
    expect((await bed.request('deleteCidrRule', { params: { ...keyParams, ruleId } })).status).toBe(204);
    expect((await bed.request('whoami', { keys: viewer, sourceIp: HOME })).status).toBe(200);

    // a demotion to a role that may not hold keys deletes the key: it stops at once, and a
    // promotion back does not revive it
    expect((await bed.request('updateUser', { params: { userId: viewer.user.id }, body: { role: 'member' } })).status).toBe(200);
    const demoted = await bed.request('whoami', { keys: viewer, sourceIp: HOME });
    expect(demoted.status).toBe(401);
    expect(demoted.body).toEqual(UNAUTHORIZED);
    expect((await bed.request('getApiKey', { params: keyParams })).status).toBe(404);
    expect((await bed.request('updateUser', { params: { userId: viewer.user.id }, body: { role: 'logs-viewer' } })).status).toBe(200);
    const promoted = await bed.request('whoami', { keys: viewer, sourceIp: HOME });
    expect(promoted.status).toBe(401);
    expect(promoted.body).toEqual(UNAUTHORIZED);

    // the audit log tells the story, newest first
    const log = await bed.request('listEvents', { query: 'limit=7' });
    expect(log.status).toBe(200);
    expect((log.json.items as { action: string }[]).map((e) => e.action)).toEqual([
      'user.role-change',
      'user.role-change',
      // The demotion took the key away: audited as its own deletion, right after the change.
      'api-key.delete',
      'cidr-rule.delete',
      'cidr-rule.update',
      'cidr-rule.create',
      'api-key.create',
    ]);
    const rest = await bed.request('listEvents', { query: `limit=7&cursor=${encodeURIComponent(log.json.nextCursor as string)}` });
    expect(rest.json).toEqual({
      items: [expect.objectContaining({ action: 'user.create' }) as unknown, expect.objectContaining({ action: 'account.create' }) as unknown],
      nextCursor: null,
    });
  });

  it('stops every key of a deleted user at once', async () => {
    // Prepare
    const viewer = await bed.addUser(bed.owner, 'viewer');
    expect((await bed.request('whoami', { keys: viewer })).status).toBe(200);

    // Act
    const deleted = await bed.request('deleteUser', { params: { userId: viewer.user.id } });

    // Assess
    expect(deleted.status).toBe(204);
    expect((await bed.request('whoami', { keys: viewer })).status).toBe(401);
  });

  it('records when a key was last used', async () => {
    // Prepare
    const viewer = await bed.addUser(bed.owner, 'viewer');

    // Act
    await bed.request('whoami', { keys: viewer });

    // Assess
    const key = await bed.request('getApiKey', { params: { keyId: viewer.principal.keyId } });
    expect(key.json.lastUsedAt).toEqual(expect.any(String));
  });
});
