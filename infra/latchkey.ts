import { RemovalPolicy, Validations, type App, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { LatchkeyConfig } from './config.ts';
import { LatchkeyStatefulStack } from './stateful-stack.ts';
import { LatchkeyHttpApiStack } from './http-stack.ts';
import { LatchkeyApiStack } from './stateless-stack.ts';

export interface LatchkeyStacks {
  readonly stateful: LatchkeyStatefulStack;
  readonly api: LatchkeyApiStack;
}

export interface LatchkeyHttpStacks {
  readonly stateful: LatchkeyStatefulStack;
  readonly api: LatchkeyHttpApiStack;
}

/** The stacks of the configured flavor (context flavor): what infra/app.ts deploys. */
export function addConfiguredStacks(app: App, config: LatchkeyConfig, env: Environment): LatchkeyStacks | LatchkeyHttpStacks {
  return config.flavor === 'http' ? addLatchkeyHttpStacks(app, config, env) : addLatchkeyStacks(app, config, env);
}

function addStatefulStack(app: App, config: LatchkeyConfig, env: Environment): LatchkeyStatefulStack {
  return new LatchkeyStatefulStack(app, 'LatchkeyStateful', {
    env,
    description: 'Latchkey stateful resources: table, KMS key, pepper',
    stage: config.stage,
    destroyOnRemoval: config.destroyOnRemoval,
    logRetention: retentionDays(config.logRetentionDays),
    terminationProtection: !config.destroyOnRemoval,
  });
}

/**
 * Both stacks of one deployment of the REST flavor. The stack ids are the CloudFormation stack
 * names that docs/deploy.md and the admin CLI refer to.
 */
export function addLatchkeyStacks(app: App, config: LatchkeyConfig, env: Environment): LatchkeyStacks {
  if (config.flavor !== 'rest') throw new Error(`addLatchkeyStacks builds the REST flavor; flavor ${config.flavor} is addConfiguredStacks' or addLatchkeyHttpStacks'`);
  const stateful = addStatefulStack(app, config, env);
  const api = new LatchkeyApiStack(app, 'LatchkeyApi', {
    env,
    description: 'Latchkey API: API Gateway, authorizer and route functions',
    ...apiStackProps(config, stateful),
    defaultPlan: config.plan,
    waf: config.waf,
    wafRateLimit: config.wafRateLimit,
  });
  return { stateful, api };
}

/**
 * Both stacks of one deployment of the HTTP API flavor, under the same names: no usage plans
 * and no WAF (DESIGN 15).
 */
export function addLatchkeyHttpStacks(app: App, config: LatchkeyConfig, env: Environment): LatchkeyHttpStacks {
  const stateful = addStatefulStack(app, config, env);
  const api = new LatchkeyHttpApiStack(app, 'LatchkeyApi', {
    env,
    description: 'Latchkey API (HTTP API flavor): API Gateway HTTP API, authorizer and route functions',
    ...apiStackProps(config, stateful),
    // Shown by GET /v1/account/usage, not enforced: HTTP APIs have no usage plans.
    defaultPlan: config.plan,
  });
  return { stateful, api };
}
/** What the API stack of either flavor takes from the configuration and the stateful stack. */
function apiStackProps(config: LatchkeyConfig, stateful: LatchkeyStatefulStack) {
  return {
    table: stateful.table,
    key: stateful.key,
    stageName: config.stage,
    authorizerCacheTtlSeconds: config.authorizerCacheTtl,
    maxKeysPerUser: config.maxKeysPerUser,
    maxRulesPerKey: config.maxRulesPerKey,
    auditRetentionDays: config.auditRetentionDays,
    logRetention: retentionDays(config.logRetentionDays),
    logRemovalPolicy: config.destroyOnRemoval ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    throttlingRateLimit: config.throttleRate,
    throttlingBurstLimit: config.throttleBurst,
  };
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
