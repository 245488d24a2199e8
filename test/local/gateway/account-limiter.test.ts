import { describe, expect, it } from 'vitest';
import { AccountLimiter, MethodThrottle } from '#local/gateway/account-limiter.ts';
import { DEFAULT_PLAN, type Plan, nextPeriodStart, periodStart } from '#shared/domain/plan.ts';
import { planContext } from '#shared/authorization/plan-context.ts';

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

const takeMany = (limiter: AccountLimiter, accountId: string, plan: Plan, n: number): string[] =>
  Array.from({ length: n }, () => limiter.take(accountId, plan));

describe('AccountLimiter: rate and burst (token bucket)', () => {
  const plan: Plan = { rateLimit: 2, burstLimit: 3, quota: null };

  it('lets a burst through, then refuses until tokens come back at the rate', () => {
    // Prepare
    const clock = manualClock('2026-12-01T10:00:00Z');
    const limiter = new AccountLimiter({ defaultPlan: DEFAULT_PLAN, now: clock.now });

    // Act
    const burst = takeMany(limiter, 'a', plan, 4);
    clock.advance(499);
    const tooSoon = limiter.take('a', plan);
    clock.advance(1);
    const oneBack = takeMany(limiter, 'a', plan, 2);

    // Assess
    expect(burst).toEqual(['allow', 'allow', 'allow', 'throttled']);
    expect(tooSoon).toBe('throttled');
    expect(oneBack).toEqual(['allow', 'throttled']);
  });

  it('never holds more than the burst, however long an account was idle', () => {
    // Prepare
    const clock = manualClock('2026-12-01T10:00:00Z');
    const limiter = new AccountLimiter({ defaultPlan: DEFAULT_PLAN, now: clock.now });
    limiter.take('a', plan);
    clock.advance(3_600_000);

    // Act
    const after = takeMany(limiter, 'a', plan, 4);

    // Assess
    expect(after).toEqual(['allow', 'allow', 'allow', 'throttled']);
  });

  it("keeps each account's bucket apart: one account's flood never throttles another", () => {
    // Prepare
    const clock = manualClock('2026-12-01T10:00:00Z');
    const limiter = new AccountLimiter({ defaultPlan: DEFAULT_PLAN, now: clock.now });

    // Act
    const flood = takeMany(limiter, 'noisy', plan, 50);
    const quiet = takeMany(limiter, 'quiet', plan, 3);

    // Assess
    expect(flood.filter((v) => v === 'allow')).toHaveLength(3);
    expect(quiet).toEqual(['allow', 'allow', 'allow']);
  });
});

describe('AccountLimiter: quota per period', () => {
  it('answers quota-exceeded past the limit until the next period, and does not count refusals', () => {
    // Prepare
    const clock = manualClock('2026-12-01T23:59:00Z');
    const limiter = new AccountLimiter({ defaultPlan: DEFAULT_PLAN, now: clock.now });
    const plan: Plan = { rateLimit: 1000, burstLimit: 1000, quota: { limit: 3, period: 'DAY' } };

    // Act
    const today = takeMany(limiter, 'a', plan, 5);
    const usedToday = limiter.usage('a', plan, periodStart('DAY', new Date(clock.now())));
    clock.advance(60_000);
    const tomorrow = takeMany(limiter, 'a', plan, 1);
    const usedTomorrow = limiter.usage('a', plan, periodStart('DAY', new Date(clock.now())));

    // Assess
    expect(today).toEqual(['allow', 'allow', 'allow', 'quota-exceeded', 'quota-exceeded']);
    expect(usedToday).toEqual({ used: 3, remaining: 0 });
    expect(tomorrow).toEqual(['allow']);
    expect(usedTomorrow).toEqual({ used: 1, remaining: 2 });
  });

  it('does not count throttled requests against the quota', () => {
    // Prepare
    const clock = manualClock('2026-12-01T10:00:00Z');
    const limiter = new AccountLimiter({ defaultPlan: DEFAULT_PLAN, now: clock.now });
    const plan: Plan = { rateLimit: 1, burstLimit: 1, quota: { limit: 100, period: 'MONTH' } };

    // Act
    takeMany(limiter, 'a', plan, 10);

    // Assess
    expect(limiter.usage('a', plan, periodStart('MONTH', new Date(clock.now())))).toEqual({ used: 1, remaining: 99 });
  });

  it('counts a day without a quota, and shows no remaining', () => {
    // Prepare
    const clock = manualClock('2026-12-01T10:00:00Z');
    const limiter = new AccountLimiter({ defaultPlan: DEFAULT_PLAN, now: clock.now });
    const plan: Plan = { rateLimit: 100, burstLimit: 100, quota: null };

    // Act
    takeMany(limiter, 'a', plan, 7);

    // Assess
    expect(limiter.usage('a', plan, periodStart('DAY', new Date(clock.now())))).toEqual({ used: 7, remaining: null });
    expect(limiter.usage('unseen', plan, periodStart('DAY', new Date(clock.now())))).toEqual({ used: 0, remaining: null });
  });
});

