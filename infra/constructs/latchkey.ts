import { CfnOutput, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { EventBus } from 'aws-cdk-lib/aws-events';
import type { Key } from 'aws-cdk-lib/aws-kms';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LatchkeyApi, type LatchkeyApiProps } from './latchkey-api.ts';
import { LatchkeyData } from './latchkey-data.ts';
import type { LatchkeyFunction } from './latchkey-function.ts';

/** The API's settings a team sets through the one construct, as documented on LatchkeyApiProps. */
type PassedApiProps =
  | 'routes'
  | 'integrations'
  | 'authorizerCacheTtlSeconds'
  | 'backendTimeout'
  | 'backendMemorySize'
  | 'maxKeysPerUser'
  | 'maxRulesPerKey'
  | 'auditRetentionDays'
  | 'throttlingRateLimit'
  | 'throttlingBurstLimit'
  | 'publicRouteRateLimit'
  | 'publicRouteBurstLimit'
  | 'defaultPlan'
  | 'waf'
  | 'wafRateLimit'
  | 'githubKeysUrl';

export interface LatchkeyProps extends Pick<LatchkeyApiProps, PassedApiProps> {
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
  /** Of every log group. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
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
  /** The bus every audit event is put on (`Source` `latchkey`, `DetailType` the action): give a team's rules this bus (docs/signals.md). */
  readonly eventBus: EventBus;
  /** The function of each Lambda-backed route, by route name (`'GET /v1/things'`): grant it what it needs. */
  readonly backendFunctions: Readonly<Record<string, LatchkeyFunction>>;

  constructor(scope: Construct, id: string, props: LatchkeyProps = {}) {
    super(scope, id);
    const destroy = props.destroyOnRemoval ?? false;
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;
    this.data = new LatchkeyData(this, 'Data', { stage: props.stage, destroyOnRemoval: destroy, logRetention });
    this.table = this.data.table;
    this.key = this.data.key;
    const { stage, destroyOnRemoval: _destroy, logRetention: _retention, ...passed } = props;
    this.gateway = new LatchkeyApi(this, 'Api', {
      ...passed,
      table: this.table,
      key: this.key,
      stageName: stage,
      logRetention,
      logRemovalPolicy: destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    this.api = this.gateway.api;
    this.backendFunctions = this.gateway.backendFunctions;
    this.eventBus = this.gateway.eventBus;

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the API (stage included)' });
    // The stage's usage plans hold each account's usage-plan key: create-account needs both.
    new CfnOutput(this, 'RestApiId', { value: this.api.restApiId, description: 'admin CLI: --rest-api-id' });
    new CfnOutput(this, 'StageName', { value: this.gateway.stageName, description: 'admin CLI: --stage' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName, description: 'admin CLI: --table' });
    new CfnOutput(this, 'KmsKeyId', { value: this.key.keyId, description: 'admin CLI: --kms-key-id' });
    new CfnOutput(this, 'Region', { value: Stack.of(this).region, description: 'admin CLI: --region' });
    new CfnOutput(this, 'EventBusName', { value: this.eventBus.eventBusName, description: 'The bus of every audit event (Source latchkey)' });
    new CfnOutput(this, 'EventBusArn', { value: this.eventBus.eventBusArn, description: "For rules and other accounts' access to the bus" });
  }
}
