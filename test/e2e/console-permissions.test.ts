import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readClipboard } from '#test/support/browser.ts';
import { screenshot } from '#test/support/screenshots.ts';
import { type ConsoleBed, poll, signIn, startConsoleBed } from './console-session.ts';
import { type Credentials, call, createUserWithKey, ownerKeys } from './support.ts';

/**
 * Restricted keys in the console (DESIGN 14, 17): the Add dialog's `Full access` / `Restricted`
 * radios with one checkbox per permission the chosen user's role grants, the keys table's
 * `Permissions` column, and an owner's `Edit permissions`; each effect checked through the API
 * and by calling with the key itself.
 */

let bed: ConsoleBed;
let page: Page;
const owner = (): Credentials => ownerKeys(bed.api);

type Holder = Awaited<ReturnType<typeof createUserWithKey>>;
let viewer: Holder;
let secondOwner: Holder;
let demoted: Holder;
/** The restricted key made through the Add dialog, and its secret. */
let restricted: { name: string; keys: Credentials };

interface PermissionItem {
  readonly name: string;
  readonly routes: readonly string[];
  readonly roles: readonly string[];
}

async function permissionsGrantedTo(role: string): Promise<string[]> {
  const answer = await call(bed.api.port, '/v1/permissions', { keys: owner() });
  expect(answer.status).toBe(200);
  return (answer.json.items as PermissionItem[]).filter((p) => p.roles.includes(role)).map((p) => p.name);
}

async function storedPermissions(keyName: string): Promise<readonly string[] | null | undefined> {
  const keys = (await call(bed.api.port, '/v1/api-keys?limit=100', { keys: owner() })).json.items as { name: string; permissions: string[] | null }[];
  return keys.find((k) => k.name === keyName)?.permissions;
}

const status = async (path: string, keys: Credentials): Promise<number> => (await call(bed.api.port, path, { keys })).status;

/** The names of the permission checkboxes a dialog shows, in order. */
async function checkboxNames(dialog: ReturnType<Page['getByRole']>): Promise<string[]> {
  // Each checkbox is named by its label, which holds the permission's name and nothing else.
  const labels = dialog.getByRole('group', { name: 'Permissions' }).locator('label:has(input[type="checkbox"])');
  return (await labels.allTextContents()).map((text) => text.trim());
}

beforeAll(async () => {
  bed = await startConsoleBed();
  viewer = await createUserWithKey(bed.api, 'viewer', { keyName: 'viewer-full-key' });
  secondOwner = await createUserWithKey(bed.api, 'owner', { keyName: 'second-owner-key' });
  demoted = await createUserWithKey(bed.api, 'viewer', { keyName: 'key-of-a-demoted-viewer' });
  page = await bed.newPage();
  await signIn(bed, page, owner());
});

afterAll(async () => {
  await bed.close();
});