describe('AccountLimiter: the plan from the authorizer context', () => {
  it("applies the account's own plan from the context, else the default plan", () => {
    // Prepare
    const clock = manualClock('2026-12-01T10:00:00Z');
    const limiter = new AccountLimiter({ defaultPlan: { rateLimit: 1, burstLimit: 2, quota: null }, now: clock.now });
    const own = { accountId: 'own', ...stringValues(planContext({ rateLimit: 1, burstLimit: 5, quota: null })) };

    // Act
    const onDefault = Array.from({ length: 3 }, () => limiter.admit({ accountId: 'default' }));
    const onOwn = Array.from({ length: 6 }, () => limiter.admit(own));

    // Assess
    expect(onDefault).toEqual(['allow', 'allow', 'throttled']);
    expect(onOwn).toEqual(['allow', 'allow', 'allow', 'allow', 'allow', 'throttled']);
  });
});

describe('quota periods', () => {
  it('start at midnight UTC, on Sunday and on the first of the month', () => {
    const at = new Date('2026-12-02T15:30:00Z'); // a Wednesday
    expect(periodStart('DAY', at).toISOString()).toBe('2026-12-02T00:00:00.000Z');
    expect(periodStart('WEEK', at).toISOString()).toBe('2026-11-29T00:00:00.000Z');
    expect(periodStart('MONTH', at).toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(nextPeriodStart('WEEK', at).toISOString()).toBe('2026-12-06T00:00:00.000Z');
    expect(nextPeriodStart('MONTH', new Date('2026-12-31T23:59:59Z')).toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });
});

/** API Gateway hands context values on as strings. */
function stringValues(context: Record<string, string | number>): Record<string, string> {
  return Object.fromEntries(Object.entries(context).map(([name, value]) => [name, String(value)]));
}

describe('MethodThrottle: the throttle of the routes that need no keys', () => {
  it('keeps one bucket per method, shared by every caller, that never runs out for good', () => {
    // Prepare
    const clock = manualClock('2026-12-01T10:00:00Z');
    const throttle = new MethodThrottle({ rateLimit: 5, burstLimit: 10 }, { now: clock.now });

    // Act
    const burst = Array.from({ length: 11 }, () => throttle.admit('POST', '/v1/leaked-keys'));
    const otherMethod = throttle.admit('POST', '/v1/other-public-route');
    clock.advance(200);
    const refilled = [throttle.admit('POST', '/v1/leaked-keys'), throttle.admit('POST', '/v1/leaked-keys')];
    // A whole day later: no quota behind the bucket, only the burst.
    clock.advance(86_400_000);
    const nextDay = Array.from({ length: 11 }, () => throttle.admit('POST', '/v1/leaked-keys'));

    // Assess
    expect(burst).toEqual([...Array.from({ length: 10 }, () => 'allow'), 'throttled']);
    expect(otherMethod).toBe('allow');
    expect(refilled).toEqual(['allow', 'throttled']);
    expect(nextDay).toEqual([...Array.from({ length: 10 }, () => 'allow'), 'throttled']);
  });
});
