import {
  APIGatewayClient,
  BadRequestException,
  CreateApiKeyCommand,
  CreateUsagePlanCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  DeleteUsagePlanKeyCommand,
  GetUsageCommand,
  GetUsagePlansCommand,
} from '@aws-sdk/client-api-gateway';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApiGatewayUsagePlans, usagePlanName } from '#shared/adapters/apigw-usage-plans.ts';
import type { Plan } from '#shared/domain/plan.ts';

const apiGateway = mockClient(APIGatewayClient);
const stage = { apiId: 'a1b2c3d4e5', stage: 'prod' };
const gold: Plan = { rateLimit: 100, burstLimit: 200, quota: { limit: 1_000_000, period: 'MONTH' } };

function usagePlans(): ApiGatewayUsagePlans {
  return new ApiGatewayUsagePlans(new APIGatewayClient({}), { restApiId: stage.apiId, stageName: stage.stage });
}

describe('ApiGatewayUsagePlans', () => {
  beforeEach(() => {
    apiGateway.reset();
    apiGateway.on(GetUsagePlansCommand).resolves({
      items: [
        { id: 'default-plan', name: 'latchkey-prod-default', apiStages: [stage] },
        // Same name, another API: never taken for this one.
        { id: 'foreign-gold', name: usagePlanName('prod', gold), apiStages: [{ apiId: 'zzzzzzzzzz', stage: 'prod' }] },
      ],
    });
  });

  it("creates an account's key with a value of its own on the default plan's usage plan", async () => {
    // Prepare
    apiGateway.on(CreateApiKeyCommand).resolves({ id: 'key-1' });
    apiGateway.on(CreateUsagePlanKeyCommand).resolves({});

    // Act
    const key = await usagePlans().createKey('Acct0000Acct0000', null);

    // Assess
    expect(key).toEqual({ id: 'key-1', value: expect.stringMatching(/^[0-9a-f]{48}$/) as unknown, usagePlanId: 'default-plan' });
    expect(apiGateway).toHaveReceivedCommandWith(CreateApiKeyCommand, { enabled: true, value: key.value, name: 'latchkey-prod-Acct0000Acct0000' });
    expect(apiGateway).toHaveReceivedCommandWith(CreateUsagePlanKeyCommand, { usagePlanId: 'default-plan', keyId: 'key-1', keyType: 'API_KEY' });
  });

  it('removes the new key again when it cannot join the usage plan, so nothing is left half made', async () => {
    // Prepare
    apiGateway.on(CreateApiKeyCommand).resolves({ id: 'key-1' });
    apiGateway.on(CreateUsagePlanKeyCommand).rejects(new BadRequestException({ message: 'no', $metadata: {} }));
    apiGateway.on(DeleteApiKeyCommand).resolves({});

    // Act
    const created = usagePlans().createKey('Acct0000Acct0000', null);

    // Assess
    await expect(created).rejects.toBeInstanceOf(BadRequestException);
    expect(apiGateway).toHaveReceivedCommandWith(DeleteApiKeyCommand, { apiKey: 'key-1' });
  });

  it("moves a key to its plan's usage plan, made on this stage when none exists yet", async () => {
    // Prepare
    apiGateway.on(CreateUsagePlanCommand).resolves({ id: 'gold-plan' });
    apiGateway.on(DeleteUsagePlanKeyCommand).resolves({});
    apiGateway.on(CreateUsagePlanKeyCommand).resolves({});

    // Act
    const moved = await usagePlans().assignPlan({ id: 'key-1', value: 'v'.repeat(48), usagePlanId: 'default-plan' }, gold);

    // Assess
    expect(moved.usagePlanId).toBe('gold-plan');
    expect(apiGateway).toHaveReceivedCommandWith(CreateUsagePlanCommand, {
      name: usagePlanName('prod', gold),
      apiStages: [stage],
      throttle: { rateLimit: 100, burstLimit: 200 },
      quota: { limit: 1_000_000, period: 'MONTH', offset: 0 },
      // The functions may read usage of the plans with this tag only.
      tags: { 'latchkey:stage': 'a1b2c3d4e5/prod' },
    });
    expect(apiGateway).toHaveReceivedCommandWith(DeleteUsagePlanKeyCommand, { usagePlanId: 'default-plan', keyId: 'key-1' });
    expect(apiGateway).toHaveReceivedCommandWith(CreateUsagePlanKeyCommand, { usagePlanId: 'gold-plan', keyId: 'key-1', keyType: 'API_KEY' });
  });

  it("takes a tier's usage plan only with the stage's tag: one made before plans had it is passed over for a tagged one", async () => {
    // Prepare
    const untagged = { id: 'old-gold', name: usagePlanName('prod', gold), apiStages: [stage] };
    const tagged = { id: 'tagged-gold', name: usagePlanName('prod', gold), apiStages: [stage], tags: { 'latchkey:stage': 'a1b2c3d4e5/prod' } };
    apiGateway.on(GetUsagePlansCommand).resolvesOnce({ items: [untagged] }).resolves({ items: [untagged, tagged] });
    apiGateway.on(CreateUsagePlanCommand).resolves({ id: 'tagged-gold' });
    apiGateway.on(DeleteUsagePlanKeyCommand).resolves({});
    apiGateway.on(CreateUsagePlanKeyCommand).resolves({});
    const key = { id: 'key-1', value: 'v'.repeat(48), usagePlanId: 'old-gold' };

    // Act
    const moved = await usagePlans().assignPlan(key, gold);
    const again = await usagePlans().assignPlan(moved, gold);

    // Assess
    expect(moved.usagePlanId).toBe('tagged-gold');
    expect(again).toEqual(moved);
    expect(apiGateway).toHaveReceivedCommandTimes(CreateUsagePlanCommand, 1);
    expect(apiGateway).toHaveReceivedCommandWith(DeleteUsagePlanKeyCommand, { usagePlanId: 'old-gold', keyId: 'key-1' });
  });

  it("adds up the days of the period from API Gateway's usage data, with the quota left on the last", async () => {
    // Prepare
    // The range is the chart's 30 days (2026-11-03 to 2026-12-02): November is before the period.
    const november = Array.from({ length: 28 }, (): [number, number] => [7, 0]);
    apiGateway.on(GetUsageCommand).resolves({ items: { 'key-1': [...november, [10, 999_990], [5, 999_985]] } });
    const key = { id: 'key-1', value: 'v'.repeat(48), usagePlanId: 'gold-plan' };

    // Act
    const usage = await usagePlans().usage('Acct0000Acct0000', key, gold, new Date('2026-12-01T00:00:00Z'), new Date('2026-12-02T12:00:00Z'));

    // Assess
    expect(usage).toMatchObject({ used: 15, remaining: 999_985 });
    expect(apiGateway).toHaveReceivedCommandWith(GetUsageCommand, { usagePlanId: 'gold-plan', keyId: 'key-1', startDate: '2026-11-03', endDate: '2026-12-02' });
  });
});
