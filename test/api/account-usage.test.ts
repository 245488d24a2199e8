import { beforeAll, describe, expect, it } from 'vitest';
import { AccountLimiter } from '#local/gateway/account-limiter.ts';
import { LocalUsagePlans } from '#local/storage/local-usage-plans.ts';
import { UnenforcedUsagePlans } from '#shared/adapters/unenforced-usage-plans.ts';
import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import { setPlan } from '#shared/services/plans.ts';
import { DEFAULT_PLAN, USAGE_DAYS } from '#shared/domain/plan.ts';
import { type ApiTestBed, createApiTestBed } from '#test/support/api-events.ts';

interface UsageBody {
  enforced: boolean;
  used: number;
  remaining: number | null;
  periodStart: string;
  daily: { date: string; requests: number }[];
}

/** The API's clock and the limiter's, one clock the test moves by hand. */
let at = Date.parse('2026-12-01T23:59:00Z');
const limiter = new AccountLimiter({ defaultPlan: DEFAULT_PLAN, now: () => at });
let bed: ApiTestBed;

beforeAll(async () => {
  bed = await createApiTestBed({ now: () => new Date(at), usagePlans: new LocalUsagePlans(limiter) });
});

describe('GET /v1/account/usage: the daily series', () => {
  it('answers the last 30 UTC days, oldest first, today last, zeros where nothing was counted', async () => {
    // Prepare: 3 requests late on 2026-12-01, 2 just after midnight.
    for (let index = 0; index < 3; index += 1) limiter.take(bed.owner.accountId, DEFAULT_PLAN);
    at += 2 * 60_000;
    for (let index = 0; index < 2; index += 1) limiter.take(bed.owner.accountId, DEFAULT_PLAN);

    // Act
    const response = await bed.call('getAccountUsage', bed.owner);

    // Assess (the test bed holds every answer to openapi.json)
    expect(response.status).toBe(200);
    const usage = response.body as UsageBody;
    expect(usage.daily).toHaveLength(USAGE_DAYS);
    expect(usage.daily[0]?.date).toBe('2026-11-03');
    expect(usage.daily.slice(-2)).toEqual([
      { date: '2026-12-01', requests: 3 },
      { date: '2026-12-02', requests: 2 },
    ]);
    expect(usage.daily.slice(0, -2).every((day) => day.requests === 0)).toBe(true);
    // Without a quota the period is the UTC day: today's 2 only.
    expect(usage).toMatchObject({ enforced: true, used: 2, remaining: null, periodStart: '2026-12-02T00:00:00.000Z' });
  });

  it('shows a viewer the same series, and refuses a logs-viewer', async () => {
    // Prepare
    const viewer = await bed.addCaller('viewer');
    const logsViewer = await bed.addCaller('logs-viewer');

    // Act
    const owners = await bed.call('getAccountUsage', bed.owner);
    const viewers = await bed.call('getAccountUsage', viewer.principal);
    const refused = await bed.call('getAccountUsage', logsViewer.principal);

    // Assess
    expect(viewers.status).toBe(200);
    expect((viewers.body as UsageBody).daily).toEqual((owners.body as UsageBody).daily);
    expect(refused.status).toBe(403);
  });

  it("never shows another account's days", async () => {
    // Prepare
    const other = await bed.otherAccount();
    const before = (await bed.call('getAccountUsage', bed.owner)).body as UsageBody;

    // Act
    limiter.take(other.account.id, DEFAULT_PLAN);
    const after = (await bed.call('getAccountUsage', bed.owner)).body as UsageBody;

    // Assess
    expect(after.daily).toEqual(before.daily);
  });
});

describe('GET /v1/account/usage on the HTTP API flavor', () => {
  it('says the plan is not enforced and shows no count, since HTTP API has no usage plans', async () => {
    // Prepare
    const httpBed = await createApiTestBed({ now: () => new Date('2026-12-02T10:00:00Z'), usagePlans: new UnenforcedUsagePlans() });
    const plan = { rateLimit: 5, burstLimit: 10, quota: { limit: 1000, period: 'MONTH' as const } };
    await setPlan(httpBed.deps, httpBed.owner.accountId, plan, SYSTEM_ACTOR);

    // Act
    const response = await httpBed.call('getAccountUsage', httpBed.owner);

    // Assess (the answer conforms to openapi.json, as every answer of the test bed)
    expect(response.status).toBe(200);
    const usage = response.body as UsageBody & { plan: unknown };
    expect(usage).toMatchObject({ plan, enforced: false, used: 0, remaining: null, periodStart: '2026-12-01T00:00:00.000Z' });
    expect(usage.daily).toHaveLength(USAGE_DAYS);
    expect(usage.daily.every((day) => day.requests === 0)).toBe(true);
  });
});
