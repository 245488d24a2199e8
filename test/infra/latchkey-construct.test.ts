import { rmSync } from 'node:fs';
import { type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { Latchkey, type LatchkeyProps } from '#infra/constructs/latchkey.ts';
import { addNagChecks } from '#infra/latchkey.ts';
import { TEST_ENV, newApp, type CfnResource } from './cdk-app.ts';

/** The one construct a team installs passes the API's settings through, the WAF and the plan among them. */
function synth(props: LatchkeyProps): Template {
  const { app, outdir } = newApp();
  try {
    const stack = new Stack(app, 'TeamApi', { env: TEST_ENV });
    new Latchkey(stack, 'Latchkey', props);
    addNagChecks(app);
    app.synth();
    return Template.fromStack(stack);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

describe('Latchkey construct settings', () => {
  it('guards the stage with a WAF web ACL by default, and leaves it out with waf: false (cdk-nag still clean)', () => {
    expect(Object.keys(synth({}).findResources('AWS::WAFv2::WebACL'))).toHaveLength(1);
    const withoutWaf = synth({ waf: false });
    expect(Object.keys(withoutWaf.findResources('AWS::WAFv2::WebACL'))).toHaveLength(0);
    expect(Object.keys(withoutWaf.findResources('AWS::WAFv2::WebACLAssociation'))).toHaveLength(0);
  });

  it('exposes its event bus and outputs its name and ARN (cdk-nag clean)', () => {
    const { app, outdir } = newApp();
    try {
      const stack = new Stack(app, 'TeamApi', { env: TEST_ENV });
      const latchkey = new Latchkey(stack, 'Latchkey', {});
      addNagChecks(app);
      app.synth();
      const template = Template.fromStack(stack);
      const busId = stack.resolve(stack.getLogicalId(latchkey.eventBus.node.defaultChild as CfnElement)) as string;
      expect(Object.keys(template.findResources('AWS::Events::EventBus'))).toEqual([busId]);
      expect(Object.values(template.findOutputs('*')).map((output) => output.Value as unknown)).toEqual(
        expect.arrayContaining([{ Ref: busId }, { 'Fn::GetAtt': [busId, 'Arn'] }]),
      );
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it("hands githubKeysUrl to the leaked-keys function alone as LATCHKEY_GITHUB_KEYS_URL, leaves GitHub's own list by default, and refuses a URL that is not https", () => {
    const withUrl = 'https://keys.example.com/secret_scanning';
    /** Each function's description and its LATCHKEY_GITHUB_KEYS_URL, if it has one. */
    const keysUrls = (template: Template): Record<string, unknown> =>
      Object.fromEntries(
        Object.values(template.findResources('AWS::Lambda::Function') as Record<string, CfnResource>)
          .map((fn): [string, unknown] => [String(fn.Properties.Description), (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.LATCHKEY_GITHUB_KEYS_URL])
          .filter(([, url]) => url !== undefined),
      );

    expect(keysUrls(synth({ githubKeysUrl: withUrl }))).toEqual({ 'Latchkey leaked-keys routes': withUrl });
    expect(keysUrls(synth({}))).toEqual({});
    for (const bad of ['http://keys.example.com/list', 'keys.example.com']) {
      expect(() => synth({ githubKeysUrl: bad })).toThrow(/githubKeysUrl must be an https URL/);
    }
  });

  it('takes the default plan and the WAF rate limit', () => {
    const template = synth({ defaultPlan: { rateLimit: 7, burstLimit: 14, quota: { limit: 1000, period: 'DAY' } }, wafRateLimit: 500 });
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 7, BurstLimit: 14 },
      Quota: { Limit: 1000, Period: 'DAY' },
    });
    const acl = Object.values(template.findResources('AWS::WAFv2::WebACL') as Record<string, CfnResource>)[0];
    const rules = acl?.Properties.Rules as { Name: string; Statement: { RateBasedStatement?: { Limit: number } } }[];
    expect(rules.find((rule) => rule.Name === 'RateLimitPerSourceAddress')?.Statement.RateBasedStatement?.Limit).toBe(500);
  });
});
