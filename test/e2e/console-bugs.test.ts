import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot } from '#test/support/screenshots.ts';
import { type ConsoleBed, poll, signIn, startConsoleBed } from './console-session.ts';
import { type Credentials, call, createUserWithKey, ownerKeys } from './support.ts';

/**
 * The console's four bugs of issue 22, each in Chromium as a person met it, and the smaller
 * snags beside them. Each of the four failed on the console before its fix.
 */

let bed: ConsoleBed;

beforeAll(async () => {
  bed = await startConsoleBed();
});

afterAll(async () => {
  await bed.close();
});

const whoami = (keys: Credentials) => call(bed.api.port, '/v1/whoami', { keys });

/** Chromium gives a page on plain HTTP off localhost no `navigator.clipboard`; this page plays one. */
const WITHOUT_CLIPBOARD = 'delete Navigator.prototype.clipboard;';

async function createKeyInDialog(page: Page, name: string): Promise<void> {
  // The tab loaded first, so that the Add dialog's race (its own test below) plays no part here.
  await page.getByRole('row', { name: /owner-initial-key/ }).waitFor();
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  const add = page.getByRole('dialog', { name: 'Add API user key' });
  await add.getByLabel('Key name').fill(name);
  await add.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('dialog', { name: 'API user key' }).waitFor();
}

describe('locking out the signed-in key', () => {
  it('shows the 403 that follows in place, as an alert that stays, with the caller\'s own address shown beforehand', async () => {
    const owner = await createUserWithKey(bed.api, 'owner', { keyName: 'self-locking-key' });
    const page = await bed.newPage();
    await signIn(bed, page, owner.keys);
    await page.getByRole('row', { name: /self-locking-key/ }).getByRole('button', { name: 'Manage' }).click();
    const manage = page.getByRole('dialog', { name: 'Manage CIDR allow list' });
    await manage.getByLabel('CIDR').fill('10.0.0.0/8');
    await manage.getByRole('button', { name: 'Save' }).click();

    const refusal = manage.getByRole('alert').filter({ hasText: "outside this user key's CIDR allow list" });
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain('Saved 10.0.0.0/8');
    expect(await refusal.textContent()).not.toContain('explicit deny');
    // The rule the API stored is what the dialog lists.
    await manage.getByText('10.0.0.0/8', { exact: true }).waitFor();
    await manage.getByText(/Your address: 127\.0\.0\.1/).waitFor();
    expect((await whoami(owner.keys)).status).toBe(403);
    await screenshot(page, 'manage-cidr-lockout');

    // Closed, the dialog's refusal becomes the tab's: the next read is refused too, and said so.
    await manage.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('alert').filter({ hasText: "outside this user key's CIDR allow list" }).waitFor();
    expect(bed.problems.errors).toEqual([]);
  });
});

describe('a page without clipboard access', () => {
  it('does not throw on Copy, and lets Finish be enabled by "I have saved this key"', async () => {
    const page = await bed.newPage(WITHOUT_CLIPBOARD);
    await signIn(bed, page, ownerKeys(bed.api));
    await createKeyInDialog(page, 'key-without-clipboard');
    const created = page.getByRole('dialog', { name: 'API user key' });
    const finish = created.getByRole('button', { name: 'Finish' });
    expect(await finish.isDisabled()).toBe(true);

    await created.getByRole('button', { name: 'Copy', exact: true }).click();
    await created.getByRole('alert').filter({ hasText: 'no clipboard access' }).waitFor();
    expect(await finish.isDisabled()).toBe(true);
    await created.getByRole('checkbox', { name: 'I have saved this key' }).check();
    await poll(() => finish.isEnabled()).toBe(true);
    await screenshot(page, 'user-key-no-clipboard');
    await finish.click();
    await poll(() => created.count()).toBe(0);
    expect(bed.problems.errors).toEqual([]);
  });
});

describe('the Add dialog opened before the users arrive', () => {
  it('picks the first user when they arrive, so Create can be pressed', async () => {
    const page = await bed.newPage();
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => { release = resolve; });
    await page.route('**/v1/users', async (route) => {
      await held;
      await route.continue();
    });
    await signIn(bed, page, ownerKeys(bed.api));
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    const add = page.getByRole('dialog', { name: 'Add API user key' });
    await add.getByLabel('Key name').fill('key-added-before-users');
    expect(await add.getByLabel('User name').inputValue()).toBe('');

    release();
    await poll(() => add.getByLabel('User name').inputValue()).not.toBe('');
    await poll(() => add.getByRole('button', { name: 'Create' }).isEnabled()).toBe(true);
    await add.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('dialog', { name: 'API user key' }).waitFor();
  });
});

