import { CfnOutput, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { HttpApi, HttpRouteIntegration } from 'aws-cdk-lib/aws-apigatewayv2';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { EventBus } from 'aws-cdk-lib/aws-events';
import type { Key } from 'aws-cdk-lib/aws-kms';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LatchkeyHttpApi } from './http-api.ts';
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
   * The front door: API Gateway REST (`'rest'`: usage plans per account, a WAF web ACL) or the
   * cheaper HTTP API (`'http'`: neither; docs/flavors.md weighs the two). `integrations` and
   * `waf` are the REST flavor's; the HTTP flavor takes `httpIntegrations`.
   * @default 'rest'
   */
  readonly flavor?: 'rest' | 'http';
  /**
   * The HTTP flavor's integrations that replace a declared route's backend on AWS, by route name
   * (see LatchkeyHttpApiProps.integrations).
   * @default - every route uses its declared backend
   */
  readonly httpIntegrations?: Readonly<Record<string, HttpRouteIntegration>>;
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
 * (LatchkeyData) and the API with the management routes and the team's routes behind the key
 * authorizer: API Gateway REST (LatchkeyApi) or, with `flavor: 'http'`, an HTTP API
 * (LatchkeyHttpApi). To keep the data in a stack of its own, use those directly.
 */
export class Latchkey extends Construct {
  readonly data: LatchkeyData;
  /** The REST API construct, or the HTTP API one with flavor 'http'. */
  readonly gateway: LatchkeyApi | LatchkeyHttpApi;
  readonly table: Table;
  readonly key: Key;
  readonly api: RestApi | HttpApi;
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
    const { stage, destroyOnRemoval: _destroy, logRetention: _retention, flavor, httpIntegrations, ...passed } = props;
    const common = {
      table: this.table,
      key: this.key,
      stageName: stage,
      logRetention,
      logRemovalPolicy: destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    };
    if (flavor === 'http') {
      const { integrations, waf, wafRateLimit: _wafRateLimit, ...http } = passed;
      // What only REST can do is refused by name rather than dropped.
      if (integrations !== undefined) throw new Error("Latchkey: integrations are REST API integrations; with flavor 'http' pass httpIntegrations");
      if (waf === true) throw new Error("Latchkey: waf needs flavor 'rest': an HTTP API cannot be associated with an AWS WAF web ACL");
      const gateway = new LatchkeyHttpApi(this, 'Api', { ...http, ...common, ...(httpIntegrations === undefined ? {} : { integrations: httpIntegrations }) });
      this.gateway = gateway;
      this.api = gateway.api;
      new CfnOutput(this, 'ApiUrl', { value: gateway.url, description: 'Base URL of the API (stage included)' });
      new CfnOutput(this, 'HttpApiId', { value: gateway.api.apiId, description: 'The HTTP API, whose stage the revocation flusher resets' });
    } else {
      if (httpIntegrations !== undefined) throw new Error("Latchkey: httpIntegrations are the HTTP flavor's; set flavor: 'http' or pass integrations");
      const gateway = new LatchkeyApi(this, 'Api', { ...passed, ...common });
      this.gateway = gateway;
      this.api = gateway.api;
      new CfnOutput(this, 'ApiUrl', { value: gateway.api.url, description: 'Base URL of the API (stage included)' });
      // The stage's usage plans hold each account's usage-plan key: create-account needs both.
      new CfnOutput(this, 'RestApiId', { value: gateway.api.restApiId, description: 'admin CLI: --rest-api-id' });
    }
    this.backendFunctions = this.gateway.backendFunctions;
    this.eventBus = this.gateway.eventBus;

    new CfnOutput(this, 'StageName', { value: this.gateway.stageName, description: 'admin CLI: --stage' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName, description: 'admin CLI: --table' });
    new CfnOutput(this, 'KmsKeyId', { value: this.key.keyId, description: 'admin CLI: --kms-key-id' });
    new CfnOutput(this, 'Region', { value: Stack.of(this).region, description: 'admin CLI: --region' });
    new CfnOutput(this, 'EventBusName', { value: this.eventBus.eventBusName, description: 'The bus of every audit event (Source latchkey)' });
    new CfnOutput(this, 'EventBusArn', { value: this.eventBus.eventBusArn, description: "For rules and other accounts' access to the bus" });
  }
}
