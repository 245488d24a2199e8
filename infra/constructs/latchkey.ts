import { CfnOutput, RemovalPolicy, Stack, type Duration } from 'aws-cdk-lib';
import type { Integration, RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { Key } from 'aws-cdk-lib/aws-kms';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { DownstreamRoute } from '#shared/downstream-routes.ts';
import { LatchkeyApi } from './latchkey-api.ts';
import { LatchkeyData } from './latchkey-data.ts';
import type { LatchkeyFunction } from './latchkey-function.ts';

export interface LatchkeyProps {
  /**
   * The team's own routes, each behind the key authorizer. See `DownstreamRoute`.
   * @default - the management routes only
   */
  readonly routes?: readonly DownstreamRoute[];
  /**
   * Integrations that replace a declared route's backend on AWS (e.g. through a VPC link), by route name.
   * @default - every route uses its declared backend
   */
  readonly integrations?: Readonly<Record<string, Integration>>;
  /**
   * The API Gateway stage; also names the KMS alias `alias/latchkey/<stage>`.
   * @default 'prod'
   */
  readonly stage?: string;
  /**
   * Delete the table, the key and the logs with the stack. Only for throw-away deployments.
   * @default false - table, key and logs are retained, the table has deletion protection
   */
  readonly destroyOnRemoval?: boolean;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /**
   * Seconds API Gateway caches an authorizer decision per (account key, user key, source IP); 0 turns it off.
   * @default 300
   */
  readonly authorizerCacheTtlSeconds?: number;
  /** Timeout of each Lambda backend. @default Duration.seconds(10) */
  readonly backendTimeout?: Duration;
  /** Memory of each Lambda backend, in MB. @default 512 */
  readonly backendMemorySize?: number;
  /** @default 10 */
  readonly maxKeysPerUser?: number;
  /** @default 20 */
  readonly maxRulesPerKey?: number;
  /** @default 365 - days; 0 keeps audit events forever */
  readonly auditRetentionDays?: number;
  /** Steady-state requests per second for the whole stage. @default 50 */
  readonly throttlingRateLimit?: number;
  /** @default 100 */
  readonly throttlingBurstLimit?: number;
}

/**
 * Latchkey in one construct, for a team's own stack: the table, the KMS key and the pepper
 * (LatchkeyData) and the REST API with the management routes and the team's routes behind the
 * key authorizer (LatchkeyApi). To keep the data in a stack of its own, use those two directly.
 */
export class Latchkey extends Construct {
  readonly data: LatchkeyData;
  readonly gateway: LatchkeyApi;
  readonly table: Table;
  readonly key: Key;
  readonly api: RestApi;
  /** The function of each Lambda-backed route, by route name (`'GET /v1/things'`): grant it what it needs. */
  readonly backendFunctions: Readonly<Record<string, LatchkeyFunction>>;

  constructor(scope: Construct, id: string, props: LatchkeyProps = {}) {
    super(scope, id);
    const destroy = props.destroyOnRemoval ?? false;
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;
    this.data = new LatchkeyData(this, 'Data', { stage: props.stage, destroyOnRemoval: destroy, logRetention });
    this.table = this.data.table;
    this.key = this.data.key;
    this.gateway = new LatchkeyApi(this, 'Api', {
      table: this.table,
      key: this.key,
      routes: props.routes,
      integrations: props.integrations,
      stageName: props.stage,
      authorizerCacheTtlSeconds: props.authorizerCacheTtlSeconds,
      backendTimeout: props.backendTimeout,
      backendMemorySize: props.backendMemorySize,
      maxKeysPerUser: props.maxKeysPerUser,
      maxRulesPerKey: props.maxRulesPerKey,
      auditRetentionDays: props.auditRetentionDays,
      logRetention,
      logRemovalPolicy: destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      throttlingRateLimit: props.throttlingRateLimit,
      throttlingBurstLimit: props.throttlingBurstLimit,
    });
    this.api = this.gateway.api;
    this.backendFunctions = this.gateway.backendFunctions;

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the API (stage included)' });
    // The stage's usage plans hold each account's usage-plan key: create-account needs both.
    new CfnOutput(this, 'RestApiId', { value: this.api.restApiId, description: 'admin CLI: --rest-api-id' });
    new CfnOutput(this, 'StageName', { value: this.gateway.stageName, description: 'admin CLI: --stage' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName, description: 'admin CLI: --table' });
    new CfnOutput(this, 'KmsKeyId', { value: this.key.keyId, description: 'admin CLI: --kms-key-id' });
    new CfnOutput(this, 'Region', { value: Stack.of(this).region, description: 'admin CLI: --region' });
  }
}
