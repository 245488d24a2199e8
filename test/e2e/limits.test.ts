import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import type { Plan } from '#shared/domain/plan.ts';
import { USAGE_DAYS, periodStart, usageDays } from '#shared/domain/plan.ts';
import { createAccount } from '#shared/services/accounts.ts';
import { setPlan } from '#shared/services/plans.ts';
import { call, createUserWithKey, ownerKeys, startApi, type Credentials, type RunningApi } from './support.ts';

/**
 * Per-account plans through the local runtime, over real HTTP: the limiter runs after the
 * authorizer, on the plan the authorizer read with the keys, and answers with API Gateway's
 * own 429 bodies. The authorizer cache runs with the deployed TTL, so a plan change that did
 * not drop cached decisions would show here.
 */

let api: RunningApi;

beforeAll(async () => {
  api = await startApi({ authorizerTtlSeconds: 300 });
});

afterAll(async () => {
  await api.close();
});

/** A new account of the running API, on `plan`. */
async function accountOn(plan: Plan | null): Promise<{ accountId: string; keys: Credentials }> {
  const created = await createAccount(api.app.apiDeps, { name: 'Limited', ownerName: 'Lee', ownerEmail: 'lee@example.com' }, SYSTEM_ACTOR);
  await setPlan(api.app.apiDeps, created.account.id, plan, SYSTEM_ACTOR);
  return { accountId: created.account.id, keys: { accountKey: created.accountKey, userKey: created.userKey } };
}

/** Practically no refill during a test: only the burst counts. */
const burstOnly = (burstLimit: number): Plan => ({ rateLimit: 0.001, burstLimit, quota: null });

async function whoami(keys: Credentials): Promise<number> {
  return (await call(api.port, '/v1/whoami', { keys })).status;
}

describe('rate and burst', () => {
  it("throttles an account over its plan with API Gateway's 429, while another account is served", async () => {
    // Prepare
    const noisy = await accountOn(burstOnly(3));
    const quiet = ownerKeys(api);

    // Act
    const noisyStatuses: number[] = [];
    for (let i = 0; i < 3; i += 1) noisyStatuses.push(await whoami(noisy.keys));
    const throttled = await call(api.port, '/v1/whoami', { keys: noisy.keys });
    const quietStatuses: number[] = [];
    for (let i = 0; i < 5; i += 1) quietStatuses.push(await whoami(quiet));

    // Assess
    expect(noisyStatuses).toEqual([200, 200, 200]);
    expect(throttled.status).toBe(429);
    expect(throttled.json).toEqual({ message: 'Too Many Requests' });
    expect(throttled.headers['x-amzn-errortype']).toBe('TooManyRequestsException');
    expect(quietStatuses).toEqual([200, 200, 200, 200, 200]);
  });

  it('answers 401, never 429, to requests without valid keys, and they use none of the plan', async () => {
    // Prepare
    const limited = await accountOn(burstOnly(2));
    const wrongUserKey = { accountKey: limited.keys.accountKey, userKey: ownerKeys(api).userKey };

    // Act
    const refused: number[] = [];
    for (let i = 0; i < 4; i += 1) refused.push(await whoami(wrongUserKey));
    const keyless = await call(api.port, '/v1/whoami');
    const served = [await whoami(limited.keys), await whoami(limited.keys)];
    const over = await whoami(limited.keys);
    const refusedWhenOver = await whoami(wrongUserKey);

    // Assess
    expect(refused).toEqual([401, 401, 401, 401]);
    expect(keyless.status).toBe(401);
    expect(served).toEqual([200, 200]);
    expect(over).toBe(429);
    expect(refusedWhenOver).toBe(401);
  });

  it('applies a lower plan at once, although an Allow for the keys is cached', async () => {
    // Prepare
    const account = await accountOn(null);
    expect(await whoami(account.keys)).toBe(200);

    // Act
    await setPlan(api.app.apiDeps, account.accountId, burstOnly(1), SYSTEM_ACTOR);
    const statuses = [await whoami(account.keys), await whoami(account.keys)];

    // Assess
    expect(statuses).toEqual([200, 429]);
  });
});

