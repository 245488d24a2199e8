import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
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
  type Integration,
  type IResource,
  type Method,
  type MethodDeploymentOptions,
} from 'aws-cdk-lib/aws-apigateway';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { EventBus } from 'aws-cdk-lib/aws-events';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ACCOUNT_KEY_HEADER, USER_KEY_HEADER } from '#shared/authorization/decision.ts';
import { resolveDownstreamRoutes, routeName, type DownstreamRoute, type ResolvedDownstreamRoute } from '#shared/http/team-routes.ts';
import { DEFAULT_PLAN, type Plan } from '#shared/domain/plan.ts';
import { PUBLIC_ROUTE_THROTTLE, ROUTES, type FunctionGroup, isPublicRoute } from '#shared/http/routes.ts';
import { isApiSwitchRoute } from '#shared/authorization/api-switch.ts';
import { ConsoleSite } from './console-site.ts';
import type { LatchkeyFunction } from './latchkey-function.ts';
import { DownstreamBackends } from './downstream-backends.ts';
import { UsageLimits } from './usage-limits.ts';
import type { RevocationFlusher } from './revocation-flusher.ts';
import type { TableSignals } from './table-signals.ts';
import { addLatchkeyFunctions } from './latchkey-functions.ts';

export { AUTHORIZER_TIMEOUT } from './latchkey-functions.ts';

export interface LatchkeyApiProps {
  /** The single table (LatchkeyData's, possibly from another stack). */
  readonly table: ITable;
  /** The KMS key protecting the pepper and the account keys (LatchkeyData's). */
  readonly key: IKey;
  /**
   * The team's own routes, each behind the same authorizer as the management routes. Checked at
   * synth: a malformed route, a duplicate or a collision with a management route throws a
   * RouteDeclarationError that names it.
   * @default - the management routes only
   */
  readonly routes?: readonly DownstreamRoute[];
  /**
   * API Gateway integrations that replace a declared route's backend on AWS, keyed by the route's
   * name (`'GET /v1/things/{id}'`), e.g. an HttpIntegration through a VPC link to a private
   * service. The declared backend still serves the route locally. Such an integration is used as
   * given: map the principal and strip the keys with `principalRequestParameters(route)`.
   * @default - every route uses its declared backend
   */
  readonly integrations?: Readonly<Record<string, Integration>>;
  /** @default Duration.seconds(10) */
  readonly backendTimeout?: Duration;
  /** @default 512 */
  readonly backendMemorySize?: number;
  /** @default 'prod' */
  readonly stageName?: string;
  /** @default `latchkey-<stageName>` */
  readonly restApiName?: string;
  /**
   * Seconds API Gateway caches an authorizer decision per (account key, user key, source IP);
   * 0 turns the cache off. Changes that narrow access flush it through the table's stream.
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
  /**
   * Requests per second for each route that needs no keys (leak reports), for all callers
   * together: whatever anyone sends there, the work it causes stays small.
   * @default 5 (PUBLIC_ROUTE_THROTTLE, which the local runtime applies too)
   */
  readonly publicRouteRateLimit?: number;
  /** @default 10 (PUBLIC_ROUTE_THROTTLE) */
  readonly publicRouteBurstLimit?: number;
  /** The plan of accounts without their own (API Gateway's default usage plan). @default DEFAULT_PLAN */
  readonly defaultPlan?: Plan;
  /** A WAF web ACL on the stage. @default true */
  readonly waf?: boolean;
  /** Requests per source address per 5 minutes before WAF blocks it. @default 2000 */
  readonly wafRateLimit?: number;
  /**
   * Where the leaked-keys function reads the public keys that sign GitHub's secret scanning
   * alerts (`LATCHKEY_GITHUB_KEYS_URL`), e.g. a list of your own to sign test alerts; an https URL.
   * @default GitHub's own, https://api.github.com/meta/public_keys/secret_scanning
   */
  readonly githubKeysUrl?: string;
}

/**
 * The API: a REST API whose management resources and methods come from ROUTES
 * (shared/http/routes.ts) and whose other resources come from the team's declared routes, every
 * method behind the one REQUEST authorizer.
 */
