import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import {
  AccessLogField,
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  IdentitySource,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RequestAuthorizer,
  RequestValidator,
  ResponseType,
  RestApi,
  type IResource,
} from 'aws-cdk-lib/aws-apigateway';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ENV } from '#shared/config.ts';
import { ACCOUNT_KEY_HEADER, USER_KEY_HEADER } from '#shared/authorization.ts';
import { FUNCTION_GROUPS, ROUTES, type FunctionGroup } from '#shared/routes.ts';
import { DEFAULT_PLAN, type Plan } from '#shared/domain/plan.ts';
import { LatchkeyFunction } from './constructs/latchkey-function.ts';
import { RevocationFlusher } from './constructs/revocation-flusher.ts';
import { UsageLimits, planEnvironment } from './constructs/usage-limits.ts';
import { authorizerStatements, groupStatements } from './permissions.ts';

/** The authorizer's SDK calls are bounded to end inside it (functions/commons/aws-client-settings.ts). */
export const AUTHORIZER_TIMEOUT = Duration.seconds(5);

export interface LatchkeyApiStackProps extends StackProps {
  /** The single table (from the stateful stack). */
  readonly table: ITable;
  /** The KMS key protecting the pepper and the account keys (from the stateful stack). */
  readonly key: IKey;
  /** @default 'prod' */
  readonly stageName?: string;
  /**
   * Seconds API Gateway caches an authorizer decision per (account key, user key, source IP);
   * 0 turns the cache off. Mutating routes flush it, so revocation is immediate either way.
   * @default 300
   */
  readonly authorizerCacheTtlSeconds?: number;
  /** @default 10 */
  readonly maxKeysPerUser?: number;
  /** @default 20 */
  readonly maxRulesPerKey?: number;
  /** @default 365 - days; 0 keeps audit events forever */
  readonly auditRetentionDays?: number;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** Steady-state requests per second for the whole stage. @default 50 */
  readonly throttlingRateLimit?: number;
  /** @default 100 */
  readonly throttlingBurstLimit?: number;
  /** The plan of accounts without their own (API Gateway's default usage plan). @default DEFAULT_PLAN */
  readonly defaultPlan?: Plan;
  /** A WAF web ACL on the stage. @default true */
  readonly waf?: boolean;
  /** Requests per source address per 5 minutes before WAF blocks it. @default 2000 */
  readonly wafRateLimit?: number;
}

/**
 * The API: a REST API whose every resource and method comes from ROUTES (shared/routes.ts),
 * each behind the REQUEST authorizer and proxied to its group's function.
 */
export class LatchkeyApiStack extends Stack {
  readonly api: RestApi;
  readonly authorizerFunction: LatchkeyFunction;
  readonly groupFunctions: Readonly<Record<FunctionGroup, LatchkeyFunction>>;
  readonly stageName: string;
  readonly revocationFlusher: RevocationFlusher;
  readonly usageLimits: UsageLimits;

