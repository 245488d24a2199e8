import { Stack, Tags, Token, Validations } from 'aws-cdk-lib';
import { type CfnRestApi, Period, type RestApi, type UsagePlan } from 'aws-cdk-lib/aws-apigateway';
import { Effect, type IRole, Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { USAGE_PLAN_STAGE_TAG, defaultUsagePlanName, usagePlanStageTag } from '#shared/adapters/apigw-usage-plans.ts';
import { ENV } from '#shared/adapters/environment.ts';
import type { Plan } from '#shared/domain/plan.ts';
import { PUBLIC_ROUTE_THROTTLE, ROUTES, isPublicRoute } from '#shared/http/routes.ts';
import { publicRouteRateRule } from './public-route-rate-rule.ts';
import { REQUEST_SHAPE_BODIES, requestShapeRules } from './request-shape-rules.ts';

export interface UsageLimitsProps {
  /** The API; its methods must be added with `apiKeyRequired: true`, or no usage plan applies to them. */
  readonly api: RestApi;
  /** The deployment stage's name as configured (a plain string: usage plans are found by names made from it). */
  readonly stageName: string;
  /** The plan of accounts without their own: the usage plan this construct makes. */
  readonly defaultPlan: Plan;
  /** Whoever reads accounts' usage (GET /v1/account/usage): allowed GetUsage and nothing else. */
  readonly usageReaders: readonly IRole[];
  /**
   * An AWS WAF web ACL on the stage: a rate-based rule per source address and AWS's managed
   * rule groups for APIs. Off leaves the stage throttle as the only guard against floods.
   * @default true
   */
  readonly waf?: boolean;
  /** Requests per source address per 5 minutes before WAF blocks the address. @default 2000 */
  readonly wafRateLimit?: number;
  /**
   * The method throttle of the routes that need no keys, requests per second for all callers
   * together; WAF blocks one address past a tenth of it (public-route-rate-rule.ts).
   * @default PUBLIC_ROUTE_THROTTLE.rateLimit
   */
  readonly publicRouteRateLimit?: number;
}

/** The managed rule groups: AWS's baseline groups, with no subscription fee beyond WAF's per-rule price. */
export const MANAGED_RULE_GROUPS = ['AWSManagedRulesAmazonIpReputationList', 'AWSManagedRulesKnownBadInputsRuleSet', 'AWSManagedRulesCommonRuleSet'] as const;

/**
 * Per-account limits with API Gateway's own machinery, and keyless floods stopped at the edge.
 *
 * - The API takes its usage-plan keys from the authorizer (key source `AUTHORIZER`): the
 *   authorizer returns the account's key as `usageIdentifierKey`, read from the account item it
 *   already reads, and callers never see or send one.
 * - One usage plan per distinct plan, not per account (usage plans are limited to 300 per
 *   region, API keys to 10,000): this one is the default plan's; `npm run admin -- set-plan`
 *   makes the others. Throttle and quota apply per API key, so accounts never share limits.
 * - A WAF web ACL on the stage blocks an address past its rate, known bad inputs and
 *   addresses on AWS's reputation list before API Gateway runs, and bills, the authorizer;
 *   and an address past its share of the keyless routes' throttle, which all callers share.
 */
export class UsageLimits extends Construct {
  readonly defaultUsagePlan: UsagePlan;
  readonly webAcl: CfnWebACL | undefined;

  constructor(scope: Construct, id: string, props: UsageLimitsProps) {
    super(scope, id);
    const { api, defaultPlan } = props;
    const stage = api.deploymentStage;
    (api.node.defaultChild as CfnRestApi).apiKeySourceType = 'AUTHORIZER';

    this.defaultUsagePlan = api.addUsagePlan('DefaultUsagePlan', {
      name: defaultUsagePlanName(props.stageName),
      description: 'Latchkey default plan: each account on it is throttled and counted by its own usage-plan key',
      throttle: { rateLimit: defaultPlan.rateLimit, burstLimit: defaultPlan.burstLimit },
      ...(defaultPlan.quota === null ? {} : { quota: { limit: defaultPlan.quota.limit, period: PERIODS[defaultPlan.quota.period], offset: 0 } }),
      apiStages: [{ api, stage }],
    });

    const stack = Stack.of(this);
    // Every usage plan of this stage carries the stage's tag: this one here, set-plan's when it
    // makes or finds one (apigw-usage-plans.ts), so GetUsage can be granted on them alone.
    const stageTag = usagePlanStageTag(api.restApiId, props.stageName);
    Tags.of(this.defaultUsagePlan).add(USAGE_PLAN_STAGE_TAG, stageTag);
    // GetUsage is GET /usageplans/{id}/usage: counts only, never a key or its value. The default
    // plan's by its id; the plans set-plan makes after deployment by the stage's tag, never
    // another stack's or another API's plans.
    const usageOf = (planId: string): string => `arn:${stack.partition}:apigateway:${stack.region}::/usageplans/${planId}/usage`;
    // A policy of its own, not the role's default one: the functions' default policies come
    // before the methods, the methods before the stage and the stage before this usage plan.
    const readUsage = new Policy(this, 'ReadUsage', {
      statements: [
        new PolicyStatement({ effect: Effect.ALLOW, actions: ['apigateway:GET'], resources: [usageOf(this.defaultUsagePlan.usagePlanId)] }),
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['apigateway:GET'],
          resources: [usageOf('*')],
          conditions: { StringEquals: { [`aws:ResourceTag/${USAGE_PLAN_STAGE_TAG}`]: stageTag } },
        }),
      ],
    });
    for (const reader of props.usageReaders) readUsage.attachToRole(reader);
    const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
    Validations.of(stack).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:apigateway:${region}::/usageplans/*/usage]`,
      reason: "GetUsage of the usage plans tagged with this stage only: set-plan makes them after deployment, so their ids are not known here; usage data holds counts only, never a key.",
    });

    if (props.waf === false) {
      this.webAcl = undefined;
      Validations.of(api).acknowledge({
        id: 'AwsSolutions-APIG3',
        reason: 'The WAF web ACL was turned off for this deployment (context waf=false); the stage throttle and the per-account usage plans remain.',
      });
      return;
    }
    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      description: 'Latchkey: per-address rate limit and AWS managed rules in front of the API',
      visibilityConfig: visibility('latchkey-web-acl'),
      customResponseBodies: REQUEST_SHAPE_BODIES,
      rules: [
        {
          name: 'RateLimitPerSourceAddress',
          priority: 0,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: props.wafRateLimit ?? 2000, aggregateKeyType: 'IP', evaluationWindowSec: 300 } },
          visibilityConfig: visibility('latchkey-rate-per-address'),
        },
        publicRouteRateRule(
          ROUTES.filter(isPublicRoute),
          props.publicRouteRateLimit ?? PUBLIC_ROUTE_THROTTLE.rateLimit,
          1,
          visibility('latchkey-rate-public-routes-per-address'),
        ),
        // Before the managed rules, so that a path or header refused here is the documented 400.
        ...requestShapeRules(2, visibility),
        ...MANAGED_RULE_GROUPS.map((name, index) => ({
          name,
          priority: index + 4,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: {
              vendorName: 'AWS',
              name,
              // The common rule set blocks bodies over 8 KB; the API's own limit is 16 KiB (413 from the handlers).
              ...(name === 'AWSManagedRulesCommonRuleSet' ? { ruleActionOverrides: [{ name: 'SizeRestrictions_BODY', actionToUse: { count: {} } }] } : {}),
            },
          },
          visibilityConfig: visibility(`latchkey-${name}`),
        })),
      ],
    });
    new CfnWebACLAssociation(this, 'WebAclAssociation', { resourceArn: stage.stageArn, webAclArn: this.webAcl.attrArn });
  }
}

const PERIODS = { DAY: Period.DAY, WEEK: Period.WEEK, MONTH: Period.MONTH } as const;

function visibility(metricName: string): CfnWebACL.VisibilityConfigProperty {
  return { cloudWatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true };
}

/** The default plan as the functions read it (shared/adapters/environment.ts defaultPlanFromEnv), for GET /v1/account/usage. */
export function planEnvironment(plan: Plan): Record<string, string> {
  return {
    [ENV.rateLimit]: String(plan.rateLimit),
    [ENV.burstLimit]: String(plan.burstLimit),
    ...(plan.quota === null ? {} : { [ENV.quotaLimit]: String(plan.quota.limit), [ENV.quotaPeriod]: plan.quota.period }),
  };
}
