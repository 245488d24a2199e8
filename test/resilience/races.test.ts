import { beforeAll, describe, expect, it } from 'vitest';
import { createLocalApp, type LocalApp } from '#local/process/app.ts';
import { DEFAULT_LIMITS } from '#shared/adapters/environment.ts';
import type { Actor } from '#shared/domain/audit.ts';
import { createApiKey } from '#shared/services/api-keys.ts';
import { createUser } from '#shared/services/users.ts';
import {
  type ResilienceTable,
  type SeededOwner,
  callGateway,
  createResilienceTable,
  expectProblem,
  newLocalSecrets,
  seedOwner,
} from '#test/support/resilience-app.ts';
import { quietLogger } from '#test/support/fakes/logger.ts';
import { invariantViolations, scanTable } from '#test/support/resilience-table.ts';

/**
 * Writes that race, sent concurrently through the gateway emulator to the real handlers on
 * DynamoDB Local: each lands or is refused out loud (409), limits hold, and nothing a client
 * was told succeeded is lost.
 */

const secrets = newLocalSecrets();
/** The deployed limits: 20 rules per key, below the 50 racers, so that the limit refuses most of them. */
const LIMITS = DEFAULT_LIMITS;
const RULES_PER_KEY = LIMITS.rulesPerKey;

interface RuleView {
  readonly id: string;
  readonly cidr: string;
}

