import { RemovalPolicy, Validations, type App, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { LatchkeyConfig } from './config.ts';
import { LatchkeyStatefulStack } from './stateful-stack.ts';
import { LatchkeyApiStack } from './stateless-stack.ts';

export interface LatchkeyStacks {
  readonly stateful: LatchkeyStatefulStack;
  readonly api: LatchkeyApiStack;
}

/**
 * Both stacks of one deployment. The stack ids are the CloudFormation stack names that
 * docs/deploy.md and the admin CLI refer to.
 */
export function addLatchkeyStacks(app: App, config: LatchkeyConfig, env: Environment): LatchkeyStacks {
  const logRetention = retentionDays(config.logRetentionDays);
  const stateful = new LatchkeyStatefulStack(app, 'LatchkeyStateful', {
    env,
    description: 'Latchkey stateful resources: table, KMS key, pepper',
    stage: config.stage,
    destroyOnRemoval: config.destroyOnRemoval,
    logRetention,
    terminationProtection: !config.destroyOnRemoval,
  });
  const api = new LatchkeyApiStack(app, 'LatchkeyApi', {
    env,
    description: 'Latchkey API: API Gateway, authorizer and route functions',
    table: stateful.table,
    key: stateful.key,
    stageName: config.stage,
    authorizerCacheTtlSeconds: config.authorizerCacheTtl,
    maxKeysPerUser: config.maxKeysPerUser,
    maxRulesPerKey: config.maxRulesPerKey,
    auditRetentionDays: config.auditRetentionDays,
    logRetention,
    logRemovalPolicy: config.destroyOnRemoval ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    throttlingRateLimit: config.throttleRate,
    throttlingBurstLimit: config.throttleBurst,
    defaultPlan: config.plan,
    waf: config.waf,
    wafRateLimit: config.wafRateLimit,
  });
  return { stateful, api };
}

/** cdk-nag's AWS Solutions and Serverless packs; any unacknowledged finding makes synthesis fail. */
export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
}

function retentionDays(days: number): RetentionDays {
  const retention = (Object.values(RetentionDays) as unknown[]).find((value): value is RetentionDays => value === days);
  if (retention === undefined) throw new Error(`CloudWatch Logs has no ${days}-day retention`);
  return retention;
}
