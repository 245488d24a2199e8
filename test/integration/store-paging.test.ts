import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '#shared/adapters/environment.ts';
import type { ListOptions } from '#shared/ports/list-options.ts';
import type { Page } from '#shared/domain/model.ts';
import { type TestTable, createTestTable, seedAccount, seedUser, testEvent, testKey } from '#test/support/dynamodb.ts';

let table: TestTable;

beforeAll(async () => {
  table = await createTestTable();
});

/** Every page a listing returns, following cursors until one is null (at most 20 pages). */
async function allPages<T>(list: (options: ListOptions) => Promise<Page<T>>, limit: number): Promise<Page<T>[]> {
  const pages: Page<T>[] = [];
  let cursor: string | undefined;
  do {
    const page = await list({ limit, cursor });
    pages.push(page);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && pages.length < 20);
  return pages;
}

describe('a page that holds the last item says so', () => {
  it('keys: a count that is a multiple of the limit needs no extra empty page', async () => {
    // Prepare: the owner's key plus three = four keys, two pages of two.
    const { account } = await seedAccount(table.store);
    const viewer = await seedUser(table.store, account.id, 'viewer');
    for (let i = 0; i < 3; i += 1) await table.store.createKey(testKey(viewer), testEvent(account.id), DEFAULT_LIMITS);

    // Act
    const pages = await allPages((options) => table.store.listKeys(account.id, options), 2);

    // Assess
    expect(pages.map((page) => page.items.length)).toEqual([2, 2]);
    expect(pages[0]?.nextCursor).toEqual(expect.any(String));
    expect(pages[1]?.nextCursor).toBeNull();
    expect(new Set(pages.flatMap((page) => page.items.map((key) => key.id))).size).toBe(4);
  });

  it("keys of one user (the index): the same on the user's listing", async () => {
    const { account } = await seedAccount(table.store);
    const viewer = await seedUser(table.store, account.id, 'viewer');
    for (let i = 0; i < 3; i += 1) await table.store.createKey(testKey(viewer), testEvent(account.id), DEFAULT_LIMITS);

    const pages = await allPages((options) => table.store.listKeys(account.id, { ...options, userId: viewer.id }), 3);
    const single = await allPages((options) => table.store.listKeys(account.id, { ...options, userId: viewer.id }), 1);

    expect(pages.map((page) => [page.items.length, page.nextCursor === null])).toEqual([[3, true]]);
    expect(single.map((page) => page.items.length)).toEqual([1, 1, 1]);
    expect(single.at(-1)?.nextCursor).toBeNull();
  });

  it('events: a full last page ends the listing, newest first across pages', async () => {
    // Prepare: account.create plus five = six events, three pages of two.
    const { account } = await seedAccount(table.store);
    const base = Date.parse('2032-01-01T00:00:00.000Z');
    for (let i = 1; i <= 5; i += 1) await table.store.recordEvent(testEvent(account.id, `test.${i}`, new Date(base + i * 1000)));

    const pages = await allPages((options) => table.store.listEvents(account.id, options), 2);

    expect(pages.map((page) => page.items.map((event) => event.action))).toEqual([
      ['test.5', 'test.4'],
      ['test.3', 'test.2'],
      ['test.1', 'account.create'],
    ]);
    expect(pages.map((page) => page.nextCursor === null)).toEqual([false, false, true]);
  });

  it('a listing shorter than the limit is one page with no cursor', async () => {
    const { account } = await seedAccount(table.store);

    const keys = await table.store.listKeys(account.id, { limit: 1 });
    const events = await table.store.listEvents(account.id, { limit: 5 });

    expect(keys).toEqual({ items: [expect.objectContaining({ name: 'owner-initial-key' })], nextCursor: null });
    expect(events.items).toHaveLength(1);
    expect(events.nextCursor).toBeNull();
  });
});
