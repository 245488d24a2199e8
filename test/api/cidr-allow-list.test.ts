import { beforeAll, describe, expect, it } from 'vitest';
import { type ApiTestBed, type Caller, createApiTestBed } from '#test/support/api-events.ts';

let bed: ApiTestBed;

beforeAll(async () => {
  bed = await createApiTestBed({ limits: { keysPerUser: 10, rulesPerKey: 2 } });
});

async function newKey(): Promise<Caller> {
  return bed.addCaller('viewer');
}

async function rulesAtFlush(keyId: string): Promise<string[][]> {
  const seen: string[][] = [];
  bed.cache.onFlush = async () => {
    const key = await bed.deps.store.getKey(bed.owner.accountId, keyId);
    seen.push((key?.cidrAllowList ?? []).map((r) => r.cidr));
  };
  return Promise.resolve(seen);
}

describe('POST /v1/api-keys/{keyId}/cidr-allow-list', () => {
  it('adds a rule in canonical form, records it, and flushes after it is stored', async () => {
    // Prepare
    const { principal } = await newKey();
    const seen = await rulesAtFlush(principal.keyId);

    // Act
    const response = await bed.call('addCidrRule', bed.owner, { params: { keyId: principal.keyId }, body: { cidr: '10.1.0.0/16' } });
    bed.cache.onFlush = undefined;

    // Assess
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ cidr: '10.1.0.0/16' });
    expect(seen).toEqual([['10.1.0.0/16']]);
    const events = await bed.deps.store.listEvents(bed.owner.accountId, { limit: 1 });
    expect(events.items[0]).toMatchObject({ action: 'cidr-rule.create', target: `api-key/${principal.keyId}/cidr-rule/${response.json.id as string}` });
  });

  it('reads a bare address as a single host', async () => {
    // Prepare
    const { principal } = await newKey();

    // Act
    const v4 = await bed.call('addCidrRule', bed.owner, { params: { keyId: principal.keyId }, body: { cidr: '192.0.2.1' } });
    const v6 = await bed.call('addCidrRule', bed.owner, { params: { keyId: principal.keyId }, body: { cidr: '2001:db8::1' } });

    // Assess
    expect(v4.json.cidr).toBe('192.0.2.1/32');
    expect(v6.json.cidr).toBe('2001:db8::1/128');
  });

  it('refuses a CIDR with host bits set and names the network form', async () => {
    // Prepare
    const { principal } = await newKey();
    const flushesBefore = bed.cache.flushes;

    // Act
    const response = await bed.call('addCidrRule', bed.owner, { params: { keyId: principal.keyId }, body: { cidr: '127.1.0.1/24' } });

    // Assess
    expect(response.status).toBe(400);
    expect(response.json.errors).toEqual([expect.objectContaining({ field: 'cidr', rule: 'host-bits' })]);
    expect(response.json.detail).toContain('127.1.0.0/24');
    expect(bed.cache.flushes).toBe(flushesBefore);
  });

  it.each(['not-an-ip', '10.0.0.0/33', '', 42])('refuses %j with 400', async (cidr) => {
    // Prepare
    const { principal } = await newKey();

    // Act
    const response = await bed.call('addCidrRule', bed.owner, { params: { keyId: principal.keyId }, body: { cidr } });

    // Assess
    expect(response.status).toBe(400);
    expect((response.json.errors as { field: string }[])[0]?.field).toBe('cidr');
  });

  it('refuses a duplicate and the rule beyond the documented limit with 409', async () => {
    // Prepare
    const { principal } = await newKey();
    const params = { keyId: principal.keyId };
    await bed.call('addCidrRule', bed.owner, { params, body: { cidr: '10.0.0.0/8' } });

    // Act
    const duplicate = await bed.call('addCidrRule', bed.owner, { params, body: { cidr: '10.0.0.0/8' } });
    await bed.call('addCidrRule', bed.owner, { params, body: { cidr: '172.16.0.0/12' } });
    const overLimit = await bed.call('addCidrRule', bed.owner, { params, body: { cidr: '192.168.0.0/16' } });

    // Assess
    expect(duplicate.status).toBe(409);
    expect(overLimit.status).toBe(409);
    expect(overLimit.json.type).toBe('urn:latchkey:problem:limit-exceeded');
  });

  it("answers 404 for another account's key and changes nothing there", async () => {
    // Prepare
    const other = await bed.otherAccount();

    // Act
    const response = await bed.call('addCidrRule', bed.owner, { params: { keyId: other.keyId }, body: { cidr: '10.0.0.0/8' } });

    // Assess
    expect(response.status).toBe(404);
    expect((await bed.deps.store.getKey(other.account.id, other.keyId))?.cidrAllowList).toEqual([]);
  });

  it('is for owners only', async () => {
    // Prepare
    const caller = await newKey();

    // Act
    const response = await bed.call('addCidrRule', caller.principal, { params: { keyId: caller.principal.keyId }, body: { cidr: '0.0.0.0/0' } });

    // Assess
    expect(response.status).toBe(403);
  });
});

