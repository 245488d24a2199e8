import { generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiHandler } from '#functions/operations/all-groups.ts';
import { FAULT_DETAIL } from '#functions/commons/problems.ts';
import { type Actor, SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import type { ApiDeps } from '#shared/ports/deps.ts';
import { NotFoundError } from '#shared/domain/errors.ts';
import { newId } from '#shared/domain/ids.ts';
import { ROUTES, type Route } from '#shared/http/routes.ts';
import { setApiEnabled } from '#shared/services/accounts.ts';
import { createApiKey } from '#shared/services/api-keys.ts';
import { rollApiKey } from '#shared/services/key-rolls.ts';
import { addCidrRule } from '#shared/services/cidr-allow-list.ts';
import { createUser } from '#shared/services/users.ts';
import {
  type ResilienceTable,
  type SeededOwner,
  apiDepsOn,
  createResilienceTable,
  expectProblem,
  fromProxyResult,
  lambdaContext,
  newLocalSecrets,
  proxyEvent,
  seedOwner,
} from '#test/support/resilience-app.ts';
import { FakeAuthorizerCache } from '#test/support/fakes/authorizer-cache.ts';
import { type KeyEndpoint, serveGitHubKeys } from '#test/support/fakes/github-keys-endpoint.ts';
import { GITHUB_KEYS_URL_ENV } from '#shared/adapters/github-keys.ts';
import { FaultInjector, type FaultMode, type RecordedCall } from '#test/support/resilience-faults.ts';
import { changeShape, invariantViolations, scanTable, snapshotTable } from '#test/support/resilience-table.ts';

/**
 * Every store call a mutating handler makes, failed once: the caller gets a 500 problem
 * document that tells nothing of the failure, and the table holds the whole change or none of
 * it (compared item by item with the change a clean run makes on a like fixture).
 *
 * Two ways to fail: the call never reaches DynamoDB (`error`), or DynamoDB does the work and
 * the answer is lost on the way back (`answer-lost`), which is the case where a write looks
 * failed to the handler but did happen.
 */

const secrets = newLocalSecrets();
const MODES: readonly FaultMode[] = ['error', 'answer-lost'];

interface Scenario {
  readonly pathParameters?: Record<string, string>;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** GitHub's alert signing key, published by a local key endpoint for the alert route's scenario. */
const GITHUB = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const GITHUB_KEY_ID = 'github-resilience-key';
let githubKeys: KeyEndpoint;
beforeAll(async () => {
  githubKeys = await serveGitHubKeys({ [GITHUB_KEY_ID]: GITHUB.publicKey });
  vi.stubEnv(GITHUB_KEYS_URL_ENV, githubKeys.url);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await githubKeys.close();
});

type Setup = (deps: ApiDeps, owner: SeededOwner, actor: Actor) => Promise<Scenario>;

async function userWithKeys(deps: ApiDeps, owner: SeededOwner, actor: Actor, role: 'owner' | 'viewer', keys: number) {
  const user = await createUser(deps, owner.accountId, { name: `${role} with keys`, email: `${role}@example.com`, role }, actor);
  const keyIds: string[] = [];
  for (let n = 0; n < keys; n += 1) {
    const created = await createApiKey(deps, owner.accountId, { name: `${role}-key-number-${n}`, userId: user.id }, actor);
    keyIds.push(created.key.id);
  }
  return { user, keyIds };
}

async function keyWithRules(deps: ApiDeps, owner: SeededOwner, actor: Actor, rules: readonly string[]) {
  const { keyIds } = await userWithKeys(deps, owner, actor, 'viewer', 1);
  const keyId = keyIds[0]!;
  const ruleIds: string[] = [];
  for (const cidr of rules) ruleIds.push((await addCidrRule(deps, owner.accountId, keyId, cidr, actor)).id);
  return { keyId, ruleIds };
}

/** What each mutating route acts on; the route table decides which routes must be here. */
const SCENARIOS: Readonly<Record<string, Setup>> = {
  // Turning the API off: the account item and its audit event change together.
  updateAccount: () => Promise.resolve({ body: { apiEnabled: false } }),
  createUser: () => Promise.resolve({ body: { name: 'Second Owner', email: 'second@example.com', role: 'owner' } }),
  updateUser: async (deps, owner, actor) => {
    // An owner with keys demoted: the user, each key's role copy and the owner count change together.
    const { user } = await userWithKeys(deps, owner, actor, 'owner', 2);
    return { pathParameters: { userId: user.id }, body: { role: 'viewer' } };
  },
  deleteUser: async (deps, owner, actor) => {
    const { user } = await userWithKeys(deps, owner, actor, 'owner', 2);
    return { pathParameters: { userId: user.id } };
  },
  createApiKey: async (deps, owner, actor) => {
    const { user } = await userWithKeys(deps, owner, actor, 'viewer', 1);
    return { body: { name: 'brand-new-key', userId: user.id } };
  },
  deleteApiKey: async (deps, owner, actor) => {
    const { keyIds } = await userWithKeys(deps, owner, actor, 'viewer', 2);
    return { pathParameters: { keyId: keyIds[0]! } };
  },
  addCidrRule: async (deps, owner, actor) => {
    const { keyId } = await keyWithRules(deps, owner, actor, ['192.0.2.0/24']);
    return { pathParameters: { keyId }, body: { cidr: '10.0.0.0/8' } };
  },
  updateCidrRule: async (deps, owner, actor) => {
    const { keyId, ruleIds } = await keyWithRules(deps, owner, actor, ['192.0.2.0/24', '198.51.100.0/24']);
    return { pathParameters: { keyId, ruleId: ruleIds[0]! }, body: { cidr: '203.0.113.0/24' } };
  },
  deleteCidrRule: async (deps, owner, actor) => {
    const { keyId, ruleIds } = await keyWithRules(deps, owner, actor, ['192.0.2.0/24', '198.51.100.0/24']);
    return { pathParameters: { keyId, ruleId: ruleIds[1]! } };
  },
  rollApiKey: async (deps, owner, actor) => {
    // A key already in a grace period: the new secret, the ended older one and the new grace change together.
    const { keyIds } = await userWithKeys(deps, owner, actor, 'viewer', 1);
    await rollApiKey(deps, owner.accountId, keyIds[0]!, 3600, actor);
    return { pathParameters: { keyId: keyIds[0]! }, body: { gracePeriodSeconds: 600 } };
  },
  rollAccountKey: () => Promise.resolve({ body: { gracePeriodSeconds: 3600 } }),
  updateApiKey: async (deps, owner, actor) => {
    // A restricted key narrowed: its list, its revision and the audit event with both lists change together.
    const { user } = await userWithKeys(deps, owner, actor, 'viewer', 0);
    const restricted = await createApiKey(deps, owner.accountId, { name: 'restricted-key', userId: user.id, permissions: ['logs:read', 'users:read'] }, actor);
    return { pathParameters: { keyId: restricted.key.id }, body: { permissions: ['logs:read'] } };
  },
  reportLeakedKeys: async (deps, owner, actor) => {
    // A valid user key among strings that are no key: the key is deleted, the rest costs nothing.
    const { user } = await userWithKeys(deps, owner, actor, 'viewer', 0);
    const leaked = await createApiKey(deps, owner.accountId, { name: 'leaked-key', userId: user.id }, actor);
    return { body: { keys: ['not-a-key', leaked.secret] } };
  },
  reportGitHubAlerts: async (deps, owner, actor) => {
    // The same leak, as GitHub reports it: signed over the body exactly as it is sent.
    const { user } = await userWithKeys(deps, owner, actor, 'viewer', 0);
    const leaked = await createApiKey(deps, owner.accountId, { name: 'leaked-key', userId: user.id }, actor);
    const body = [{ token: leaked.secret, type: 'latchkey_user_key', url: 'https://github.com/acme/app/blob/main/.env', source: 'content' }];
    const signature = sign('sha256', Buffer.from(JSON.stringify(body), 'utf8'), GITHUB.privateKey).toString('base64');
    return { body, headers: { 'github-public-key-identifier': GITHUB_KEY_ID, 'github-public-key-signature': signature } };
  },
};

const MUTATING_ROUTES: readonly Route[] = ROUTES.filter((route) => route.mutates);
/** Mutations that can take access away (every one but adding a user or a key). */
const NARROWING = new Set(MUTATING_ROUTES.map((route) => route.operationId).filter((id) => id !== 'createUser' && id !== 'createApiKey'));

/**
 * Leak reports that act on a live key leave a leak record in the same transaction (GitHub's
 * repeated alerts are labelled by it): with the deletion and its event, or not at all.
 */
const LEAVES_LEAK_RECORD = new Set(['reportLeakedKeys', 'reportGitHubAlerts']);

/** The write that records when a key was last used: best effort, after the response is decided. */
function isKeyUseRecord(call: RecordedCall): boolean {
  return call.name === 'UpdateItemCommand' && JSON.stringify(call.input).includes('lastUsedAt');
}

describe('mutating handlers under DynamoDB faults', () => {
  it('has a scenario for every mutating route of the route table', () => {
    expect(MUTATING_ROUTES.map((route) => route.operationId).sort()).toEqual(Object.keys(SCENARIOS).sort());
  });

  /** A new account with the route's fixture, then the request through a fresh handler on the faulty client. */
  async function run(
    { clean, faulty, injector }: { clean: ResilienceTable; faulty: ResilienceTable; injector: FaultInjector },
    route: Route,
    fault: { readonly call: number; readonly mode: FaultMode } | undefined,
  ) {
    const setupDeps = apiDepsOn(clean, secrets);
    const owner = await seedOwner(setupDeps, setupDeps.store);
    const actor: Actor = { userId: owner.userId, keyId: owner.keyId, sourceIp: '198.51.100.10' };
    const scenario = await SCENARIOS[route.operationId]!(setupDeps, owner, actor);
    const before = await snapshotTable(clean.client, clean.tableName);
    const authorizerCache = new FakeAuthorizerCache();
    const handler = createApiHandler(route.group, apiDepsOn(faulty, secrets, { authorizerCache }));

    injector.reset();
    if (fault !== undefined) injector.arm(fault.call, fault.mode);
    const result = await handler(proxyEvent(route, owner.principal, scenario), lambdaContext());
    const calls = [...injector.calls];
    injector.reset();

    const items = await scanTable(clean.client, clean.tableName);
    const after = new Map(items.map((item) => [`${String(item.pk)}\u0000${String(item.sk)}`, item]));
    return { response: fromProxyResult(result), calls, shape: changeShape(before, after), items, flushes: authorizerCache.flushes };
  }

  describe.each(MUTATING_ROUTES)('$operationId ($method $path)', (route) => {
    it('answers a 500 problem document and leaves the whole change or none of it, whichever call fails', { timeout: 60_000 }, async () => {
      // Prepare: a table of its own (small snapshots), and a clean run to tell which calls the
      // handler makes and what its change looks like.
      const injector = new FaultInjector();
      const table = { ...(await createResilienceTable(injector)), injector };
      const { clean } = table;
      const cleanRun = await run(table, route, undefined);
      expect(cleanRun.response.status).toBe(route.status);
      expect(cleanRun.shape.some((line) => line.startsWith('added EVENT:'))).toBe(true);
      expect(cleanRun.shape.includes('added LEAKED')).toBe(LEAVES_LEAK_RECORD.has(route.operationId));
      expect(cleanRun.calls.length).toBeGreaterThan(0);
      const outcomes: string[] = [];

      for (const [position, call] of cleanRun.calls.entries()) {
        for (const mode of MODES) {
          // Act
          const faulted = await run(table, route, { call: position + 1, mode });

          // Assess
          const label = `${call.name} (call ${position + 1}) ${mode}`;
          expect(faulted.calls[position]?.name, label).toBe(call.name);
          expect(invariantViolations(faulted.items), label).toEqual([]);
          if (isKeyUseRecord(call)) {
            // Recording lastUsedAt is best effort: its failure fails nothing.
            expect(faulted.response.status, label).toBe(route.status);
            expect(faulted.shape, label).toEqual(cleanRun.shape);
            outcomes.push(`${label}: ${faulted.response.status}, whole change`);
            continue;
          }
          expect(faulted.response.status, label).toBe(500);
          const problem = expectProblem(faulted.response);
          expect(problem.type, label).toBe('urn:latchkey:problem:internal');
          expect(problem.detail, label).toBe(FAULT_DETAIL);
          for (const internal of [injector.marker, clean.tableName, call.name, 'stack']) {
            expect(faulted.response.body, label).not.toContain(internal);
          }
          const whole = faulted.shape.length > 0;
          if (whole) expect(faulted.shape, label).toEqual(cleanRun.shape);
          else expect(faulted.shape, label).toEqual([]);
          // A committed change that narrows access must reach the authorizer cache even when
          // its answer was lost: otherwise a cached Allow outlives a deleted key or rule.
          if (whole && NARROWING.has(route.operationId)) expect(faulted.flushes, `${label}: cache flushed`).toBeGreaterThan(0);
          outcomes.push(`${label}: 500, ${whole ? 'whole change' : 'no change'}`);
        }
      }

      // Every write that never reached DynamoDB changed nothing; one whose answer was lost changed everything.
      const commit = cleanRun.calls.findIndex((call) => call.name === 'TransactWriteItemsCommand') + 1;
      expect(commit).toBeGreaterThan(0);
      expect(outcomes).toContain(`TransactWriteItemsCommand (call ${commit}) error: 500, no change`);
      expect(outcomes).toContain(`TransactWriteItemsCommand (call ${commit}) answer-lost: 500, whole change`);
    });
  });
});

describe("GitHub's retry of an alert whose answer was lost", () => {
  it('is answered true_positive by another container: the deletion landed with its leak record, and the retry writes nothing', { timeout: 60_000 }, async () => {
    // Prepare: the first container's commit lands but its answer is lost (GitHub sees a 500 and sends the alert again).
    const injector = new FaultInjector();
    const { clean, faulty } = await createResilienceTable(injector);
    const route = ROUTES.find((r) => r.operationId === 'reportGitHubAlerts')!;
    const setupDeps = apiDepsOn(clean, secrets);
    const owner = await seedOwner(setupDeps, setupDeps.store);
    const actor: Actor = { userId: owner.userId, keyId: owner.keyId, sourceIp: '198.51.100.10' };
    const scenario = await SCENARIOS.reportGitHubAlerts!(setupDeps, owner, actor);
    const first = createApiHandler(route.group, apiDepsOn(faulty, secrets));
    injector.reset();
    injector.arm('TransactWriteItemsCommand', 'answer-lost');
    const lost = fromProxyResult(await first(proxyEvent(route, owner.principal, scenario), lambdaContext()));
    const before = await snapshotTable(clean.client, clean.tableName);

    // Act: the retry lands on another container (a handler of its own), with no fault.
    const retry = createApiHandler(route.group, apiDepsOn(clean, secrets));
    const answered = fromProxyResult(await retry(proxyEvent(route, owner.principal, scenario), lambdaContext()));

    // Assess
    expect(lost.status).toBe(500);
    expect(answered.status).toBe(200);
    expect((JSON.parse(answered.body) as { label: string }[]).map((feedback) => feedback.label)).toEqual(['true_positive']);
    const items = await scanTable(clean.client, clean.tableName);
    expect(changeShape(before, new Map(items.map((item) => [`${String(item.pk)}\u0000${String(item.sk)}`, item])))).toEqual([]);
  });
});

describe('turning an account\'s API off under DynamoDB faults', () => {
  it('flushes the authorizer cache whenever the switch landed, even when its answer was lost', { timeout: 60_000 }, async () => {
    // Prepare
    const injector = new FaultInjector();
    const { clean, faulty } = await createResilienceTable(injector);
    const disable = async (fault: { readonly call: number; readonly mode: FaultMode } | undefined) => {
      const setupDeps = apiDepsOn(clean, secrets);
      const owner = await seedOwner(setupDeps, setupDeps.store);
      const authorizerCache = new FakeAuthorizerCache();
      const deps = apiDepsOn(faulty, secrets, { authorizerCache });
      injector.reset();
      if (fault !== undefined) injector.arm(fault.call, fault.mode);
      const outcome = await setApiEnabled(deps, owner.accountId, false, SYSTEM_ACTOR).then(
        () => 'done',
        (error: unknown) => (error instanceof Error ? error.name : 'not an error'),
      );
      const calls = injector.calls.map((call) => call.name);
      injector.reset();
      const account = await setupDeps.store.getAccount(owner.accountId);
      return { outcome, calls, disabled: account?.apiEnabled === false, flushes: authorizerCache.flushes };
    };
    const cleanRun = await disable(undefined);
    expect(cleanRun).toMatchObject({ outcome: 'done', disabled: true, flushes: 1 });
    const outcomes: string[] = [];

    for (const [position, name] of cleanRun.calls.entries()) {
      for (const mode of MODES) {
        // Act
        const faulted = await disable({ call: position + 1, mode });

        // Assess: a cached Allow must not outlive an API that was switched off.
        const label = `${name} (call ${position + 1}) ${mode}`;
        expect(faulted.outcome, label).not.toBe('done');
        if (faulted.disabled) expect(faulted.flushes, `${label}: cache flushed`).toBeGreaterThan(0);
        outcomes.push(`${label}: ${faulted.disabled ? 'switched off' : 'unchanged'}`);
      }
    }
    // The commit's answer lost is the case that matters: the switch landed, the caller saw a fault.
    expect(outcomes).toContain('TransactWriteItemsCommand (call 1) answer-lost: switched off');
  });

  it('flushes nothing when the account does not exist', async () => {
    const { clean } = await createResilienceTable();
    const authorizerCache = new FakeAuthorizerCache();

    await expect(setApiEnabled(apiDepsOn(clean, secrets, { authorizerCache }), newId(), false, SYSTEM_ACTOR)).rejects.toEqual(
      new NotFoundError('account'),
    );
    expect(authorizerCache.flushes).toBe(0);
  });
});