  constructor(scope: Construct, id: string, props: LatchkeyApiStackProps) {
    super(scope, id, props);
    const stageName = props.stageName ?? 'prod';
    this.stageName = stageName;
    const logRemovalPolicy = props.logRemovalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;
    const data = { table: props.table, key: props.key };

    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: logRetention, removalPolicy: logRemovalPolicy });
    this.api = new RestApi(this, 'Api', {
      restApiName: `latchkey-${stageName}`,
      description: 'Latchkey: account keys, user keys and CIDR allow lists',
      endpointTypes: [EndpointType.REGIONAL],
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: accessLogFormat(),
        loggingLevel: MethodLoggingLevel.INFO,
        // Data trace would write request headers, that is both keys, to the execution log.
        dataTraceEnabled: false,
        tracingEnabled: true,
        metricsEnabled: true,
        throttlingRateLimit: props.throttlingRateLimit ?? 50,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 100,
      },
    });

    const environment = {
      [ENV.tableName]: props.table.tableName,
      [ENV.kmsKeyId]: props.key.keyId,
      // The id of the API these functions serve; a RestApi does not depend on its integrations, so no cycle.
      [ENV.restApiId]: this.api.restApiId,
      // The configured name, not the Stage resource: that one depends on the methods, which depend on the functions.
      [ENV.stageName]: stageName,
      [ENV.keysPerUser]: String(props.maxKeysPerUser ?? 10),
      [ENV.rulesPerKey]: String(props.maxRulesPerKey ?? 20),
      [ENV.auditRetentionDays]: String(props.auditRetentionDays ?? 365),
      ...planEnvironment(props.defaultPlan ?? DEFAULT_PLAN),
    };

    this.authorizerFunction = new LatchkeyFunction(this, 'Authorizer', {
      entryName: 'authorizer',
      description: 'REQUEST authorizer: account key, user key, source IP',
      memorySize: 512,
      timeout: AUTHORIZER_TIMEOUT,
      environment: { [ENV.tableName]: props.table.tableName, [ENV.kmsKeyId]: props.key.keyId },
      // The authorizer's cold start delays the first request of every caller; its faults are
      // logged with minified positions, and the uploaded source map still resolves them.
      sourceMappedStackTraces: false,
      logRetention,
      logRemovalPolicy,
    });
    for (const statement of authorizerStatements(data)) this.authorizerFunction.role.addToPrincipalPolicy(statement);

    const flushArn = `arn:${this.partition}:apigateway:${this.region}::/restapis/${this.api.restApiId}/stages/${stageName}/cache/authorizers`;
    const groupFunctions = {} as Record<FunctionGroup, LatchkeyFunction>;
    for (const group of FUNCTION_GROUPS) {
      const fn = new LatchkeyFunction(this, functionId(group), {
        entryName: group,
        description: `Latchkey ${group} routes`,
        memorySize: 512,
        timeout: Duration.seconds(10),
        environment,
        logRetention,
        logRemovalPolicy,
      });
      for (const statement of groupStatements(group, data)) fn.role.addToPrincipalPolicy(statement);
      groupFunctions[group] = fn;
    }
    this.groupFunctions = groupFunctions;
    this.revocationFlusher = new RevocationFlusher(this, 'RevocationFlusher', {
      table: props.table,
      restApiId: this.api.restApiId,
      stageName,
      flushArn,
      logRetention,
      logRemovalPolicy,
    });

    const authorizer = new RequestAuthorizer(this, 'RequestAuthorizer', {
      handler: this.authorizerFunction.function,
      // The cache key: both keys and the caller's address, so a cached Allow never serves another IP.
      identitySources: [
        IdentitySource.header(ACCOUNT_KEY_HEADER),
        IdentitySource.header(USER_KEY_HEADER),
        IdentitySource.context('identity.sourceIp'),
      ],
      resultsCacheTtl: Duration.seconds(props.authorizerCacheTtlSeconds ?? 300),
    });

    // API Gateway REST has no body-size setting (its payload limit is a fixed 10 MB): the handlers
    // refuse bodies over 16 KiB with 413. The validator checks that declared parameters are present.
    const validator = new RequestValidator(this, 'RequestValidator', {
      restApi: this.api,
      validateRequestParameters: true,
      validateRequestBody: false,
    });

    const integrations = new Map<FunctionGroup, LambdaIntegration>();
    for (const route of ROUTES) {
      let integration = integrations.get(route.group);
      if (integration === undefined) {
        // allowTestInvoke off: console test invocations would bypass the authorizer.
        integration = new LambdaIntegration(groupFunctions[route.group].function, { proxy: true, allowTestInvoke: false });
        integrations.set(route.group, integration);
      }
      const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '');
      resourceAt(this.api.root, route.path).addMethod(route.method, integration, {
        operationName: route.operationId,
        authorizationType: AuthorizationType.CUSTOM,
        authorizer,
        // The usage plans apply only to methods that require a key (the authorizer supplies it).
        apiKeyRequired: true,
        requestValidator: validator,
        requestParameters: Object.fromEntries(pathParameters.map((name) => [`method.request.path.${name}`, true])),
      });
    }

    const jsonMessage = { 'application/json': '{"message":$context.error.messageString}' };
    const jsonHeaders = { 'Content-Type': "'application/json'" };
    this.api.addGatewayResponse('Unauthorized', { type: ResponseType.UNAUTHORIZED, statusCode: '401', templates: jsonMessage, responseHeaders: jsonHeaders });
    this.api.addGatewayResponse('AccessDenied', { type: ResponseType.ACCESS_DENIED, statusCode: '403', templates: jsonMessage, responseHeaders: jsonHeaders });
    this.api.addGatewayResponse('Default4xx', { type: ResponseType.DEFAULT_4XX, templates: jsonMessage, responseHeaders: jsonHeaders });
    this.api.addGatewayResponse('Default5xx', { type: ResponseType.DEFAULT_5XX, templates: jsonMessage, responseHeaders: jsonHeaders });

    this.usageLimits = new UsageLimits(this, 'UsageLimits', {
      api: this.api,
      stageName,
      defaultPlan: props.defaultPlan ?? DEFAULT_PLAN,
      usageReaders: [groupFunctions.account.role],
      ...(props.waf === undefined ? {} : { waf: props.waf }),
      ...(props.wafRateLimit === undefined ? {} : { wafRateLimit: props.wafRateLimit }),
    });

    Validations.of(this.api).acknowledge(
      {
        id: 'AwsSolutions-APIG2',
        reason: 'Parameters are validated here; bodies are validated by the handlers against the shared schemas, so that a bad body is an RFC 9457 problem naming the field.',
      },
      {
        id: 'AwsSolutions-COG4',
        reason: 'Callers authenticate with account and user keys checked by the Lambda REQUEST authorizer, which is the product; there are no Cognito users.',
      },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason: 'The account-level API Gateway logging role needs exactly the AWS policy made for it.',
      },
    );

    // RestApi adds an unnamed `Endpoint` output; ApiUrl replaces it under a name docs/deploy.md can cite.
    this.api.node.tryRemoveChild('Endpoint');
    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the API (stage included)' });
    new CfnOutput(this, 'RestApiId', { value: this.api.restApiId });
    new CfnOutput(this, 'StageName', { value: stageName });
    new CfnOutput(this, 'TableName', { value: props.table.tableName, description: 'DynamoDB table (admin CLI: --table)' });
    new CfnOutput(this, 'KmsKeyId', { value: props.key.keyId, description: 'KMS key id (admin CLI: --kms-key-id)' });
    new CfnOutput(this, 'KmsKeyArn', { value: props.key.keyArn });
    new CfnOutput(this, 'Region', { value: this.region, description: 'admin CLI: --region' });
  }
}