describe('GET /v1/api-keys/{keyId}/cidr-allow-list', () => {
  it('lists the rules', async () => {
    // Prepare
    const { principal } = await newKey();
    await bed.call('addCidrRule', bed.owner, { params: { keyId: principal.keyId }, body: { cidr: '10.0.0.0/8' } });

    // Act
    const response = await bed.call('listCidrRules', principal, { params: { keyId: principal.keyId } });

    // Assess
    expect(response.status).toBe(200);
    expect((response.json.rules as { cidr: string }[]).map((r) => r.cidr)).toEqual(['10.0.0.0/8']);
  });
});

describe('PUT /v1/api-keys/{keyId}/cidr-allow-list/{ruleId}', () => {
  it('edits a rule, keeps its id, and flushes after the edit is stored', async () => {
    // Prepare
    const { principal } = await newKey();
    const added = await bed.call('addCidrRule', bed.owner, { params: { keyId: principal.keyId }, body: { cidr: '10.0.0.0/8' } });
    const ruleId = added.json.id as string;
    const seen = await rulesAtFlush(principal.keyId);

    // Act
    const response = await bed.call('updateCidrRule', bed.owner, { params: { keyId: principal.keyId, ruleId }, body: { cidr: '10.2.0.0/16' } });
    bed.cache.onFlush = undefined;

    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: ruleId, cidr: '10.2.0.0/16' });
    expect(seen).toEqual([['10.2.0.0/16']]);
  });

  it('answers 404 for an unknown rule', async () => {
    // Prepare
    const { principal } = await newKey();

    // Act
    const response = await bed.call('updateCidrRule', bed.owner, {
      params: { keyId: principal.keyId, ruleId: 'AAAAAAAAAAAAAAAA' },
      body: { cidr: '10.0.0.0/8' },
    });

    // Assess
    expect(response.status).toBe(404);
  });
});

describe('DELETE /v1/api-keys/{keyId}/cidr-allow-list/{ruleId}', () => {
  it('removes the rule and flushes after the removal is stored', async () => {
    // Prepare
    const { principal } = await newKey();
    const params = { keyId: principal.keyId };
    await bed.call('addCidrRule', bed.owner, { params, body: { cidr: '10.0.0.0/8' } });
    const second = await bed.call('addCidrRule', bed.owner, { params, body: { cidr: '192.0.2.0/24' } });
    const seen = await rulesAtFlush(principal.keyId);

    // Act
    const response = await bed.call('deleteCidrRule', bed.owner, { params: { ...params, ruleId: second.json.id as string } });
    bed.cache.onFlush = undefined;

    // Assess
    expect(response.status).toBe(204);
    expect(seen).toEqual([['10.0.0.0/8']]);
    const events = await bed.deps.store.listEvents(bed.owner.accountId, { limit: 1 });
    expect(events.items[0]?.action).toBe('cidr-rule.delete');
  });
});