describe('the key in the one-time dialog', () => {
  it('shows every character: no line of the key paints over the one above', async () => {
    const page = await bed.newPage();
    await signIn(bed, page, ownerKeys(bed.api));
    await createKeyInDialog(page, 'key-shown-whole');
    const value = page.getByRole('dialog', { name: 'API user key' }).getByLabel('User key value');
    const secret = (await value.textContent()) ?? '';
    expect(secret).toMatch(/^lks_[0-9A-Za-z]{81}$/);

    // Each box the element paints (one per line for an inline element) must end before the
    // next begins, and a block must hold its text without overflow.
    const layout = await page.evaluate<{ boxes: number; overlap: number; overflow: boolean; lines: number }>(`(() => {
      const el = document.querySelector('dialog[open] [aria-label="User key value"]');
      const boxes = [...el.getClientRects()];
      let overlap = 0;
      for (let i = 1; i < boxes.length; i += 1) overlap = Math.max(overlap, boxes[i - 1].bottom - boxes[i].top);
      const range = document.createRange();
      range.selectNodeContents(el);
      const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
      return { boxes: boxes.length, overlap, overflow: el.scrollHeight > el.clientHeight + 1, lines };
    })()`);
    expect(layout.lines).toBeGreaterThan(1);
    expect(layout.overlap).toBeLessThanOrEqual(0.5);
    expect(layout.overflow).toBe(false);
  });
});

describe('smaller snags', () => {
  it('shows Delete on every key row without hover (touch screens have none)', async () => {
    const page = await bed.newPage();
    await signIn(bed, page, ownerKeys(bed.api));
    const remove = page.getByRole('row', { name: /owner-initial-key/ }).getByRole('button', { name: 'Delete' });
    await remove.waitFor();
    await page.mouse.move(0, 0);
    const opacities = await page.evaluate<string[]>(`[...document.querySelectorAll('tbody button')].filter((b) => b.textContent === 'Delete').map((b) => getComputedStyle(b).opacity)`);
    expect(opacities.length).toBeGreaterThan(0);
    expect(opacities.every((opacity) => opacity === '1')).toBe(true);
  });

  it('says plainly that the address is outside the allow list at sign-in, and keeps both keys in the form', async () => {
    const fenced = await createUserWithKey(bed.api, 'viewer', { keyName: 'fenced-viewer-key' });
    const rule = await call(bed.api.port, `/v1/api-keys/${fenced.keyId}/cidr-allow-list`, { method: 'POST', keys: ownerKeys(bed.api), body: { cidr: '10.0.0.0/8' } });
    expect(rule.status).toBe(201);
    const page = await bed.newPage();
    await signIn(bed, page, fenced.keys);
    const refusal = page.getByRole('alert').filter({ hasText: "outside this user key's CIDR allow list" });
    await refusal.waitFor();
    expect(await refusal.textContent()).not.toContain('explicit deny');
    expect(await page.getByLabel('Account key').inputValue()).toBe(fenced.keys.accountKey);
    expect(await page.getByLabel('User key').inputValue()).toBe(fenced.keys.userKey);
  });

  it('tells swapped, cut and mistyped keys apart in the page, before any request', async () => {
    const page = await bed.newPage();
    const apiRequests: string[] = [];
    page.on('request', (request) => { if (request.url().includes('/v1/')) apiRequests.push(request.url()); });
    const { accountKey, userKey } = ownerKeys(bed.api);
    const mistyped = `${userKey.slice(0, 20)}${userKey[20] === 'x' ? 'y' : 'x'}${userKey.slice(21)}`;
    const cases: [Credentials, RegExp][] = [
      [{ accountKey: userKey, userKey: accountKey }, /swapped/],
      [{ accountKey, userKey: userKey.slice(0, -3) }, /user key is 85 characters long; this one has 82/],
      [{ accountKey, userKey: mistyped }, /user key does not match its checksum/],
      [{ accountKey: `lkx_${accountKey.slice(4)}`, userKey }, /account key starts with lka_/],
    ];
    for (const [keys, message] of cases) {
      await signIn(bed, page, keys);
      await page.getByRole('alert').filter({ hasText: message }).waitFor();
    }
    expect(apiRequests).toEqual([]);
  });

  it('names who is signed in, not only the role', async () => {
    const page = await bed.newPage();
    await signIn(bed, page, ownerKeys(bed.api));
    await page.getByText('Signed in as First owner (owner)').waitFor();
  });

  it('answers GET /favicon.ico with an icon, not a 403 of the gateway', async () => {
    const icon = await call(bed.api.port, '/favicon.ico');

    expect(icon.status).toBe(200);
    expect(icon.headers['content-type']).toBe('image/svg+xml');
    expect(icon.text).toMatch(/^<svg /);
  });
});

describe('the pages', () => {
  it('raised no script error and broke no Content-Security-Policy rule', () => {
    expect(bed.problems.errors).toEqual([]);
  });
});
