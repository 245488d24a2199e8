import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { narrowsAccess } from '#shared/adapters/dynamodb/narrowing.ts';
import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import { rotatePepper } from '#shared/authorization/peppers.ts';
import type { SecretRef, SecretsFound } from '#shared/ports/key-lifecycle-store.ts';
import type { Store } from '#shared/ports/store.ts';
import { rollAccountKey, rollApiKey } from '#shared/services/key-rolls.ts';
import { reportLeakedKeys } from '#shared/services/leaked-keys.ts';
import { type ApiTestBed, type GatewayTestBed, type KeyPair, createApiTestBed, createGatewayTestBed } from '#test/support/api-events.ts';
import { tableChanges } from '#test/support/table-stream.ts';

/**
 * Leak reports that must not cost more than they are worth: a repeated report of an account
 * key writes nothing and flushes nothing (the flag itself takes no access away, as the table's
 * stream shows it), and a report whose key was rolled between the report's read and its write
 * never deletes the new secret, which the reporter never saw.
 */

describe('a leak report of an account key', () => {
  let bed: ApiTestBed;

  beforeAll(async () => {
    bed = await createApiTestBed();
  });

  async function accountItem(accountId: string): Promise<Record<string, unknown> | undefined> {
    const output = await bed.table.client.send(new GetCommand({ TableName: bed.table.tableName, Key: { pk: `ACCOUNT#${accountId}`, sk: 'META' }, ConsistentRead: true }));
    return output.Item;
  }

  it('flags the key once: a repeated report writes no event, leaves the account item as it was and flushes nothing', async () => {
    // Prepare
    const { account, accountKey } = await bed.otherAccount();
    const report = (): ReturnType<ApiTestBed['call']> => bed.call('reportLeakedKeys', null, { body: { keys: [accountKey] } });
    const flushesBefore = bed.cache.flushes;

    // Act
    const first = await report();
    const flagged = await accountItem(account.id);
    const changesAfterFirst = await tableChanges(bed.table);
    const again = [await report(), await report()];
    const after = await accountItem(account.id);
    const changesAfterAgain = await tableChanges(bed.table);

    // Assess
    expect([first.status, ...again.map((r) => r.status)]).toEqual([202, 202, 202]);
    expect(flagged?.accountKeyLeakReportedAt).toEqual(expect.any(String));
    expect(after).toEqual(flagged);
    const events = (await bed.deps.store.listEvents(account.id, { limit: 50 })).items.filter((e) => e.action === 'account-key.leak-reported');
    expect(events).toHaveLength(1);
    // Nothing written at all by the repeated reports: not an event, not the account item.
    expect(changesAfterAgain).toHaveLength(changesAfterFirst.length);
    expect(bed.cache.flushes).toBe(flushesBefore);
  });

  it("writes the flag as a change the table's stream does not read as narrowing", async () => {
    // Prepare
    const { account, accountKey } = await bed.otherAccount();
    const before = (await tableChanges(bed.table)).length;

    // Act
    await bed.call('reportLeakedKeys', null, { body: { keys: [accountKey] } });

    // Assess
    const changes = (await tableChanges(bed.table)).slice(before);
    const flag = changes.filter((c) => c.newImage?.sk?.S === 'META' && c.newImage.pk?.S === `ACCOUNT#${account.id}`);
    expect(flag).toHaveLength(1);
    expect(flag[0]?.eventName).toBe('MODIFY');
    expect(flag[0]?.oldImage?.accountKeyLeakReportedAt).toBeUndefined();
    expect(flag[0]?.newImage?.accountKeyLeakReportedAt?.S).toEqual(expect.any(String));
    expect(changes.map(narrowsAccess)).toEqual(changes.map(() => false));
  });
});

