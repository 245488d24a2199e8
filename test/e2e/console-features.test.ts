import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readClipboard } from '#test/support/browser.ts';
import { screenshot } from '#test/support/screenshots.ts';
import { type ConsoleBed, poll, signIn, startConsoleBed } from './console-session.ts';
import { type Credentials, call, createUserWithKey, ownerKeys } from './support.ts';

/**
 * What the API lets an owner do, done in the console (DESIGN 17), each effect checked through
 * the API: rolls, expiry, the API switch, the leak banner, usage, the key filter, the log's
 * action filter and names, and the role change that deletes keys.
 */

let bed: ConsoleBed;
let page: Page;
const owner = (): Credentials => ownerKeys(bed.api);
const whoami = (keys: Credentials) => call(bed.api.port, '/v1/whoami', { keys });

/** Users and keys made before the page reads them. */
let viewer: Awaited<ReturnType<typeof createUserWithKey>>;
let rollHolder: Awaited<ReturnType<typeof createUserWithKey>>;
let futureMember: Awaited<ReturnType<typeof createUserWithKey>>;
let keptHolder: Awaited<ReturnType<typeof createUserWithKey>>;

beforeAll(async () => {
  bed = await startConsoleBed();
  viewer = await createUserWithKey(bed.api, 'viewer', { keyName: 'expiring-viewer-seed' });
  rollHolder = await createUserWithKey(bed.api, 'viewer', { keyName: 'key-to-roll' });
  futureMember = await createUserWithKey(bed.api, 'viewer', { keyName: 'key-of-a-future-member' });
  keptHolder = await createUserWithKey(bed.api, 'viewer', { keyName: 'key-kept-on-cancel' });
  page = await bed.newPage();
});

afterAll(async () => {
  await bed.close();
});

/** Copies the once-only secret, then Finish; answers the secret. */
async function takeSecret(): Promise<string> {
  const dialog = page.getByRole('dialog', { name: 'API user key' });
  await dialog.waitFor();
  const secret = (await dialog.getByLabel('User key value').textContent()) ?? '';
  await dialog.getByRole('button', { name: 'Copy', exact: true }).click();
  expect(await readClipboard(page)).toBe(secret);
  await dialog.getByRole('button', { name: 'Finish' }).click();
  await poll(() => dialog.count()).toBe(0);
  return secret;
}

