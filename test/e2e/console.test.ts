import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatUserKey, parseAccountKey } from '#shared/domain/key-format.ts';
import { newId } from '#shared/domain/ids.ts';
import { focusIsInDialog, focusedText, launchChromium, openPage, readClipboard, storedItems, type PageProblems } from '#test/support/browser.ts';
import { screenshot } from '#test/support/screenshots.ts';
import { type Credentials, type RunningApi, call, createUserWithKey, ownerKeys, startApi } from './support.ts';

/**
 * The console in headless Chromium against the local runtime over real HTTP: the seed's
 * flows, found by role and accessible name (what a screen reader announces), with every
 * effect checked through the API. Screenshots of each screen go to docs/ when asked for
 * (`npm run screenshots`).
 */

let api: RunningApi;
let browser: Browser;
let origin: string;
const problems: PageProblems = { errors: [] };
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  api = await startApi();
  origin = `http://127.0.0.1:${api.port}`;
  browser = await launchChromium();
});

afterAll(async () => {
  for (const context of contexts) await context.close();
  await browser.close();
  await api.close();
});

async function newPage(): Promise<Page> {
  const { context, page } = await openPage(browser, origin, problems);
  contexts.push(context);
  return page;
}

async function signIn(page: Page, keys: Credentials): Promise<void> {
  await page.goto(`${origin}/console`);
  await page.getByLabel('Account key').fill(keys.accountKey);
  await page.getByLabel('User key').fill(keys.userKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** The console answers after its requests do; under load that can take a few seconds. */
const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 8_000 });

const whoami = (keys: Credentials) => call(api.port, '/v1/whoami', { keys });