describe('quota', () => {
  it("answers 429 Limit Exceeded once the period's quota is used", async () => {
    // Prepare
    const account = await accountOn({ rateLimit: 1000, burstLimit: 1000, quota: { limit: 3, period: 'DAY' } });

    // Act
    const statuses = [await whoami(account.keys), await whoami(account.keys), await whoami(account.keys)];
    const over = await call(api.port, '/v1/whoami', { keys: account.keys });

    // Assess
    expect(statuses).toEqual([200, 200, 200]);
    expect(over.status).toBe(429);
    expect(over.json).toEqual({ message: 'Limit Exceeded' });
    expect(over.headers['x-amzn-errortype']).toBe('LimitExceededException');
  });
});

describe('GET /v1/account/usage', () => {
  it('shows owners and viewers the plan, the requests used this period and what is left', async () => {
    // Prepare
    const created = await createAccount(api.app.apiDeps, { name: 'Metered', ownerName: 'Mo', ownerEmail: 'mo@example.com' }, SYSTEM_ACTOR);
    const owner = { accountKey: created.accountKey, userKey: created.userKey };
    const viewer = await createUserWithKey({ ...api, account: created }, 'viewer');
    const logsViewer = await createUserWithKey({ ...api, account: created }, 'logs-viewer');
    const plan: Plan = { rateLimit: 100, burstLimit: 200, quota: { limit: 50, period: 'MONTH' } };
    await setPlan(api.app.apiDeps, created.account.id, plan, SYSTEM_ACTOR);

    // Act
    await whoami(owner);
    await whoami(viewer.keys);
    const byOwner = await call(api.port, '/v1/account/usage', { keys: owner });
    const byViewer = await call(api.port, '/v1/account/usage', { keys: viewer.keys });
    const byLogsViewer = await call(api.port, '/v1/account/usage', { keys: logsViewer.keys });

    // Assess
    expect(byOwner.status).toBe(200);
    expect(byOwner.json).toEqual({
      plan: { rateLimit: 100, burstLimit: 200, quota: { limit: 50, period: 'MONTH' } },
      enforced: true,
      // Both whoami calls and this request itself, as API Gateway counts it.
      used: 3,
      remaining: 47,
      periodStart: periodStart('MONTH', new Date()).toISOString(),
      daily: expect.any(Array) as unknown,
    });
    // The last 30 days, today last: the three above and the setup's own requests (made on the
    // default plan: the day counts every request, the period only those since the plan's start).
    const { daily } = byOwner.json as { daily: { date: string; requests: number }[] };
    expect(daily.map((day) => day.date)).toEqual(usageDays(new Date()));
    expect(daily.slice(0, USAGE_DAYS - 1).every((day) => day.requests === 0)).toBe(true);
    expect(daily.at(-1)?.requests).toBeGreaterThanOrEqual(3);
    expect(byViewer.status).toBe(200);
    expect(byViewer.json).toMatchObject({ used: 4, remaining: 46 });
    expect(byLogsViewer.status).toBe(403);
    expect(byOwner.text).not.toContain('usageKey');
  });

  it('shows the default plan, without a quota, for an account without its own', async () => {
    // Act
    const usage = await call(api.port, '/v1/account/usage', { keys: ownerKeys(api) });

    // Assess
    expect(usage.status).toBe(200);
    expect(usage.json).toMatchObject({ plan: { quota: null }, remaining: null, periodStart: periodStart('DAY', new Date()).toISOString() });
    expect(usage.json.used).toBeGreaterThan(0);
  });
});

describe('behind the HTTP API front door, which has no usage plans', () => {
  let httpApi: RunningApi;

  beforeAll(async () => {
    httpApi = await startApi({ authorizerTtlSeconds: 300, flavor: 'http' });
  });

  afterAll(async () => {
    await httpApi.close();
  });

  it('serves an account past its burst and its quota: the plan is not enforced', async () => {
    // Prepare
    const created = await createAccount(httpApi.app.apiDeps, { name: 'Unmetered', ownerName: 'Una', ownerEmail: 'una@example.com' }, SYSTEM_ACTOR);
    await setPlan(httpApi.app.apiDeps, created.account.id, { rateLimit: 0.001, burstLimit: 2, quota: { limit: 3, period: 'DAY' } }, SYSTEM_ACTOR);
    const keys = { accountKey: created.accountKey, userKey: created.userKey };

    // Act
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) statuses.push((await call(httpApi.port, '/v1/whoami', { keys })).status);

    // Assess
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
  });
});
