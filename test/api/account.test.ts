import { beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_KEY_PATTERN } from '#shared/domain/key-format.ts';
import { type ApiTestBed, TEST_SOURCE_IP, createApiTestBed } from '#test/support/api-events.ts';

let bed: ApiTestBed;

beforeAll(async () => {
  bed = await createApiTestBed();
});

describe('GET /v1/whoami', () => {
  it.each(['owner', 'viewer', 'logs-viewer'] as const)('tells a %s who their keys belong to and where the request came from', async (role) => {
    // Prepare
    const caller = role === 'owner' ? bed.owner : (await bed.addCaller(role)).principal;

    // Act
    const response = await bed.call('whoami', caller, { sourceIp: '203.0.113.9' });

    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ accountId: caller.accountId, userId: caller.userId, role, keyId: caller.keyId, sourceIp: '203.0.113.9' });
  });

  it('answers 401 like API Gateway when no principal reached the handler', async () => {
    // Act
    const response = await bed.call('whoami', null);

    // Assess
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ message: 'Unauthorized' });
  });

  it('treats a malformed principal as none', async () => {
    // Prepare: a role that may not hold keys can never be a principal
    const principal = { ...bed.owner, role: 'manager' as unknown as 'owner' };

    // Act
    const response = await bed.call('whoami', principal);

    // Assess
    expect(response.status).toBe(401);
  });
});

describe('GET /v1/account', () => {
  it('shows the account with its key masked', async () => {
    // Act
    const response = await bed.call('getAccount', bed.owner);

    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      id: bed.owner.accountId,
      name: bed.account.account.name,
      apiEnabled: true,
      accountKey: { masked: `lka_********${bed.account.accountKey.slice(-4)}` },
      createdAt: bed.account.account.createdAt,
      accountKeyLeakReportedAt: null,
    });
    expect(response.raw).not.toContain(bed.account.accountKey);
  });

  it('refuses a logs-viewer with a 403 problem', async () => {
    // Prepare
    const { principal } = await bed.addCaller('logs-viewer');

    // Act
    const response = await bed.call('getAccount', principal);

    // Assess
    expect(response.status).toBe(403);
    expect(response.headers['content-type']).toBe('application/problem+json');
    expect(response.json).toMatchObject({ type: 'urn:latchkey:problem:forbidden', status: 403 });
  });
});

describe('GET /v1/account/key', () => {
  it('reveals the account key to an owner, uncached, and records the reveal', async () => {
    // Act
    const response = await bed.call('revealAccountKey', bed.owner);

    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ accountKey: bed.account.accountKey });
    expect(response.json.accountKey).toMatch(ACCOUNT_KEY_PATTERN);
    expect(response.headers['cache-control']).toBe('no-store');
    const events = await bed.deps.store.listEvents(bed.owner.accountId, { limit: 1 });
    expect(events.items[0]).toMatchObject({
      action: 'account-key.reveal',
      actor: { userId: bed.owner.userId, keyId: bed.owner.keyId },
      target: `account/${bed.owner.accountId}`,
      sourceIp: TEST_SOURCE_IP,
    });
  });

  it('writes exactly one audit event per reveal', async () => {
    // Prepare
    const before = await bed.deps.store.listEvents(bed.owner.accountId, { limit: 100 });

    // Act
    await bed.call('revealAccountKey', bed.owner);

    // Assess
    const after = await bed.deps.store.listEvents(bed.owner.accountId, { limit: 100 });
    expect(after.items.length).toBe(before.items.length + 1);
  });

  it('never reveals the key to a viewer', async () => {
    // Prepare
    const { principal } = await bed.addCaller('viewer');

    // Act
    const response = await bed.call('revealAccountKey', principal);

    // Assess
    expect(response.status).toBe(403);
    expect(response.raw).not.toContain(bed.account.accountKey);
  });
});
