import { describe, expect, it } from 'vitest';
import { AccountLimiter } from '#local/gateway/account-limiter.ts';
import { LocalUsagePlans } from '#local/storage/local-usage-plans.ts';
import { DEFAULT_PLAN, type Plan, USAGE_DAYS, periodStart } from '#shared/domain/plan.ts';

/** A clock the test moves by hand. */
function manualClock(start: string): { now: () => number; advance: (ms: number) => void } {
  let at = Date.parse(start);
  return {
    now: () => at,
    advance: (ms) => {
      at += ms;
    },
  };
}

const DAY_MS = 86_400_000;
const plan: Plan = { rateLimit: 1_000, burstLimit: 1_000, quota: null };

function takeMany(limiter: AccountLimiter, accountId: string, n: number): void {
  for (let index = 0; index < n; index += 1) limiter.take(accountId, plan);
}

describe('AccountLimiter: requests per UTC day', () => {
  it('counts each UTC day apart across midnight, oldest first, today last', () => {
    // Prepare
    const clock = manualClock('2026-12-01T23:59:59.000Z');
    const limiter = new AccountLimiter({ defaultPlan: DEFAULT_PLAN, now: clock.now });

    // Act
    takeMany(limiter, 'a', 3);
    clock.advance(1_000);
    takeMany(limiter, 'a', 2);
    const daily = limiter.daily('a');

    // Assess
    expect(daily).toHaveLength(USAGE_DAYS);
    expect(daily[0]?.date).toBe('2026-11-03');
    expect(daily.at(-2)).toEqual({ date: '2026-12-01', requests: 3 });
    expect(daily.at(-1)).toEqual({ date: '2026-12-02', requests: 2 });
    expect(daily.slice(0, -2).every((day) => day.requests === 0)).toBe(true);
  });

  it('counts only the requests it lets through, and each account apart', () => {
    // Prepare
    const clock = manualClock('2026-12-01T10:00:00Z');
    const limiter = new AccountLimiter({ defaultPlan: DEFAULT_PLAN, now: clock.now });
    const quota: Plan = { rateLimit: 1_000, burstLimit: 1_000, quota: { limit: 2, period: 'DAY' } };

    // Act
    const verdicts = [limiter.take('a', quota), limiter.take('a', quota), limiter.take('a', quota)];
    limiter.take('b', plan);

    // Assess
    expect(verdicts).toEqual(['allow', 'allow', 'quota-exceeded']);
    expect(limiter.daily('a').at(-1)).toEqual({ date: '2026-12-01', requests: 2 });
    expect(limiter.daily('b').at(-1)).toEqual({ date: '2026-12-01', requests: 1 });
    expect(limiter.daily('unseen').every((day) => day.requests === 0)).toBe(true);
  });

  it('keeps 30 days: a day drops out of the series, and out of memory, 30 days later', () => {
    // Prepare: one request a day for 40 days, day n taking n + 1 requests.
    const clock = manualClock('2026-11-01T12:00:00Z');
    const limiter = new AccountLimiter({ defaultPlan: DEFAULT_PLAN, now: clock.now });

    // Act
    for (let day = 0; day < 40; day += 1) {
      takeMany(limiter, 'a', day + 1);
      if (day < 39) clock.advance(DAY_MS);
    }
    const daily = limiter.daily('a');
    const lookedBack = limiter.daily('a', new Date('2026-11-20T00:00:00Z'));

    // Assess: 2026-11-01 + 39 days is 2026-12-10; the series starts 29 days before it.
    expect(daily[0]).toEqual({ date: '2026-11-11', requests: 11 });
    expect(daily.at(-1)).toEqual({ date: '2026-12-10', requests: 40 });
    expect(daily.map((day) => day.requests)).toEqual(Array.from({ length: USAGE_DAYS }, (_, index) => index + 11));
    // Days before the kept 30 are gone, not merely hidden.
    expect(lookedBack.filter((day) => day.date < '2026-11-11').every((day) => day.requests === 0)).toBe(true);
  });

  it('a day with no traffic in between reads 0, and a long silence leaves only zeros', () => {
    // Prepare
    const clock = manualClock('2026-12-01T10:00:00Z');
    const limiter = new AccountLimiter({ defaultPlan: DEFAULT_PLAN, now: clock.now });

    // Act
    takeMany(limiter, 'a', 4);
    clock.advance(2 * DAY_MS);
    takeMany(limiter, 'a', 1);
    const gap = limiter.daily('a').slice(-3);
    clock.advance(USAGE_DAYS * DAY_MS);
    const silent = limiter.daily('a');

    // Assess
    expect(gap).toEqual([
      { date: '2026-12-01', requests: 4 },
      { date: '2026-12-02', requests: 0 },
      { date: '2026-12-03', requests: 1 },
    ]);
    expect(silent.every((day) => day.requests === 0)).toBe(true);
  });
});

describe('LocalUsagePlans: the daily series', () => {
  it("answers the limiter's days beside the period's figures", async () => {
    // Prepare
    const clock = manualClock('2026-12-01T10:00:00Z');
    const limiter = new AccountLimiter({ defaultPlan: DEFAULT_PLAN, now: clock.now });
    const usagePlans = new LocalUsagePlans(limiter);
    takeMany(limiter, 'a', 5);
    const at = new Date(clock.now());

    // Act
    const usage = await usagePlans.usage('a', undefined, plan, periodStart('DAY', at), at);
    const unknown = await new LocalUsagePlans().usage('a', undefined, plan, periodStart('DAY', at), at);

    // Assess
    expect(usage.used).toBe(5);
    expect(usage.daily.at(-1)).toEqual({ date: '2026-12-01', requests: 5 });
    expect(unknown.daily).toHaveLength(USAGE_DAYS);
    expect(unknown.daily.every((day) => day.requests === 0)).toBe(true);
  });
});