export class LatchkeyApi extends Construct {
  readonly api: RestApi;
  readonly authorizer: RequestAuthorizer;
  readonly authorizerFunction: LatchkeyFunction;
  readonly groupFunctions: Readonly<Record<FunctionGroup, LatchkeyFunction>>;
  /** The team's routes as validated, default roles filled in. */
  readonly routes: readonly ResolvedDownstreamRoute[];
  /** The function made for each Lambda-backed route, by route name (`'GET /v1/things'`); routes of one file share it. */
  readonly backendFunctions: Readonly<Record<string, LatchkeyFunction>>;
  readonly stageName: string;
  readonly usageLimits: UsageLimits;
  /** Flushes the authorizer cache after each narrowing change, from the table's stream. */
  readonly revocationFlusher: RevocationFlusher;
  /**
   * From the table's stream, on the one mapping beside the flusher's: audits each key DynamoDB's
   * TTL removed and frees its place on its holder, and puts every audit event on `eventBus`.
   */
  readonly tableSignals: TableSignals;
  /** The bus every audit event is put on (`Source` `latchkey`, `DetailType` the action): give a team's rules this bus. */
  readonly eventBus: EventBus;

  constructor(scope: Construct, id: string, props: LatchkeyApiProps) {
    super(scope, id);
    // Before any resource: a declaration that cannot be served stops synthesis with its name.
    this.routes = resolveDownstreamRoutes(props.routes ?? []);
    const stageName = props.stageName ?? 'prod';
    this.stageName = stageName;
    const logRemovalPolicy = props.logRemovalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;
    const data = { table: props.table, key: props.key };

    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: logRetention, removalPolicy: logRemovalPolicy });
    this.api = new RestApi(this, 'Api', {
      restApiName: props.restApiName ?? `latchkey-${stageName}`,
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
        methodOptions: publicMethodThrottling(props),
      },
    });

    const functions = addLatchkeyFunctions(this, {
      ...data,
      routes: this.routes,
      // A RestApi does not depend on its methods, so its id can reach the functions without a cycle.
      stage: { flavor: 'rest', restApiId: this.api.restApiId, stageName },
      maxKeysPerUser: props.maxKeysPerUser ?? 10,
      maxRulesPerKey: props.maxRulesPerKey ?? 20,
      auditRetentionDays: props.auditRetentionDays ?? 365,
      defaultPlan: props.defaultPlan ?? DEFAULT_PLAN,
      logRetention,
      logRemovalPolicy,
      githubKeysUrl: props.githubKeysUrl,
    });
    this.authorizerFunction = functions.authorizerFunction;
    const groupFunctions = functions.groupFunctions;
    this.groupFunctions = groupFunctions;
    this.revocationFlusher = functions.revocationFlusher;
    this.tableSignals = functions.tableSignals;
    this.eventBus = this.tableSignals.eventBus;

    const authorizerProps = {
      handler: this.authorizerFunction.function,
      // The cache key: both keys and the caller's address, so a cached Allow never serves another IP.
      identitySources: [
        IdentitySource.header(ACCOUNT_KEY_HEADER),
        IdentitySource.header(USER_KEY_HEADER),
        IdentitySource.context('identity.sourceIp'),
      ],
      resultsCacheTtl: Duration.seconds(props.authorizerCacheTtlSeconds ?? 300),
    };
    this.authorizer = new RequestAuthorizer(this, 'RequestAuthorizer', authorizerProps);
    // The same function for the API switch's routes, with a cache of its own (shared/authorization/api-switch.ts).
    const apiSwitchAuthorizer = new RequestAuthorizer(this, 'ApiSwitchAuthorizer', authorizerProps);

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
      if (isPublicRoute(route)) {
        // No keys: no authorizer, and no usage-plan key either (it would come from the authorizer);
        // the method's own throttle (publicMethodThrottling) bounds it instead.
        const method = resourceAt(this.api.root, route.path).addMethod(route.method, integration, {
          operationName: route.operationId,
          authorizationType: AuthorizationType.NONE,
          requestValidator: validator,
          requestParameters: pathParameterRequirements(route.path),
          apiKeyRequired: false,
        });
        acknowledgePublicMethod(method);
        continue;
      }
      resourceAt(this.api.root, route.path).addMethod(route.method, integration, {
        operationName: route.operationId,
        authorizationType: AuthorizationType.CUSTOM,
        authorizer: isApiSwitchRoute(route) ? apiSwitchAuthorizer : this.authorizer,
        requestValidator: validator,
        requestParameters: pathParameterRequirements(route.path),
        // The usage plans apply only to methods that require a key (the authorizer supplies it).
        apiKeyRequired: true,
      });
    }

    const backends = new DownstreamBackends(this, 'Backends', {
      routes: this.routes,
      integrations: props.integrations ?? {},
      timeout: props.backendTimeout ?? Duration.seconds(10),
      memorySize: props.backendMemorySize ?? 512,
      logRetention,
      logRemovalPolicy,
    });
    for (const route of this.routes) {
      resourceAt(this.api.root, route.path).addMethod(route.method, backends.integrationOf(route), {
        authorizationType: AuthorizationType.CUSTOM,
        authorizer: this.authorizer,
        requestValidator: validator,
        requestParameters: pathParameterRequirements(route.path),
        // The usage plans apply only to methods that require a key (the authorizer supplies it).
        apiKeyRequired: true,
      });
    }
    this.backendFunctions = Object.fromEntries(
      this.routes.flatMap((route) => {
        const fn = backends.functionOf(route);
        return fn === undefined ? [] : [[routeName(route), fn]];
      }),
    );

    // The console, on the API's origin (public methods; see the construct).
    new ConsoleSite(this, 'Console', { api: this.api, logRetention, logRemovalPolicy });

    this.usageLimits = new UsageLimits(this, 'UsageLimits', {
      api: this.api,
      stageName,
      defaultPlan: props.defaultPlan ?? DEFAULT_PLAN,
      usageReaders: [groupFunctions.account.role],
      ...(props.waf === undefined ? {} : { waf: props.waf }),
      ...(props.wafRateLimit === undefined ? {} : { wafRateLimit: props.wafRateLimit }),
      // WAF's rate rule for the leak route is derived from the route's own throttle, so the two cannot drift apart.
      ...(props.publicRouteRateLimit === undefined ? {} : { publicRouteRateLimit: props.publicRouteRateLimit }),
    });

    const jsonMessage = { 'application/json': '{"message":$context.error.messageString}' };
    const jsonHeaders = { 'Content-Type': "'application/json'" };
    this.api.addGatewayResponse('Unauthorized', { type: ResponseType.UNAUTHORIZED, statusCode: '401', templates: jsonMessage, responseHeaders: jsonHeaders });
    this.api.addGatewayResponse('AccessDenied', { type: ResponseType.ACCESS_DENIED, statusCode: '403', templates: jsonMessage, responseHeaders: jsonHeaders });
    this.api.addGatewayResponse('Default4xx', { type: ResponseType.DEFAULT_4XX, templates: jsonMessage, responseHeaders: jsonHeaders });
    this.api.addGatewayResponse('Default5xx', { type: ResponseType.DEFAULT_5XX, templates: jsonMessage, responseHeaders: jsonHeaders });

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
    // RestApi adds an unnamed `Endpoint` output; the stacks name their own.
    this.api.node.tryRemoveChild('Endpoint');
  }
}

