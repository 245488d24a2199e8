import { rmSync } from 'node:fs';
import { Stack, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromContext } from '#infra/config.ts';
import { MANAGED_RULE_GROUPS } from '#infra/constructs/usage-limits.ts';
import { LatchkeyApi, type LatchkeyApiProps } from '#infra/constructs/latchkey-api.ts';
import { LatchkeyData } from '#infra/constructs/latchkey-data.ts';
import { PublicRouteRateError } from '#infra/constructs/public-route-rate-rule.ts';
import { addLatchkeyStacks, addNagChecks } from '#infra/latchkey.ts';
import { ROUTES, isPublicRoute } from '#shared/http/routes.ts';
import { TEST_ENV, logicalIdOf, newApp, synthLatchkey, type SynthesizedLatchkey } from './cdk-app.ts';

interface CfnResource {
  readonly Properties: Record<string, unknown>;
}

interface WafRule {
  readonly Name: string;
  readonly Action?: unknown;
  readonly Statement: Record<string, unknown>;
}

interface RouteMatch {
  readonly AndStatement: { Statements: Record<string, { FieldToMatch: unknown; SearchString?: string; RegexString?: string }>[] };
}

interface RateBasedStatement {
  readonly Limit: number;
  readonly EvaluationWindowSec: number;
  /** One route's method and path match, or, with several public routes, one such match per route. */
  readonly ScopeDownStatement: { OrStatement?: { Statements: RouteMatch[] } } & Partial<RouteMatch>;
}

function wafRules(template: Template): WafRule[] {
  const acl = Object.values(template.findResources('AWS::WAFv2::WebACL') as Record<string, CfnResource>)[0];
  return (acl?.Properties.Rules ?? []) as WafRule[];
}

function publicRouteRule(template: Template): RateBasedStatement {
  const rule = wafRules(template).find((candidate) => candidate.Name === 'RateLimitPublicRoutesPerSourceAddress');
  expect(rule?.Action).toEqual({ Block: {} });
  return rule?.Statement.RateBasedStatement as RateBasedStatement;
}

/** The leak route's method throttle on the stage, requests per second for every caller together. */
function leakRouteThrottle(template: Template): number {
  const stage = Object.values(template.findResources('AWS::ApiGateway::Stage') as Record<string, CfnResource>)[0];
  const settings = stage?.Properties.MethodSettings as { ResourcePath: string; HttpMethod: string; ThrottlingRateLimit: number }[];
  const leak = settings.find((setting) => setting.ResourcePath === '/~1v1~1leaked-keys' && setting.HttpMethod === 'POST');
  if (leak === undefined) throw new Error('no method throttle on the leak route');
  return leak.ThrottlingRateLimit;
}

/** LatchkeyApi on its own, for the props CDK context does not reach. */
function synthApi(props: Partial<LatchkeyApiProps>): { template: Template; cleanup: () => void } {
  const { app, outdir } = newApp();
  try {
    const stack = new Stack(app, 'Api', { env: TEST_ENV });
    const data = new LatchkeyData(stack, 'Data', {});
    new LatchkeyApi(stack, 'Latchkey', { table: data.table, key: data.key, ...props });
    return {
      template: Template.fromStack(stack),
      cleanup: () => {
        rmSync(outdir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(outdir, { recursive: true, force: true });
    throw error;
  }
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

  it('takes usage-plan keys from the authorizer, and requires one on every method but those that need no keys', () => {
    synth.apiTemplate.hasResourceProperties('AWS::ApiGateway::RestApi', { ApiKeySourceType: 'AUTHORIZER' });
    const methods = Object.values(synth.apiTemplate.findResources('AWS::ApiGateway::Method') as Record<string, CfnResource>);
    // Every keyed route; the routes that need no keys (leak reports) and the console's public
    // methods have no authorizer, so no usage-plan key to count, and must not require one.
    const keyed = methods.filter((method) => method.Properties.AuthorizationType === 'CUSTOM');
    expect(keyed).toHaveLength(ROUTES.filter((route) => !isPublicRoute(route)).length);
    for (const method of keyed) expect(method.Properties.ApiKeyRequired).toBe(true);
    const unkeyed = methods.filter((m) => m.Properties.AuthorizationType !== 'CUSTOM');
    for (const method of unkeyed) expect(method.Properties.ApiKeyRequired).not.toBe(true);
    const publicOperations = ROUTES.filter(isPublicRoute).map((route) => route.operationId as string);
    expect(publicOperations.length).toBeGreaterThan(0);
    expect(unkeyed.map((method) => String(method.Properties.OperationName))).toEqual(expect.arrayContaining(publicOperations));
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
    expect(rules[1]?.Name).toBe('RateLimitPublicRoutesPerSourceAddress');
    // The request-shape rules (test/infra/request-shape-rules.test.ts), then the managed groups.
    expect(rules.slice(2, 4).map((rule) => rule.Name)).toEqual(['NonCanonicalPath', 'UnderscoreKeyOrPrincipalHeader']);
    const groups = rules.slice(4).map((rule) => rule.Statement.ManagedRuleGroupStatement as { VendorName: string; Name: string });
    expect(groups.map((group) => `${group.VendorName}/${group.Name}`)).toEqual(MANAGED_RULE_GROUPS.map((name) => `AWS/${name}`));
    synth.apiTemplate.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      WebACLArn: { 'Fn::GetAtt': [aclId, 'Arn'] },
      ResourceArn: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/restapis/'), apiRef, '/stages/', stageRef])] }),
    });
  });
});