describe('serving', () => {
  it('serves the console without keys, under a strict Content-Security-Policy, and leads / there', async () => {
    const page = await call(api.port, '/console');
    const script = await call(api.port, '/console/app.js');
    const root = await call(api.port, '/');

    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(page.text).not.toMatch(/<script>|<style>|https?:\/\//);
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(root.status).toBe(302);
    expect(root.headers.location).toBe('/console');
    expect((await call(api.port, '/console/nothing.js')).status).toBe(404);
  });
});

describe('an owner', () => {
  let page: Page;
  const owner = (): Credentials => ownerKeys(api);
  let viewer: Awaited<ReturnType<typeof createUserWithKey>>;
  const keyName = `console-key-${Date.now().toString(36)}`;
  let secret: string;

  beforeAll(async () => {
    viewer = await createUserWithKey(api, 'viewer', { keyName: 'viewer-initial-key' });
    page = await newPage();
  });

  it('signs in and sees the API Keys tab with the account key masked and a row per user key', async () => {
    await page.goto(`${origin}/`);
    await poll(() => page.url()).toBe(`${origin}/console`);
    await screenshot(page, 'sign-in');
    await signIn(page, owner());

    await page.getByRole('tab', { name: 'API Keys' }).waitFor();
    expect(await page.getByRole('tab', { name: 'API Keys' }).getAttribute('aria-selected')).toBe('true');
    await page.getByRole('row', { name: /owner-initial-key/ }).waitFor();
    await page.getByRole('row', { name: /viewer-initial-key/ }).waitFor();
    const shown = await page.getByLabel('Account key value').textContent();
    expect(shown).toMatch(/^lka_\*+/);
    expect(shown).not.toBe(owner().accountKey);
    await screenshot(page, 'api-keys');
  });

  it('reveals the account key with Show (audited), masks it with Hide, and copies it with Copy', async () => {
    await page.getByRole('button', { name: 'Show' }).click();
    await poll(() => page.getByLabel('Account key value').textContent()).toBe(owner().accountKey);
    const logs = await call(api.port, '/v1/logs?limit=1', { keys: owner() });
    expect((logs.json.items as { action: string }[])[0]?.action).toBe('account-key.reveal');

    await page.getByRole('button', { name: 'Hide' }).click();
    await poll(() => page.getByLabel('Account key value').textContent()).toMatch(/^lka_\*+/);

    await page.getByRole('button', { name: 'Copy', exact: true }).click();
    await page.getByText('Account key copied to the clipboard.').waitFor();
    expect(await readClipboard(page)).toBe(owner().accountKey);
  });

  it('adds a key: the name rule is checked while typing, Finish waits for Copy, and the new key authenticates', async () => {
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    const add = page.getByRole('dialog', { name: 'Add API user key' });
    await add.getByLabel('Key name').fill('short');
    await add.getByText('Must be between 10 and 50 characters long.').waitFor();
    expect(await add.getByRole('button', { name: 'Create' }).isDisabled()).toBe(true);
    await add.getByLabel('Key name').fill('has spaces in it');
    await add.getByText(/spaces are not allowed/).waitFor();
    await add.getByLabel('Key name').fill(keyName);
    const options = await add.getByLabel('User name').locator('option').allTextContents();
    expect(options.every((o) => /\((owner|viewer|logs-viewer)\)$/.test(o))).toBe(true);
    await add.getByLabel('User name').selectOption(viewer.userId);
    await screenshot(page, 'add-key');
    await add.getByRole('button', { name: 'Create' }).click();

    const created = page.getByRole('dialog', { name: 'API user key' });
    await created.waitFor();
    const finish = created.getByRole('button', { name: 'Finish' });
    expect(await finish.isDisabled()).toBe(true);
    secret = (await created.getByLabel('User key value').textContent()) ?? '';
    await screenshot(page, 'user-key-created');
    await created.getByRole('button', { name: 'Copy', exact: true }).click();
    await poll(() => finish.isEnabled()).toBe(true);
    expect(await readClipboard(page)).toBe(secret);
    await created.getByRole('button', { name: 'Copy account key' }).click();
    await created.getByText('Account key copied to the clipboard.').waitFor();
    expect(await readClipboard(page)).toBe(owner().accountKey);
    await finish.click();

    await page.getByRole('row', { name: new RegExp(keyName) }).waitFor();
    const check = await whoami({ accountKey: owner().accountKey, userKey: secret });
    expect(check.status).toBe(200);
    expect(check.json.userId).toBe(viewer.userId);
  });

  it('manages the allow list: a host-bits CIDR is refused in place, a saved rule the caller is outside of refuses the key', async () => {
    const row = page.getByRole('row', { name: new RegExp(keyName) });
    await row.getByRole('button', { name: 'Manage' }).click();
    const manage = page.getByRole('dialog', { name: 'Manage CIDR allow list' });
    await manage.getByLabel('CIDR').fill('127.1.0.1/24');
    await manage.getByRole('button', { name: 'Save' }).click();
    await manage.getByRole('alert').filter({ hasText: '127.1.0.0/24' }).waitFor();
    await screenshot(page, 'manage-cidr-refusal');

    await manage.getByLabel('CIDR').fill('10.0.0.0/8');
    await manage.getByRole('button', { name: 'Save' }).click();
    await manage.getByText('10.0.0.0/8').waitFor();
    expect((await whoami({ accountKey: owner().accountKey, userKey: secret })).status).toBe(403);

    await manage.getByRole('button', { name: 'Edit' }).click();
    await manage.getByLabel('CIDR').fill('127.0.0.0/8');
    await manage.getByRole('button', { name: 'Save' }).click();
    await manage.getByText('127.0.0.0/8').waitFor();
    expect((await whoami({ accountKey: owner().accountKey, userKey: secret })).status).toBe(200);

    await manage.getByRole('button', { name: 'Add CIDR rule' }).click();
    await manage.getByLabel('CIDR').fill('192.0.2.0/24');
    await manage.getByRole('button', { name: 'Save' }).click();
    await manage.getByText('192.0.2.0/24').waitFor();
    await screenshot(page, 'manage-cidr');
    const rules = await call(api.port, `/v1/api-keys/${(await keyIdOf(keyName))}/cidr-allow-list`, { keys: owner() });
    expect((rules.json.rules as { cidr: string }[]).map((r) => r.cidr).sort()).toEqual(['127.0.0.0/8', '192.0.2.0/24']);

    await manage.getByRole('listitem').filter({ hasText: '127.0.0.0/8' }).getByRole('button', { name: 'Delete' }).click();
    await poll(() => manage.getByText('127.0.0.0/8').count()).toBe(0);
    expect((await whoami({ accountKey: owner().accountKey, userKey: secret })).status).toBe(403);
    await manage.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('row', { name: new RegExp(keyName) }).filter({ hasText: '192.0.2.0/24' }).waitFor();
  });

  it('deletes a key after the Delete API secret key confirmation, and the key is 401 from then on', async () => {
    const row = page.getByRole('row', { name: new RegExp(keyName) });
    await row.hover();
    await row.getByRole('button', { name: 'Delete' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete API secret key' });
    await screenshot(page, 'delete-key');
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await poll(() => page.getByRole('row', { name: new RegExp(keyName) }).count()).toBe(0);
    expect((await whoami({ accountKey: owner().accountKey, userKey: secret })).status).toBe(401);
  });

  it('operates by keyboard: Add opens its dialog, focus stays inside, Escape closes it and focus returns to Add', async () => {
    const add = page.getByRole('button', { name: 'Add', exact: true });
    await add.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Add API user key' });
    await dialog.waitFor();
    for (let i = 0; i < 8; i += 1) {
      await page.keyboard.press('Tab');
      await poll(() => focusIsInDialog(page)).toBe(true);
    }
    await page.keyboard.press('Escape');
    await poll(() => dialog.count()).toBe(0);
    await poll(() => focusedText(page)).toBe('Add');

    await page.getByRole('tab', { name: 'API Keys' }).focus();
    // Focus follows the selection within the key press itself (read with no wait), so arrow keys
    // pressed in a row each move one tab on.
    await page.keyboard.press('ArrowRight');
    expect(await focusedText(page)).toBe('Users');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await poll(() => page.getByRole('tab', { name: 'Logs' }).getAttribute('aria-selected')).toBe('true');
    expect(await focusedText(page)).toBe('Logs');
    await page.keyboard.press('ArrowLeft');
    await poll(() => page.getByRole('tab', { name: 'Users' }).getAttribute('aria-selected')).toBe('true');
    expect(await focusedText(page)).toBe('Users');
  });

  it('reads the audit log, reveals included, a page at a time', async () => {
    // More events than one page holds (20)
    for (let i = 0; i < 20; i += 1) await call(api.port, '/v1/account/key', { keys: owner() });
    await page.getByRole('tab', { name: 'API Keys' }).click();
    await page.getByRole('tab', { name: 'Logs' }).click();
    const log = page.getByRole('table', { name: 'Audit log' });
    await log.getByRole('row', { name: /account-key\.reveal/ }).first().waitFor();
    await screenshot(page, 'logs');
    await poll(() => page.getByRole('button', { name: 'Older' }).isEnabled()).toBe(true);
    const first = await log.getByRole('row').nth(1).textContent();
    await page.getByRole('button', { name: 'Older' }).click();
    await poll(() => log.getByRole('row').nth(1).textContent()).not.toBe(first);
    await page.getByRole('button', { name: 'Newer' }).click();
    await poll(() => log.getByRole('row').nth(1).textContent()).toBe(first);
  });

  it('adds a user, changes their role and deletes them on the Users tab', async () => {
    await page.getByRole('tab', { name: 'Users' }).click();
    const form = page.getByRole('form', { name: 'Add a user' });
    await form.getByLabel('Name').fill('Grace Console');
    await form.getByLabel('Email').fill('grace@example.com');
    await form.getByLabel('Role').selectOption('viewer');
    await form.getByRole('button', { name: 'Add user' }).click();
    await page.getByRole('row', { name: /Grace Console/ }).waitFor();
    await screenshot(page, 'users');
    // A refused write is said in an alert, the list shows what is stored, and the next write
    // clears the alert: the account's only owner cannot become a viewer.
    const users = (await call(api.port, '/v1/users', { keys: owner() })).json.items as { name: string; role: string }[];
    const soleOwner = users.filter((u) => u.role === 'owner');
    expect(soleOwner).toHaveLength(1);
    const ownRole = page.getByLabel(`Role of ${soleOwner[0]?.name ?? ''}`);
    await ownRole.selectOption('viewer');
    await page.getByRole('alert').filter({ hasText: 'at least one owner' }).waitFor();
    await poll(() => ownRole.inputValue()).toBe('owner');
    const userOf = async () =>
      ((await call(api.port, '/v1/users', { keys: owner() })).json.items as { name: string; role: string }[]).find((u) => u.name === 'Grace Console');
    expect((await userOf())?.role).toBe('viewer');

    await page.getByLabel('Role of Grace Console').selectOption('logs-viewer');
    await poll(async () => (await userOf())?.role).toBe('logs-viewer');
    await poll(() => page.getByRole('alert').count()).toBe(0);

    await page.getByRole('button', { name: 'Delete user Grace Console' }).click();
    await page.getByRole('dialog', { name: 'Delete user' }).getByRole('button', { name: 'Delete' }).click();
    await poll(async () => await userOf()).toBeUndefined();
  });

  it('signs out and leaves nothing in sessionStorage or localStorage', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    const stored = await storedItems(page);
    expect(stored).toEqual({ session: 0, local: 0 });
  });
});

describe('roles', () => {
  it('shows a viewer everything read-only: no Add, no Show, no Copy, no Delete, no Manage', async () => {
    const viewer = await createUserWithKey(api, 'viewer', { keyName: 'viewer-read-only' });
    const page = await newPage();
    await signIn(page, viewer.keys);
    await page.getByRole('row', { name: /viewer-read-only/ }).waitFor();
    await page.getByLabel('Account key value').waitFor();
    await screenshot(page, 'viewer');
    for (const name of ['Add', 'Show', 'Copy', 'Delete', 'Manage']) {
      expect(await page.getByRole('button', { name, exact: true }).count(), name).toBe(0);
    }
    await page.getByRole('tab', { name: 'Users' }).click();
    await page.getByRole('table', { name: 'Users' }).waitFor();
    expect(await page.getByRole('form', { name: 'Add a user' }).count()).toBe(0);
    expect(await page.getByRole('combobox').count()).toBe(0);
  });

  it('shows a logs viewer the logs, and only them', async () => {
    const logsViewer = await createUserWithKey(api, 'logs-viewer');
    const page = await newPage();
    await signIn(page, logsViewer.keys);
    await page.getByRole('table', { name: 'Audit log' }).waitFor();
    expect(await page.getByRole('tab').allTextContents()).toEqual(['Logs']);
  });
});

describe('sessions and the API switch', () => {
  it('returns to the sign-in form with a plain message when the keys stop working', async () => {
    const owner2 = await createUserWithKey(api, 'owner');
    const page = await newPage();
    await signIn(page, owner2.keys);
    // The tab's first load is answered before the key goes: the refusal comes from the next one.
    await page.getByRole('row', { name: /owner-initial-key/ }).waitFor();
    await call(api.port, `/v1/api-keys/${owner2.keyId}`, { method: 'DELETE', keys: ownerKeys(api) });

    await page.getByRole('tab', { name: 'Users' }).click();
    await page.getByRole('alert').filter({ hasText: 'refused (401)' }).waitFor();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect((await storedItems(page)).session).toBe(0);
  });

  it('refuses wrong keys at sign-in with a plain message', async () => {
    const page = await newPage();
    // Well formed (the page checks the format itself) but no key of the account.
    const accountKey = ownerKeys(api).accountKey;
    const parsed = parseAccountKey(accountKey);
    if (!parsed.ok) throw new Error('the owner account key is malformed');
    await signIn(page, { accountKey, userKey: formatUserKey(parsed.key.accountId, newId()) });
    await page.getByRole('alert').filter({ hasText: 'not accepted (401)' }).waitFor();
  });

  it('shows an owner Enable API while the API is off, and Enable API turns it back on', async () => {
    const owner = ownerKeys(api);
    const off = await call(api.port, '/v1/account', { method: 'PATCH', keys: owner, body: { apiEnabled: false } });
    expect(off.status).toBe(200);
    try {
      const page = await newPage();
      await signIn(page, owner);
      const enable = page.getByRole('button', { name: 'Enable API' });
      await enable.waitFor();
      await screenshot(page, 'api-disabled');
      await enable.click();
      await page.getByRole('tab', { name: 'API Keys' }).waitFor();
      await page.getByRole('row', { name: /owner-initial-key/ }).waitFor();
      expect((await call(api.port, '/v1/account', { keys: owner })).json.apiEnabled).toBe(true);
      expect((await whoami(owner)).status).toBe(200);
    } finally {
      await call(api.port, '/v1/account', { method: 'PATCH', keys: owner, body: { apiEnabled: true } });
    }
  });
});

describe('the pages', () => {
  it('raised no script error and broke no Content-Security-Policy rule', () => {
    expect(problems.errors).toEqual([]);
  });
});

async function keyIdOf(name: string): Promise<string> {
  const keys = await call(api.port, '/v1/api-keys?limit=100', { keys: ownerKeys(api) });
  const key = (keys.json.items as { id: string; name: string }[]).find((k) => k.name === name);
  if (key === undefined) throw new Error(`no key named ${name}`);
  return key.id;
}
