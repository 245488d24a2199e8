import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, configFromContext } from '#infra/config.ts';
import { MAX_KEYS_PER_USER, MAX_RULES_PER_KEY } from '#shared/adapters/environment.ts';

const context = (values: Record<string, unknown>) => ({ tryGetContext: (key: string): unknown => values[key] });

describe('configFromContext', () => {
  it('uses the documented defaults when nothing is set', () => {
    expect(configFromContext(context({}))).toEqual({
      flavor: 'rest',
      stage: 'prod',
      authorizerCacheTtl: 300,
      maxKeysPerUser: 10,
      maxRulesPerKey: 20,
      auditRetentionDays: 365,
      logRetentionDays: 30,
      throttleRate: 50,
      throttleBurst: 100,
      destroyOnRemoval: false,
      plan: { rateLimit: 50, burstLimit: 100, quota: null },
      waf: true,
      wafRateLimit: 2000,
    });
    expect(DEFAULT_CONFIG.destroyOnRemoval).toBe(false);
  });

  it('reads strings from the command line (-c name=value) and values from cdk.json alike', () => {
    const fromCli = configFromContext(
      context({ stage: 'dev', authorizerCacheTtl: '0', throttleRate: '12.5', destroyOnRemoval: 'true', logRetentionDays: '7' }),
    );
    const fromJson = configFromContext(context({ stage: 'dev', authorizerCacheTtl: 0, throttleRate: 12.5, destroyOnRemoval: true, logRetentionDays: 7 }));
    expect(fromCli).toEqual(fromJson);
    expect(fromCli).toMatchObject({ authorizerCacheTtl: 0, throttleRate: 12.5, destroyOnRemoval: true, logRetentionDays: 7 });
  });

  it.each([
    ['stage', 'prod/v1', /stage must be/],
    ['stage', '', /stage must be/],
    ['authorizerCacheTtl', '3601', /authorizerCacheTtl must be a whole number from 0 to 3600/],
    ['authorizerCacheTtl', '-1', /authorizerCacheTtl/],
    ['authorizerCacheTtl', '1.5', /authorizerCacheTtl/],
    ['maxKeysPerUser', '0', new RegExp(`maxKeysPerUser must be a whole number from 1 to ${MAX_KEYS_PER_USER}`)],
    ['maxKeysPerUser', String(MAX_KEYS_PER_USER + 1), /maxKeysPerUser/],
    ['maxRulesPerKey', String(MAX_RULES_PER_KEY + 1), new RegExp(`maxRulesPerKey must be a whole number from 1 to ${MAX_RULES_PER_KEY}`)],
    ['logRetentionDays', '31', /logRetentionDays must be one of 1, 3, 5/],
    ['throttleRate', '0', /throttleRate must be/],
    ['throttleRate', 'fast', /throttleRate must be/],
    ['throttleBurst', '2.5', /throttleBurst/],
    ['destroyOnRemoval', 'yes', /destroyOnRemoval must be true or false/],
    ['auditRetentionDays', '-5', /auditRetentionDays/],
  ])('refuses %s=%j with a message that names it', (name, value, message) => {
    expect(() => configFromContext(context({ [name]: value }))).toThrow(message);
  });

  it('reports every problem at once', () => {
    let caught: unknown;
    try {
      configFromContext(context({ stage: 'a b', throttleBurst: '0', destroyOnRemoval: 'maybe' }));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems).toHaveLength(3);
  });
});