describe('the leak route\'s WAF rate rule', () => {
  let synth: SynthesizedLatchkey;

  beforeAll(() => {
    synth = synthLatchkey();
  });
  afterAll(() => {
    synth.cleanup();
  });

  it("counts only POSTs to the public routes (the leak route and GitHub's alerts), per address, over WAF's shortest window", () => {
    const statement = publicRouteRule(synth.apiTemplate);
    expect(statement).toMatchObject({ AggregateKeyType: 'IP', EvaluationWindowSec: 60 });
    const routeMatches = statement.ScopeDownStatement.OrStatement?.Statements ?? [];
    expect(routeMatches).toHaveLength(2);
    const [leakRoute, githubRoute] = routeMatches.map((match) => match.AndStatement.Statements);
    for (const statements of [leakRoute, githubRoute]) {
      expect(statements).toEqual([
        {
          ByteMatchStatement: {
            FieldToMatch: { Method: {} },
            PositionalConstraint: 'EXACTLY',
            SearchString: 'POST',
            TextTransformations: [{ Priority: 0, Type: 'NONE' }],
          },
        },
        {
          RegexMatchStatement: {
            FieldToMatch: { UriPath: {} },
            RegexString: expect.any(String) as unknown,
            TextTransformations: [{ Priority: 0, Type: 'URL_DECODE' }],
          },
        },
      ]);
    }
    const regex = new RegExp(String(leakRoute?.[1]?.RegexMatchStatement?.RegexString));
    // The stage (or a custom domain's base path) comes first; repeated or trailing slashes change nothing.
    for (const path of ['/prod/v1/leaked-keys', '/v1/leaked-keys', '/prod/v1/leaked-keys/', '/prod//v1//leaked-keys']) expect(path).toMatch(regex);
    for (const path of ['/prod/v1/api-keys', '/prod/v1/leaked-keys/other', '/prod/v1/leaked-keysx']) expect(path).not.toMatch(regex);
    const githubRegex = new RegExp(String(githubRoute?.[1]?.RegexMatchStatement?.RegexString));
    for (const path of ['/prod/v1/leaked-keys/github', '/prod//v1/leaked-keys/github/']) expect(path).toMatch(githubRegex);
    for (const path of ['/prod/v1/leaked-keys', '/prod/v1/leaked-keys/other']) expect(path).not.toMatch(githubRegex);
  });

  it("gives GitHub's alert route the leak route's method throttle", () => {
    const stage = Object.values(synth.apiTemplate.findResources('AWS::ApiGateway::Stage') as Record<string, CfnResource>)[0];
    const settings = stage?.Properties.MethodSettings as { ResourcePath: string; HttpMethod: string; ThrottlingRateLimit: number; ThrottlingBurstLimit: number }[];
    const github = settings.find((setting) => setting.ResourcePath === '/~1v1~1leaked-keys~1github' && setting.HttpMethod === 'POST');
    expect(github).toMatchObject({ ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 });
  });

  it('blocks one address well before it alone could use up the route\'s throttle: a tenth of it per minute', () => {
    const { Limit, EvaluationWindowSec } = publicRouteRule(synth.apiTemplate);
    const throttle = leakRouteThrottle(synth.apiTemplate);
    expect(throttle).toBe(5);
    expect(Limit).toBe(30);
    expect(Limit).toBeLessThanOrEqual((throttle * EvaluationWindowSec) / 10);
  });

  it('follows the route\'s throttle when it is configured, so the two cannot drift apart', () => {
    const { template, cleanup } = synthApi({ publicRouteRateLimit: 20 });
    try {
      expect(leakRouteThrottle(template)).toBe(20);
      expect(publicRouteRule(template).Limit).toBe(120);
    } finally {
      cleanup();
    }
  });

  it('refuses a throttle so low that WAF\'s smallest limit would let one address take half of it or more', () => {
    expect(() => synthApi({ publicRouteRateLimit: 0.3 })).toThrow(PublicRouteRateError);
    expect(() => synthApi({ publicRouteRateLimit: 0.3 })).toThrow(/publicRouteRateLimit 0.3\/s admits 18 requests a minute/);
    // Without the WAF there is no rule to size.
    const { cleanup } = synthApi({ publicRouteRateLimit: 0.3, waf: false });
    cleanup();
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