describe('an owner', () => {
  it('offers the checkboxes of the chosen user role, and creates a restricted key shown in the table', async () => {
    const viewerGrants = await permissionsGrantedTo('viewer');
    const ownerGrants = await permissionsGrantedTo('owner');
    expect(viewerGrants).toContain('api-keys:read');
    expect(ownerGrants).toContain('users:write');

    await page.getByRole('button', { name: 'Add', exact: true }).click();
    const add = page.getByRole('dialog', { name: 'Add API user key' });
    await add.getByLabel('Key name').fill('restricted-by-console');
    expect(await add.getByRole('radio', { name: 'Full access' }).isChecked()).toBe(true);
    expect(await add.getByRole('checkbox').count()).toBe(0);

    await add.getByLabel('User name').selectOption(secondOwner.userId);
    await add.getByRole('radio', { name: 'Restricted' }).check();
    await add.getByRole('checkbox', { name: 'api-keys:read', exact: true }).waitFor();
    expect(await checkboxNames(add)).toEqual(ownerGrants);
    // Restricted to nothing is no key the API takes: Create waits for a ticked permission.
    expect(await add.getByRole('button', { name: 'Create' }).isDisabled()).toBe(true);
    await add.getByRole('checkbox', { name: 'users:write', exact: true }).check();
    await add.getByRole('checkbox', { name: 'api-keys:read', exact: true }).check();

    // A viewer is offered only what a viewer may do: reads, and not the account key's.
    await add.getByLabel('User name').selectOption(viewer.userId);
    await poll(() => add.getByRole('checkbox', { name: 'users:write', exact: true }).count()).toBe(0);
    const offered = await checkboxNames(add);
    expect(offered).toEqual(viewerGrants);
    expect(offered.every((name) => name.endsWith(':read'))).toBe(true);
    expect(offered).not.toContain('account-key:read');
    expect(await add.getByRole('checkbox', { name: 'api-keys:read', exact: true }).isChecked()).toBe(true);
    await screenshot(page, 'add-key-restricted');
    await add.getByRole('button', { name: 'Create' }).click();

    const created = page.getByRole('dialog', { name: 'API user key' });
    const secret = (await created.getByLabel('User key value').textContent()) ?? '';
    await created.getByRole('button', { name: 'Copy', exact: true }).click();
    expect(await readClipboard(page)).toBe(secret);
    await created.getByRole('button', { name: 'Finish' }).click();
    restricted = { name: 'restricted-by-console', keys: { accountKey: owner().accountKey, userKey: secret } };

    const row = page.getByRole('row', { name: /restricted-by-console/ });
    await row.waitFor();
    expect(await page.getByRole('columnheader', { name: 'Permissions' }).count()).toBe(1);
    // The permission ticked for the owner and left out of a viewer's role was not sent.
    expect(await storedPermissions('restricted-by-console')).toEqual(['api-keys:read']);
    expect(await row.getByRole('cell', { name: 'api-keys:read' }).count()).toBe(1);
    expect(await page.getByRole('row', { name: /viewer-full-key/ }).getByRole('cell', { name: 'Full access' }).count()).toBe(1);
    expect(await status('/v1/api-keys', restricted.keys)).toBe(200);
    expect(await status('/v1/users', restricted.keys)).toBe(403);
  });

  it('changes a key’s permissions with Edit permissions, at once', async () => {
    const row = page.getByRole('row', { name: /restricted-by-console/ });
    await row.getByRole('button', { name: 'Edit permissions' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit permissions' });
    expect(await edit.getByRole('radio', { name: 'Restricted' }).isChecked()).toBe(true);
    expect(await edit.getByRole('checkbox', { name: 'api-keys:read', exact: true }).isChecked()).toBe(true);
    expect(await checkboxNames(edit)).toEqual(await permissionsGrantedTo('viewer'));
    await edit.getByRole('checkbox', { name: 'users:read', exact: true }).check();
    await screenshot(page, 'edit-permissions');
    await edit.getByRole('button', { name: 'Save' }).click();
    await poll(() => edit.count()).toBe(0);

    await row.getByRole('cell', { name: 'api-keys:read, users:read' }).waitFor();
    expect(await storedPermissions(restricted.name)).toEqual(['api-keys:read', 'users:read']);
    expect(await status('/v1/users', restricted.keys)).toBe(200);
    expect(await status('/v1/account', restricted.keys)).toBe(403);
  });

  it('lifts the restriction with Full access', async () => {
    const row = page.getByRole('row', { name: /restricted-by-console/ });
    await row.getByRole('button', { name: 'Edit permissions' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit permissions' });
    await edit.getByRole('radio', { name: 'Full access' }).check();
    expect(await edit.getByRole('checkbox').count()).toBe(0);
    await edit.getByRole('button', { name: 'Save' }).click();
    await poll(() => edit.count()).toBe(0);

    await row.getByRole('cell', { name: 'Full access' }).waitFor();
    expect(await storedPermissions(restricted.name)).toBeNull();
    expect(await status('/v1/account', restricted.keys)).toBe(200);
  });

  it('shows a refusal in place, keeping the dialog: the holder’s role changed after the page read it', async () => {
    await page.reload();
    const row = page.getByRole('row', { name: /key-of-a-demoted-viewer/ });
    await row.getByRole('button', { name: 'Edit permissions' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit permissions' });
    await edit.getByRole('radio', { name: 'Restricted' }).check();
    await edit.getByRole('checkbox', { name: 'api-keys:read', exact: true }).check();
    const demotion = await call(bed.api.port, `/v1/users/${demoted.userId}`, { method: 'PATCH', keys: owner(), body: { role: 'logs-viewer' } });
    expect(demotion.status).toBe(200);

    await edit.getByRole('button', { name: 'Save' }).click();
    // The API's 422 (a permission the holder's role no longer grants), in its own words.
    await edit.getByRole('alert').waitFor();
    expect(await edit.getByRole('alert').textContent()).toContain('api-keys:read');
    expect(await edit.getByRole('button', { name: 'Save' }).isEnabled()).toBe(true);
    expect(await storedPermissions('key-of-a-demoted-viewer')).toBeNull();
    await edit.getByRole('button', { name: 'Cancel' }).click();
    await poll(() => edit.count()).toBe(0);
  });
});

describe('a viewer', () => {
  it('sees each key’s permissions, and no Edit permissions', async () => {
    const mine = await bed.newPage();
    await signIn(bed, mine, viewer.keys);
    const row = mine.getByRole('row', { name: /viewer-full-key/ });
    await row.waitFor();
    expect(await mine.getByRole('columnheader', { name: 'Permissions' }).count()).toBe(1);
    expect(await row.getByRole('cell', { name: 'Full access' }).count()).toBe(1);
    expect(await mine.getByRole('row', { name: /restricted-by-console/ }).count()).toBe(1);
    expect(await mine.getByRole('button', { name: 'Edit permissions' }).count()).toBe(0);
  });
});

describe('signed in with a restricted key', () => {
  it('shows what the key may read, and for what it may not the refusal, not a page that stays loading', async () => {
    // Prepare: the owner's key, restricted to the audit log.
    const made = await call(bed.api.port, '/v1/api-keys', {
      method: 'POST',
      keys: owner(),
      body: { name: 'logs-only-console-key', userId: secondOwner.userId, permissions: ['logs:read'] },
    });
    expect(made.status).toBe(201);
    const keys: Credentials = { accountKey: owner().accountKey, userKey: made.json.secret as string };
    const mine = await bed.newPage();

    // Act
    await signIn(bed, mine, keys);

    // Assess: the API Keys tab (account, keys and users refused)...
    await poll(() => mine.getByRole('alert').filter({ hasText: /not allow/ }).count()).toBeGreaterThan(0);
    expect(await mine.getByRole('status').filter({ hasText: /Loading/ }).count()).toBe(0);
    // ...the Users tab...
    await mine.getByRole('tab', { name: 'Users' }).click();
    await poll(() => mine.getByRole('alert').filter({ hasText: /not allow/ }).count()).toBeGreaterThan(0);
    expect(await mine.getByRole('status').filter({ hasText: 'Loading users…' }).count()).toBe(0);
    // ...and the audit log, which it may read.
    await mine.getByRole('tab', { name: 'Logs' }).click();
    await mine.getByRole('table', { name: 'Audit log' }).waitFor();
  });
});

describe('the pages', () => {
  it('raised no script error', () => {
    expect(bed.problems.errors).toEqual([]);
  });
});
