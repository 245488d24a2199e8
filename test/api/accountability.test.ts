import { beforeAll, describe, expect, it } from 'vitest';
import { type GatewayTestBed, type KeyPair, createGatewayTestBed } from '#test/support/api-events.ts';

/**
 * Who did what: a key records who issued it, and every event of an action taken with a key
 * names that key and its holder, so an owner who acts through a key they issued to another
 * owner leaves a trail that shows it.
 */

let bed: GatewayTestBed;

beforeAll(async () => {
  bed = await createGatewayTestBed();
});

interface EventView {
  readonly action: string;
  readonly target: string;
  readonly actor: { readonly userId: string | null; readonly keyId: string | null };
}

async function eventsOf(keys: KeyPair): Promise<EventView[]> {
  const log = await bed.request('listEvents', { keys, query: 'limit=100' });
  return log.json.items as EventView[];
}

describe('a key records who issued it', () => {
  it("shows the issuing user and key on the key, in listings too; the system's keys show nulls", async () => {
    // Prepare / Act: the first owner (whose key the sign-up issued) issues a key to a second owner.
    const account = await bed.newAccount();
    const second = await bed.addUser(account, 'owner');

    const issued = await bed.request('getApiKey', { keys: account, params: { keyId: second.principal.keyId } });
    const first = await bed.request('getApiKey', { keys: account, params: { keyId: account.principal.keyId } });
    const listed = await bed.request('listApiKeys', { keys: second, query: `userId=${second.principal.userId}` });

    // Assess
    expect(issued.json.createdBy).toEqual({ userId: account.principal.userId, keyId: account.principal.keyId });
    expect(first.json.createdBy).toEqual({ userId: null, keyId: null });
    expect(listed.json.items).toEqual([expect.objectContaining({ id: second.principal.keyId, createdBy: issued.json.createdBy })]);
  });
});

describe('an event names the key and its holder', () => {
  it('shows an owner acting through a key they issued to another owner', async () => {
    // Prepare: owner A issues a key to owner B and, holding its secret, uses it.
    const account = await bed.newAccount();
    const b = await bed.addUser(account, 'owner');

    // Act
    const made = await bed.request('createUser', { keys: b, body: { name: 'Made with B key', email: 'made@example.com', role: 'viewer' } });

    // Assess: the event names B and B's key; B's key names A as its issuer.
    const events = await eventsOf(account);
    const event = events.find((e) => e.action === 'user.create' && e.target === `user/${made.json.id as string}`);
    expect(event?.actor).toEqual({ userId: b.principal.userId, keyId: b.principal.keyId });
    const key = await bed.request('getApiKey', { keys: account, params: { keyId: b.principal.keyId } });
    expect(key.json.createdBy).toEqual({ userId: account.principal.userId, keyId: account.principal.keyId });
  });

  it('on every audited action taken with a key', async () => {
    // Prepare
    const account = await bed.newAccount();
    const caller = await bed.addUser(account, 'owner');
    const before = new Set((await eventsOf(account)).map((e) => `${e.action} ${e.target}`));

    // Act: each audited route, called with the second owner's key.
    const user = await bed.request('createUser', { keys: caller, body: { name: 'Target user', email: 'target@example.com', role: 'viewer' } });
    const userId = user.json.id as string;
    await bed.request('updateUser', { keys: caller, params: { userId }, body: { role: 'logs-viewer' } });
    await bed.request('updateUser', { keys: caller, params: { userId }, body: { role: 'viewer' } });
    const key = await bed.request('createApiKey', { keys: caller, body: { name: 'audited-key-01', userId } });
    const keyId = key.json.id as string;
    const rule = await bed.request('addCidrRule', { keys: caller, params: { keyId }, body: { cidr: '10.0.0.0/8' } });
    const ruleId = rule.json.id as string;
    await bed.request('updateCidrRule', { keys: caller, params: { keyId, ruleId }, body: { cidr: '10.1.0.0/16' } });
    await bed.request('deleteCidrRule', { keys: caller, params: { keyId, ruleId } });
    await bed.request('deleteApiKey', { keys: caller, params: { keyId } });
    await bed.request('deleteUser', { keys: caller, params: { userId } });
    await bed.request('revealAccountKey', { keys: caller });

    // Assess
    const made = (await eventsOf(account)).filter((e) => !before.has(`${e.action} ${e.target}`));
    expect(made.map((e) => e.action).sort()).toEqual(
      [
        'account-key.reveal',
        'api-key.create',
        'api-key.delete',
        'cidr-rule.create',
        'cidr-rule.delete',
        'cidr-rule.update',
        'user.create',
        'user.delete',
        'user.role-change',
        'user.role-change',
      ].sort(),
    );
    for (const event of made) expect(event.actor, event.action).toEqual({ userId: caller.principal.userId, keyId: caller.principal.keyId });
  });
});
