import { rmSync } from 'node:fs';
import type { CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromContext } from '#infra/config.ts';
import { MANAGED_RULE_GROUPS } from '#infra/constructs/usage-limits.ts';
import { addLatchkeyStacks, addNagChecks } from '#infra/latchkey.ts';
import { ROUTES } from '#shared/routes.ts';
import { TEST_ENV, logicalIdOf, newApp, synthLatchkey, type SynthesizedLatchkey } from './cdk-app.ts';

interface CfnResource {
  readonly Properties: Record<string, unknown>;
}

describe('usage limits (defaults)', () => {
  let synth: SynthesizedLatchkey;
  let apiRef: { Ref: string };
  let stageRef: { Ref: string };

  beforeAll(() => {
    synth = synthLatchkey();
    apiRef = { Ref: logicalIdOf(synth.api.api.node.defaultChild as CfnElement) };
    stageRef = { Ref: logicalIdOf(synth.api.api.deploymentStage.node.defaultChild as CfnElement) };
  });
  afterAll(() => {
    synth.cleanup();
  });

  it('takes usage-plan keys from the authorizer, and requires one on every method', () => {
    synth.apiTemplate.hasResourceProperties('AWS::ApiGateway::RestApi', { ApiKeySourceType: 'AUTHORIZER' });
    const methods = Object.values(synth.apiTemplate.findResources('AWS::ApiGateway::Method') as Record<string, CfnResource>);
    expect(methods).toHaveLength(ROUTES.length);
    for (const method of methods) expect(method.Properties.ApiKeyRequired).toBe(true);
  });

  it("binds the default plan's usage plan to the stage, with the default rate and burst and no quota", () => {
    synth.apiTemplate.resourceCountIs('AWS::ApiGateway::UsagePlan', 1);
    synth.apiTemplate.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: 'latchkey-prod-default',
      ApiStages: [{ ApiId: apiRef, Stage: stageRef }],
      Throttle: { RateLimit: 50, BurstLimit: 100 },
      Quota: Match.absent(),
    });
  });

  it('guards the stage with a WAF web ACL: a rate limit per source address and the managed rule groups', () => {
    const acls = synth.apiTemplate.findResources('AWS::WAFv2::WebACL') as Record<string, CfnResource>;
    const [aclId, acl] = Object.entries(acls)[0] ?? [];
    expect(Object.keys(acls)).toHaveLength(1);
    expect(acl?.Properties).toMatchObject({ Scope: 'REGIONAL', DefaultAction: { Allow: {} } });
    const rules = acl?.Properties.Rules as { Name: string; Action?: unknown; Statement: Record<string, unknown> }[];
    expect(rules[0]).toMatchObject({
      Name: 'RateLimitPerSourceAddress',
      Action: { Block: {} },
      Statement: { RateBasedStatement: { Limit: 2000, AggregateKeyType: 'IP', EvaluationWindowSec: 300 } },
    });
    const groups = rules.slice(1).map((rule) => rule.Statement.ManagedRuleGroupStatement as { VendorName: string; Name: string });
    expect(groups.map((group) => `${group.VendorName}/${group.Name}`)).toEqual(MANAGED_RULE_GROUPS.map((name) => `AWS/${name}`));
    synth.apiTemplate.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      WebACLArn: { 'Fn::GetAtt': [aclId, 'Arn'] },
      ResourceArn: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/restapis/'), apiRef, '/stages/', stageRef])] }),
    });
  });
});

describe('usage limits (configured)', () => {
  it('takes the default plan with a quota, and the WAF rate, from CDK context', () => {
    const synth = synthLatchkey({ rateLimit: '5', burstLimit: '9', quotaLimit: '1000', quotaPeriod: 'MONTH', wafRateLimit: '500' });
    try {
      synth.apiTemplate.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
        Throttle: { RateLimit: 5, BurstLimit: 9 },
        Quota: { Limit: 1000, Period: 'MONTH', Offset: 0 },
      });
      synth.apiTemplate.hasResourceProperties('AWS::WAFv2::WebACL', {
        Rules: Match.arrayWith([Match.objectLike({ Statement: { RateBasedStatement: Match.objectLike({ Limit: 500 }) } })]),
      });
    } finally {
      synth.cleanup();
    }
  });

  it('refuses a quota without its period', () => {
    const { app, outdir } = newApp({ quotaLimit: '1000' });
    try {
      expect(() => configFromContext(app.node)).toThrow(/quotaLimit and quotaPeriod are set together/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it('leaves out the WAF with waf=false, and cdk-nag still passes because it says why', () => {
    const synth = synthLatchkey({ waf: 'false' });
    try {
      synth.apiTemplate.resourceCountIs('AWS::WAFv2::WebACL', 0);
      synth.apiTemplate.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
      synth.apiTemplate.resourceCountIs('AWS::ApiGateway::UsagePlan', 1);
    } finally {
      synth.cleanup();
    }
    const { app, outdir } = newApp({ waf: 'false' });
    try {
      addLatchkeyStacks(app, configFromContext(app.node), TEST_ENV);
      addNagChecks(app);
      expect(() => app.synth()).not.toThrow();
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 60_000);
});