/** Method-level throttling for the routes without keys (`/<path>/<METHOD>`, as API Gateway names a method). */
function publicMethodThrottling(props: LatchkeyApiProps): Record<string, MethodDeploymentOptions> {
  return Object.fromEntries(
    ROUTES.filter(isPublicRoute).map((route) => [
      `${route.path}/${route.method}`,
      {
        throttlingRateLimit: props.publicRouteRateLimit ?? PUBLIC_ROUTE_THROTTLE.rateLimit,
        throttlingBurstLimit: props.publicRouteBurstLimit ?? PUBLIC_ROUTE_THROTTLE.burstLimit,
        // As on the stage: the body carries keys, so data trace stays off.
        dataTraceEnabled: false,
        loggingLevel: MethodLoggingLevel.INFO,
        metricsEnabled: true,
      },
    ]),
  );
}

function acknowledgePublicMethod(method: Method): void {
  Validations.of(method).acknowledge(
    {
      id: 'AwsSolutions-APIG4',
      reason: 'Leak reports come from whoever found a key, who holds none; the route answers the same to everyone, bounds its work per request and is throttled on its own.',
    },
    {
      id: 'AwsSolutions-COG4',
      reason: 'Leak reports come from whoever found a key: no user pool can know them.',
    },
  );
}

/** Every `{name}` and `{name+}` of a path, as required method parameters. */
function pathParameterRequirements(path: string): Record<string, boolean> {
  return Object.fromEntries([...path.matchAll(/\{(\w+)\+?\}/g)].map((m) => [`method.request.path.${m[1] ?? ''}`, true]));
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
