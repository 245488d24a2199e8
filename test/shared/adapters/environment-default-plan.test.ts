import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENV, defaultPlanFromEnv } from '#shared/adapters/environment.ts';
import { DEFAULT_PLAN } from '#shared/domain/plan.ts';

const NAMES = [ENV.rateLimit, ENV.burstLimit, ENV.quotaLimit, ENV.quotaPeriod];

describe('defaultPlanFromEnv', () => {
  let saved: Record<string, string | undefined>;

  beforeEach(() => {
    saved = Object.fromEntries(NAMES.map((name) => [name, process.env[name]]));
    for (const name of NAMES) Reflect.deleteProperty(process.env, name);
  });
  afterEach(() => {
    for (const name of NAMES) {
      const value = saved[name];
      if (value === undefined) Reflect.deleteProperty(process.env, name);
      else process.env[name] = value;
    }
  });

  it('is the documented default when nothing is set', () => {
    expect(defaultPlanFromEnv()).toEqual(DEFAULT_PLAN);
    expect(DEFAULT_PLAN).toEqual({ rateLimit: 50, burstLimit: 100, quota: null });
  });

  it('reads rate, burst and a quota with its period', () => {
    process.env[ENV.rateLimit] = '2.5';
    process.env[ENV.burstLimit] = '5';
    process.env[ENV.quotaLimit] = '1000';
    process.env[ENV.quotaPeriod] = 'WEEK';
    expect(defaultPlanFromEnv()).toEqual({ rateLimit: 2.5, burstLimit: 5, quota: { limit: 1000, period: 'WEEK' } });
  });

  it.each([
    [ENV.rateLimit, '0', /LATCHKEY_RATE_LIMIT must be a number of requests per second above 0/],
    [ENV.rateLimit, 'fast', /LATCHKEY_RATE_LIMIT/],
    [ENV.burstLimit, '1.5', /LATCHKEY_BURST_LIMIT must be a whole number/],
    [ENV.quotaLimit, '100', /LATCHKEY_QUOTA_LIMIT and LATCHKEY_QUOTA_PERIOD are set together/],
    [ENV.quotaPeriod, 'DAY', /set together/],
  ])('refuses %s=%s with a message naming it', (name, value, message) => {
    process.env[name] = value;
    expect(() => defaultPlanFromEnv()).toThrow(message);
  });

  it('refuses a period it does not know', () => {
    process.env[ENV.quotaLimit] = '100';
    process.env[ENV.quotaPeriod] = 'YEAR';
    expect(() => defaultPlanFromEnv()).toThrow(/LATCHKEY_QUOTA_PERIOD must be one of DAY, WEEK, MONTH/);
  });
});
