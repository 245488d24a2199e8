import { APIGatewayClient, GetUsageCommand } from '@aws-sdk/client-api-gateway';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApiGatewayUsagePlans } from '#shared/adapters/apigw-usage-plans.ts';
import { type Plan, USAGE_DAYS, periodStart } from '#shared/domain/plan.ts';

const apiGateway = mockClient(APIGatewayClient);
const key = { id: 'key-1', value: 'v'.repeat(48), usagePlanId: 'gold-plan' };
const monthly: Plan = { rateLimit: 100, burstLimit: 200, quota: { limit: 1_000, period: 'MONTH' } };
const noQuota: Plan = { rateLimit: 100, burstLimit: 200, quota: null };

function usagePlans(): ApiGatewayUsagePlans {
  return new ApiGatewayUsagePlans(new APIGatewayClient({}), { restApiId: 'a1b2c3d4e5', stageName: 'prod' });
}

/** GetUsage's per-day pairs: `used` on each day, the quota's `remaining` counting down from `limit` across the period. */
function dayPairs(used: number[], limit: number): [number, number][] {
  let left = limit;
  return used.map((count) => {
    left -= count;
    return [count, left];
  });
}

describe('ApiGatewayUsagePlans: the daily series', () => {
  beforeEach(() => {
    apiGateway.reset();
  });

  it('reads the last 30 UTC days from GetUsage, oldest first, today last', async () => {
    // Prepare: 30 days to 2026-12-15, one request on the first, seven on the last.
    const perDay = Array.from({ length: USAGE_DAYS }, (_, index) => (index === 0 ? 1 : index === USAGE_DAYS - 1 ? 7 : 0));
    apiGateway.on(GetUsageCommand).resolves({ items: { 'key-1': dayPairs(perDay, 1_000_000) } });
    const at = new Date('2026-12-15T23:59:59Z');

    // Act
    const usage = await usagePlans().usage('Acct0000Acct0000', key, noQuota, periodStart('DAY', at), at);

    // Assess
    expect(apiGateway).toHaveReceivedCommandWith(GetUsageCommand, { usagePlanId: 'gold-plan', keyId: 'key-1', startDate: '2026-11-16', endDate: '2026-12-15' });
    expect(usage.daily).toHaveLength(USAGE_DAYS);
    expect(usage.daily[0]).toEqual({ date: '2026-11-16', requests: 1 });
    expect(usage.daily.at(-1)).toEqual({ date: '2026-12-15', requests: 7 });
    expect(usage.daily.slice(1, -1).every((day) => day.requests === 0)).toBe(true);
    expect(usage.used).toBe(7);
    expect(usage.remaining).toBeNull();
  });

  it("asks from the period's start when it lies before the 30 days, and counts the period from there only", async () => {
    // Prepare: on 2026-12-31 a month's quota started 30 days back, one day before the chart's first.
    const perDay = Array.from({ length: 31 }, (_, index) => index + 1);
    apiGateway.on(GetUsageCommand).resolves({ items: { 'key-1': dayPairs(perDay, 1_000) } });
    const at = new Date('2026-12-31T12:00:00Z');

    // Act
    const usage = await usagePlans().usage('Acct0000Acct0000', key, monthly, periodStart('MONTH', at), at);

    // Assess
    expect(apiGateway).toHaveReceivedCommandWith(GetUsageCommand, { startDate: '2026-12-01', endDate: '2026-12-31' });
    expect(usage.used).toBe((31 * 32) / 2);
    expect(usage.remaining).toBe(1_000 - (31 * 32) / 2);
    expect(usage.daily[0]).toEqual({ date: '2026-12-02', requests: 2 });
    expect(usage.daily.at(-1)).toEqual({ date: '2026-12-31', requests: 31 });
  });

  it('asks from 30 days back when the period started later, and counts the period from its start only', async () => {
    // Prepare: a month's quota from 2026-12-01; the chart reaches back into November.
    const perDay = Array.from({ length: USAGE_DAYS }, () => 3);
    apiGateway.on(GetUsageCommand).resolves({ items: { 'key-1': dayPairs(perDay, 1_000) } });
    const at = new Date('2026-12-10T08:00:00Z');

    // Act
    const usage = await usagePlans().usage('Acct0000Acct0000', key, monthly, periodStart('MONTH', at), at);

    // Assess
    expect(apiGateway).toHaveReceivedCommandWith(GetUsageCommand, { startDate: '2026-11-11', endDate: '2026-12-10' });
    expect(usage.used).toBe(10 * 3);
    expect(usage.daily.map((day) => day.requests)).toEqual(perDay);
  });

  it('follows the pages of GetUsage, the days going on where the last page stopped', async () => {
    // Prepare
    const at = new Date('2026-12-15T10:00:00Z');
    const pairs = dayPairs(Array.from({ length: USAGE_DAYS }, (_, index) => index), 1_000_000);
    apiGateway
      .on(GetUsageCommand)
      .resolvesOnce({ items: { 'key-1': pairs.slice(0, 20) }, position: 'page-2' })
      .resolvesOnce({ items: { 'key-1': pairs.slice(20) } });

    // Act
    const usage = await usagePlans().usage('Acct0000Acct0000', key, noQuota, periodStart('DAY', at), at);

    // Assess
    expect(apiGateway).toHaveReceivedCommandTimes(GetUsageCommand, 2);
    expect(apiGateway).toHaveReceivedNthCommandWith(GetUsageCommand, 2, { position: 'page-2' });
    expect(usage.daily.map((day) => day.requests)).toEqual(Array.from({ length: USAGE_DAYS }, (_, index) => index));
  });

  it('answers 30 days of zeros when the key has no usage yet (GetUsage leaves it out) or there is no key', async () => {
    // Prepare
    apiGateway.on(GetUsageCommand).resolves({ items: {} });
    const at = new Date('2026-12-15T10:00:00Z');

    // Act
    const unused = await usagePlans().usage('Acct0000Acct0000', key, monthly, periodStart('MONTH', at), at);
    const keyless = await usagePlans().usage('Acct0000Acct0000', undefined, monthly, periodStart('MONTH', at), at);

    // Assess
    for (const usage of [unused, keyless]) {
      expect(usage.used).toBe(0);
      expect(usage.remaining).toBe(1_000);
      expect(usage.daily).toHaveLength(USAGE_DAYS);
      expect(usage.daily.every((day) => day.requests === 0)).toBe(true);
      expect(usage.daily.at(-1)?.date).toBe('2026-12-15');
    }
  });
});