describe('an owner', () => {
  it('sees the plan and what was used this period in the Usage region', async () => {
    await signIn(bed, page, owner());
    const usage = page.getByRole('region', { name: 'Usage' });
    await usage.getByText(/requests per second/).waitFor();
    await usage.getByText('Used this period').waitFor();
    const api = (await call(bed.api.port, '/v1/account/usage', { keys: owner() })).json as { plan: { rateLimit: number } };
    expect(await usage.textContent()).toContain(`${api.plan.rateLimit} requests per second`);
  });

  it('adds a key that expires, and the Expires column shows when', async () => {
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    const add = page.getByRole('dialog', { name: 'Add API user key' });
    await add.getByLabel('Key name').fill('key-that-expires');
    await add.getByLabel('User name').selectOption(viewer.userId);
    await add.getByLabel('Expires').fill('2099-01-01T00:00');
    await add.getByRole('button', { name: 'Create' }).click();
    // Beyond the API's 366 days: refused in place, the dialog kept.
    await add.getByRole('alert').filter({ hasText: '366 days' }).waitFor();
    const inAMonth = new Date(Date.now() + 30 * 86_400_000);
    const local = `${String(inAMonth.getFullYear())}-${pad(inAMonth.getMonth() + 1)}-${pad(inAMonth.getDate())}T12:00`;
    await add.getByLabel('Expires').fill(local);
    await screenshot(page, 'add-key-expiry');
    await add.getByRole('button', { name: 'Create' }).click();
    await takeSecret();

    const row = page.getByRole('row', { name: /key-that-expires/ });
    await row.waitFor();
    const stored = (await call(bed.api.port, '/v1/api-keys?limit=100', { keys: owner() })).json.items as { name: string; expiresAt: string | null }[];
    const expiresAt = stored.find((k) => k.name === 'key-that-expires')?.expiresAt;
    expect(expiresAt).toBe(new Date(local).toISOString());
    expect(await page.getByRole('columnheader', { name: 'Expires' }).count()).toBe(1);
    expect(await row.getByRole('cell').nth(3).getAttribute('title')).toBe(expiresAt);
  });

  it('rolls a user key with a grace period, and shows the new secret once', async () => {
    const holder = rollHolder;
    await page.getByRole('row', { name: /key-to-roll/ }).getByRole('button', { name: 'Roll' }).click();
    const roll = page.getByRole('dialog', { name: 'Roll API user key' });
    await roll.getByLabel('Grace period').fill('600');
    await screenshot(page, 'roll-key');
    await roll.getByRole('button', { name: 'Roll' }).click();
    await page.getByRole('dialog', { name: 'API user key' }).getByText(/previous secret of this key works until/).waitFor();
    const secret = await takeSecret();

    expect(secret).not.toBe(holder.keys.userKey);
    expect((await whoami({ accountKey: owner().accountKey, userKey: secret })).json.keyId).toBe(holder.keyId);
    expect((await whoami(holder.keys)).status).toBe(200);
  });

  it('rolls the key it is signed in with, with no grace, and goes on with the new one', async () => {
    const self = await createUserWithKey(bed.api, 'owner', { keyName: 'self-rolled-key' });
    const mine = await bed.newPage();
    await signIn(bed, mine, self.keys);
    await mine.getByRole('row', { name: /self-rolled-key/ }).getByRole('button', { name: 'Roll' }).click();
    await mine.getByRole('dialog', { name: 'Roll API user key' }).getByRole('button', { name: 'Roll' }).click();
    const created = mine.getByRole('dialog', { name: 'API user key' });
    const secret = (await created.getByLabel('User key value').textContent()) ?? '';
    await created.getByRole('button', { name: 'Copy', exact: true }).click();
    await created.getByRole('button', { name: 'Finish' }).click();

    expect((await whoami(self.keys)).status).toBe(401);
    expect((await whoami({ accountKey: owner().accountKey, userKey: secret })).status).toBe(200);
    // Still signed in: the table is read again with the new secret.
    await mine.getByRole('row', { name: /self-rolled-key/ }).waitFor();
    expect(await mine.getByRole('button', { name: 'Sign in' }).count()).toBe(0);
  });

  it('filters the keys by name, user or address as the person types', async () => {
    const filter = page.getByRole('searchbox', { name: 'Filter keys' });
    await filter.fill('roll');
    await poll(() => page.getByRole('row', { name: /owner-initial-key/ }).count()).toBe(0);
    expect(await page.getByRole('row', { name: /key-to-roll/ }).count()).toBe(1);
    await filter.fill('no key is named like this');
    await page.getByText(/No key matches/).waitFor();
    await filter.fill('');
    await page.getByRole('row', { name: /owner-initial-key/ }).waitFor();
  });

  it('shows names beside ids in the log, and narrows it to one action', async () => {
    await page.getByRole('tab', { name: 'Logs' }).click();
    const log = page.getByRole('table', { name: 'Audit log' });
    await log.getByRole('row').nth(1).waitFor();
    await page.getByLabel('Action').selectOption('api-key.roll');
    await poll(async () => (await log.getByRole('row').allTextContents()).slice(1).every((row) => row.includes('api-key.roll'))).toBe(true);
    const rolled = log.getByRole('row', { name: /api-key\.roll/ }).filter({ hasText: 'key-to-roll' });
    // The target key's name, the acting user's name and the acting key's name, each beside its id.
    expect(await rolled.textContent()).toContain('key-to-roll');
    expect(await rolled.textContent()).toContain('First owner');
    expect(await rolled.textContent()).toContain('owner-initial-key');
    await screenshot(page, 'logs-action');
    await page.getByLabel('Action').selectOption('');
  });

  it('confirms a role change that deletes keys in the Change role dialog, naming them; each is then refused', async () => {
    const holder = futureMember;
    await page.getByRole('tab', { name: 'Users' }).click();
    const name = ((await call(bed.api.port, '/v1/users', { keys: owner() })).json.items as { id: string; name: string }[]).find((u) => u.id === holder.userId)?.name ?? '';
    await page.getByLabel(`Role of ${name}`).selectOption('member');
    const confirm = page.getByRole('dialog', { name: 'Change role' });
    await confirm.getByText('key-of-a-future-member').waitFor();
    expect((await whoami(holder.keys)).status).toBe(200);
    await screenshot(page, 'change-role');

    await confirm.getByRole('button', { name: 'Change role' }).click();
    await poll(async () => (await whoami(holder.keys)).status).toBe(401);
    const users = (await call(bed.api.port, '/v1/users', { keys: owner() })).json.items as { id: string; role: string }[];
    expect(users.find((u) => u.id === holder.userId)?.role).toBe('member');
  });

  it('leaves a role change that deletes keys undone when Change role is cancelled', async () => {
    const holder = keptHolder;
    await page.getByRole('tab', { name: 'API Keys' }).click();
    await page.getByRole('tab', { name: 'Users' }).click();
    const name = ((await call(bed.api.port, '/v1/users', { keys: owner() })).json.items as { id: string; name: string }[]).find((u) => u.id === holder.userId)?.name ?? '';
    const role = page.getByLabel(`Role of ${name}`);
    await role.selectOption('billing-admin');
    await page.getByRole('dialog', { name: 'Change role' }).getByRole('button', { name: 'Cancel' }).click();
    await poll(() => role.inputValue()).toBe('viewer');
    expect((await whoami(holder.keys)).status).toBe(200);
  });

  it('disables the API after the Disable API confirmation, and Enable API turns it back on', async () => {
    await page.getByRole('tab', { name: 'API Keys' }).click();
    await page.getByRole('button', { name: 'Disable API' }).click();
    const confirm = page.getByRole('dialog', { name: 'Disable API' });
    await screenshot(page, 'disable-api');
    try {
      await confirm.getByRole('button', { name: 'Disable API' }).click();
      await page.getByRole('button', { name: 'Enable API' }).waitFor();
      expect((await call(bed.api.port, '/v1/account', { keys: owner() })).json.apiEnabled).toBe(false);
      expect((await whoami(owner())).status).toBe(401);

      await page.getByRole('button', { name: 'Enable API' }).click();
      await page.getByRole('row', { name: /owner-initial-key/ }).waitFor();
      expect((await whoami(owner())).status).toBe(200);
    } finally {
      await call(bed.api.port, '/v1/account', { method: 'PATCH', keys: owner(), body: { apiEnabled: true } });
    }
  });

  // Last: the account key it rolls is the one every test above signs with.
  it('shows the leak banner once the account key is reported, and rolls the account key from it', async () => {
    const report = await call(bed.api.port, '/v1/leaked-keys', { method: 'POST', body: { keys: [owner().accountKey] } });
    expect(report.status).toBe(202);
    await page.reload();
    const banner = page.getByRole('region', { name: 'Account key reported as leaked' });
    await banner.getByText(/The account key was reported as leaked on/).waitFor();
    await screenshot(page, 'leak-banner');
    await banner.getByRole('button', { name: 'Roll account key' }).click();
    const roll = page.getByRole('dialog', { name: 'Roll API account key' });
    await roll.getByLabel('Grace period').fill('3600');
    await roll.getByRole('button', { name: 'Roll' }).click();
    await page.getByText(/Account key rolled: the previous one works until/).waitFor();

    const rolled = (await page.getByLabel('Account key value').textContent()) ?? '';
    expect(rolled).toMatch(/^lka_/);
    expect(rolled).not.toBe(owner().accountKey);
    expect((await whoami({ accountKey: rolled, userKey: owner().userKey })).status).toBe(200);
    expect((await whoami(owner())).status).toBe(200);
    await poll(() => banner.count()).toBe(0);
    // The console signs with the new account key from now on.
    await page.getByRole('tab', { name: 'Users' }).click();
    await page.getByRole('table', { name: 'Users' }).waitFor();
  });
});

describe('the pages', () => {
  it('raised no script error and broke no Content-Security-Policy rule', () => {
    expect(bed.problems.errors).toEqual([]);
  });
});

function pad(value: number): string {
  return String(value).padStart(2, '0');
}
