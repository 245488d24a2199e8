import { beforeAll, describe, expect, it } from 'vitest';
import { type ApiTestBed, createApiTestBed } from '#test/support/api-events.ts';

let bed: ApiTestBed;

beforeAll(async () => {
  bed = await createApiTestBed();
});

interface EventView {
  id: string;
  time: string;
  action: string;
  actor: { userId: string | null; keyId: string | null };
  target: string;
  sourceIp: string | null;
}

describe('GET /v1/logs', () => {
  it('shows every mutation, newest first, page by page, to a logs-viewer', async () => {
    // Prepare: three recorded changes after the account's creation
    const logsViewer = await bed.addCaller('logs-viewer');
    await bed.call('addCidrRule', bed.owner, { params: { keyId: logsViewer.principal.keyId }, body: { cidr: '10.0.0.0/8' } });

    // Act
    const pages: EventView[][] = [];
    let cursor: string | undefined;
    do {
      const response = await bed.call('listEvents', logsViewer.principal, { query: { limit: '2', ...(cursor === undefined ? {} : { cursor }) } });
      expect(response.status).toBe(200);
      pages.push(response.json.items as EventView[]);
      cursor = (response.json.nextCursor as string | null) ?? undefined;
    } while (cursor !== undefined);

    // Assess
    const events = pages.flat();
    expect(pages.length).toBeGreaterThan(1);
    expect(events.map((e) => e.action)).toEqual(['cidr-rule.create', 'api-key.create', 'user.create', 'account.create']);
    expect(events.map((e) => e.time)).toEqual([...events.map((e) => e.time)].sort().reverse());
    expect(events[0]).toMatchObject({ actor: { userId: bed.owner.userId, keyId: bed.owner.keyId }, sourceIp: '198.51.100.7' });
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it("never shows another account's events", async () => {
    // Prepare
    const other = await bed.otherAccount();

    // Act
    const response = await bed.call('listEvents', bed.owner, { query: { limit: '100' } });

    // Assess
    expect(response.raw).not.toContain(other.account.id);
  });
});