/** Construct ids are part of the contract (they name the logical ids): `Fn` + the group in PascalCase. */
function functionId(group: FunctionGroup): string {
  return `Fn${group.replace(/(^|-)(\w)/g, (_m, _dash: string, letter: string) => letter.toUpperCase())}`;
}

/** The resource at `path`, creating each missing segment under the root. */
function resourceAt(root: IResource, path: string): IResource {
  let resource = root;
  for (const segment of path.split('/').filter((s) => s !== '')) {
    resource = resource.getResource(segment) ?? resource.addResource(segment);
  }
  return resource;
}

function accessLogFormat(): AccessLogFormat {
  // Ids, status and timings only: never headers, which carry the keys.
  return AccessLogFormat.custom(
    JSON.stringify({
      requestId: AccessLogField.contextRequestId(),
      extendedRequestId: AccessLogField.contextExtendedRequestId(),
      requestTime: AccessLogField.contextRequestTime(),
      sourceIp: AccessLogField.contextIdentitySourceIp(),
      userAgent: AccessLogField.contextIdentityUserAgent(),
      httpMethod: AccessLogField.contextHttpMethod(),
      resourcePath: AccessLogField.contextResourcePath(),
      path: AccessLogField.contextPath(),
      protocol: AccessLogField.contextProtocol(),
      status: AccessLogField.contextStatus(),
      responseLength: AccessLogField.contextResponseLength(),
      responseLatency: AccessLogField.contextResponseLatency(),
      integrationLatency: AccessLogField.contextIntegrationLatency(),
      errorMessage: AccessLogField.contextErrorMessage(),
      errorType: AccessLogField.contextErrorResponseType(),
      authorizerStatus: AccessLogField.contextAuthorizerStatus(),
      authorizerLatency: AccessLogField.contextAuthorizerLatency(),
      authorizerError: AccessLogField.contextAuthorizerError(),
      accountId: AccessLogField.contextAuthorizer('accountId'),
      userId: AccessLogField.contextAuthorizer('userId'),
      keyId: AccessLogField.contextAuthorizer('keyId'),
      role: AccessLogField.contextAuthorizer('role'),
      xrayTraceId: AccessLogField.contextXrayTraceId(),
    }),
  );
}