describe('concurrent writes through the handlers', () => {
  let table: ResilienceTable;
  let app: LocalApp;

  beforeAll(async () => {
    table = (await createResilienceTable()).clean;
    app = createLocalApp({ documentClient: table.client, tableName: table.tableName, secrets, logger: quietLogger(), auditRetentionDays: 0, limits: LIMITS });
  });

  async function newAccount(): Promise<{ owner: SeededOwner; actor: Actor }> {
    const owner = await seedOwner(app.apiDeps, app.store);
    return { owner, actor: { userId: owner.userId, keyId: owner.keyId, sourceIp: null } };
  }

  async function accountItems(accountId: string) {
    const items = await scanTable(table.client, table.tableName);
    return items.filter((item) => item.pk === `ACCOUNT#${accountId}`);
  }

  it(`50 concurrent CIDR rule adds to one key: ${RULES_PER_KEY} created, the rest refused for the limit, none a fault`, { timeout: 60_000 }, async () => {
    // Prepare
    const { owner, actor } = await newAccount();
    const viewer = await createUser(app.apiDeps, owner.accountId, { name: 'Vera', email: 'vera@example.com', role: 'viewer' }, actor);
    const { key } = await createApiKey(app.apiDeps, owner.accountId, { name: 'raced-allow-list', userId: viewer.id }, actor);
    const cidrs = Array.from({ length: 50 }, (_, n) => `10.${n}.0.0/16`);

    // Act
    const responses = await Promise.all(
      cidrs.map((cidr) =>
        callGateway(app.gateway, { method: 'POST', path: `/v1/api-keys/${key.id}/cidr-allow-list`, headers: owner.headers, body: { cidr } }),
      ),
    );

    // Assess: no 5xx (a caller told 500 may still see its rule land later), and no add refused
    // while the list had room: each add is one append that either fits or meets the limit.
    expect(responses.filter((response) => response.status >= 500).map((response) => `${response.status} ${response.body}`)).toEqual([]);
    const unexpected = responses.filter((response) => response.status !== 201 && response.status !== 409);
    expect(unexpected.map((response) => `${response.status} ${response.body}`)).toEqual([]);
    const refusals = responses.filter((response) => response.status === 409).map(expectProblem);
    expect(refusals.map((problem) => problem.detail)).toEqual(
      Array<string>(cidrs.length - RULES_PER_KEY).fill(`a key may have at most ${RULES_PER_KEY} CIDR rules`),
    );
    const added = responses.filter((response) => response.status === 201).map((response) => JSON.parse(response.body) as RuleView);
    expect(added).toHaveLength(RULES_PER_KEY);
    const listed = await callGateway(app.gateway, { method: 'GET', path: `/v1/api-keys/${key.id}/cidr-allow-list`, headers: owner.headers });
    const rules = (JSON.parse(listed.body) as { rules: RuleView[] }).rules;
    expect(rules.map((rule) => `${rule.id} ${rule.cidr}`).sort()).toEqual(added.map((rule) => `${rule.id} ${rule.cidr}`).sort());
    // One audit event per rule that landed, none for a refusal.
    const items = await accountItems(owner.accountId);
    expect(items.filter((item) => item.action === 'cidr-rule.create')).toHaveLength(added.length);
    expect(invariantViolations(items, LIMITS)).toEqual([]);
  });

  it('20 concurrent creates of one key name: exactly one key, one 201, nineteen 409', { timeout: 60_000 }, async () => {
    // Prepare: the creates are spread over several holders, so only the name collides.
    const { owner, actor } = await newAccount();
    const holders = [owner.userId];
    for (const role of ['owner', 'viewer', 'logs-viewer'] as const) {
      holders.push((await createUser(app.apiDeps, owner.accountId, { name: role, email: `${role}@example.com`, role }, actor)).id);
    }
    const name = 'one-name-many-callers';

    // Act
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        callGateway(app.gateway, { method: 'POST', path: '/v1/api-keys', headers: owner.headers, body: { name, userId: holders[n % holders.length] } }),
      ),
    );

    // Assess
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([201, ...Array<number>(19).fill(409)]);
    for (const refused of responses.filter((response) => response.status === 409)) expectProblem(refused);
    const created = JSON.parse(responses.find((response) => response.status === 201)!.body) as { id: string; secret: string };
    const items = await accountItems(owner.accountId);
    const named = items.filter((item) => String(item.sk).startsWith('KEY#') && item.name === name);
    expect(named.map((item) => item.id)).toEqual([created.id]);
    expect(items.filter((item) => item.sk === `KEYNAME#${name}`).map((item) => item.keyId)).toEqual([created.id]);
    expect(items.filter((item) => item.action === 'api-key.create')).toHaveLength(1);
    expect(invariantViolations(items, LIMITS)).toEqual([]);
    // The one key that exists is the one whose secret was handed out, and it works.
    const whoami = await callGateway(app.gateway, {
      method: 'GET',
      path: '/v1/whoami',
      headers: { 'x-api-key': owner.accountKey, 'x-api-secret-key': created.secret },
    });
    expect(whoami.status).toBe(200);
  });

  describe('the last two owners removed at once: exactly one owner remains', () => {
    const RACES = [
      { first: 'demote', second: 'demote' },
      { first: 'delete', second: 'delete' },
      { first: 'demote', second: 'delete' },
    ] as const;
    const ROUNDS = 4;

    it.each(RACES)('$first one while the other $second s the first', { timeout: 60_000 }, async ({ first, second }) => {
      for (let round = 0; round < ROUNDS; round += 1) {
        // Prepare: two owners, each with a key, each removing the other.
        const { owner: ada, actor } = await newAccount();
        const bob = await createUser(app.apiDeps, ada.accountId, { name: 'Bob', email: 'bob@example.com', role: 'owner' }, actor);
        const bobKey = await createApiKey(app.apiDeps, ada.accountId, { name: 'bob-owner-key', userId: bob.id }, actor);
        const bobHeaders = { 'x-api-key': ada.accountKey, 'x-api-secret-key': bobKey.secret };
        const remove = (kind: 'demote' | 'delete', headers: Record<string, string>, userId: string) =>
          kind === 'demote'
            ? callGateway(app.gateway, { method: 'PATCH', path: `/v1/users/${userId}`, headers, body: { role: 'viewer' } })
            : callGateway(app.gateway, { method: 'DELETE', path: `/v1/users/${userId}`, headers });

        // Both callers authorized before either write: the gateway's cached policies let both
        // requests reach their handlers, so the store alone decides between them.
        for (const headers of [ada.headers, bobHeaders]) {
          expect((await callGateway(app.gateway, { method: 'GET', path: '/v1/whoami', headers })).status).toBe(200);
        }

        // Act
        const responses = await Promise.all([remove(first, ada.headers, bob.id), remove(second, bobHeaders, ada.userId)]);

        // Assess
        const statuses = responses.map((response) => response.status);
        const won = statuses.filter((status) => status === 200 || status === 204);
        expect(won, `round ${round}: ${statuses.join(', ')}`).toHaveLength(1);
        // The loser is refused either as the last owner (409) or, when the winner's write landed
        // first, as an owner no longer (401 from the stale-principal check): never both written.
        const refused = responses.filter((response) => response.status === 409 || response.status === 401);
        expect(refused, `round ${round}: ${statuses.join(', ')}`).toHaveLength(1);
        expectProblem(refused[0]!);
        const items = await accountItems(ada.accountId);
        const owners = items.filter((item) => String(item.sk).startsWith('USER#') && item.role === 'owner');
        expect(owners, `round ${round}`).toHaveLength(1);
        expect(items.find((item) => item.sk === 'META')?.ownerCount).toBe(1);
        expect(invariantViolations(items, LIMITS)).toEqual([]);
      }
    });
  });
});