describe('a leak report racing a roll of the reported user key', () => {
  let bed: GatewayTestBed;

  beforeAll(async () => {
    bed = await createGatewayTestBed();
  });

  /** The app's store, with `between` run once right after the report's first read of the secrets. */
  function storeWith(between: () => Promise<void>): Store {
    const store = bed.app.apiDeps.store;
    let done = false;
    const loadSecrets = async (refs: readonly SecretRef[]): Promise<SecretsFound> => {
      const found = await store.loadSecrets(refs);
      if (!done) {
        done = true;
        await between();
      }
      return found;
    };
    return new Proxy(store, {
      get(target, name) {
        if (name === 'loadSecrets') return loadSecrets;
        const value: unknown = Reflect.get(target, name, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  async function newKey(account: KeyPair): Promise<{ id: string; secret: string }> {
    const created = await bed.request('createApiKey', { keys: account, body: { name: `leak-race-${Math.random().toString(36).slice(2, 10)}`, userId: account.principal.userId } });
    expect(created.status).toBe(201);
    return { id: created.json.id as string, secret: created.json.secret as string };
  }

  async function whoami(account: KeyPair, userKey: string): Promise<number> {
    return (await bed.request('whoami', { keys: { accountKey: account.accountKey, userKey } })).status;
  }

  async function actions(account: KeyPair): Promise<string[]> {
    return (await bed.app.store.listEvents(account.principal.accountId, { limit: 50 })).items.map((e) => e.action);
  }

  async function report(store: Store, keys: readonly string[]): Promise<void> {
    await reportLeakedKeys({ ...bed.app.apiDeps, store }, keys, '203.0.113.5', { answerDelayMs: 0 });
  }

  it('keeps the key when the owner rolled it with no grace in between: the new secret works', async () => {
    // Prepare
    const account = await bed.newAccount();
    const key = await newKey(account);
    let rolled = '';
    const store = storeWith(async () => {
      rolled = (await rollApiKey(bed.app.apiDeps, account.principal.accountId, key.id, 0, SYSTEM_ACTOR)).secret;
    });

    // Act
    await report(store, [key.secret]);

    // Assess
    expect(rolled).not.toBe('');
    expect(await whoami(account, rolled)).toBe(200);
    expect(await whoami(account, key.secret)).toBe(401);
    expect((await bed.request('getApiKey', { keys: account, params: { keyId: key.id } })).status).toBe(200);
    expect(await actions(account)).not.toContain('api-key.leak-reported');
  });

  it("ends the reported secret's grace when the owner rolled it with a grace in between, and keeps the new secret", async () => {
    // Prepare: an Allow cached for the reported secret.
    const account = await bed.newAccount();
    const key = await newKey(account);
    expect(await whoami(account, key.secret)).toBe(200);
    let rolled = '';
    const store = storeWith(async () => {
      rolled = (await rollApiKey(bed.app.apiDeps, account.principal.accountId, key.id, 3600, SYSTEM_ACTOR)).secret;
    });

    // Act
    await report(store, [key.secret]);

    // Assess
    expect(await whoami(account, key.secret)).toBe(401);
    expect(await whoami(account, rolled)).toBe(200);
    const logged = await actions(account);
    expect(logged).toContain('api-key.previous-secret-leak-reported');
    expect(logged).not.toContain('api-key.leak-reported');
  });

  it("ends the reported account key's grace when its owners rolled it in between, and flags nothing", async () => {
    // Prepare: an Allow cached for the reported account key.
    const account = await bed.newAccount();
    expect(await whoami(account, account.userKey)).toBe(200);
    let rolled = '';
    const store = storeWith(async () => {
      rolled = (await rollAccountKey(bed.app.apiDeps, account.principal.accountId, 3600, SYSTEM_ACTOR)).accountKey;
    });

    // Act
    await report(store, [account.accountKey]);

    // Assess
    expect(await whoami(account, account.userKey)).toBe(401);
    expect(await whoami({ ...account, accountKey: rolled }, account.userKey)).toBe(200);
    const logged = await actions(account);
    expect(logged).toContain('account-key.previous-leak-reported');
    expect(logged).not.toContain('account-key.leak-reported');
  });

  it('still deletes the reported key when its digest moved to a newer pepper in between', async () => {
    // Prepare
    const account = await bed.newAccount();
    const key = await newKey(account);
    const { accountId } = account.principal;
    const upgrader = bed.app.authorizerDeps.digestUpgrades;
    let upgradedTo = 0;
    const store = storeWith(async () => {
      // What the authorizer does when the key is next used after a rotation.
      const version = await rotatePepper(bed.app.store, bed.app.apiDeps.secrets);
      const records = await bed.app.store.loadForAuthorization(accountId, key.id);
      upgrader?.offer({ accountId, keyId: key.id, accountKey: account.accountKey, userKey: key.secret }, records, await bed.app.apiDeps.peppers(version));
      await upgrader?.settled();
      upgradedTo = (await bed.app.store.loadForAuthorization(accountId, key.id)).key?.pepperVersion ?? 0;
      expect(upgradedTo).toBe(version);
    });

    // Act
    await report(store, [key.secret]);

    // Assess
    expect(upgradedTo).toBeGreaterThan(1);
    expect(await whoami(account, key.secret)).toBe(401);
    expect((await bed.request('getApiKey', { keys: account, params: { keyId: key.id } })).status).toBe(404);
    expect(await actions(account)).toContain('api-key.leak-reported');
  });
});
