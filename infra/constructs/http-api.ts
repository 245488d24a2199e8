import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  AuthorizerPayloadVersion,
  HttpApi,
  HttpAuthorizer,
  HttpAuthorizerType,
  HttpNoneAuthorizer,
  HttpStage,
  LogGroupLogDestination,
  type CfnStage,
  type HttpRoute,
  type HttpRouteIntegration,
  type IHttpRouteAuthorizer,
} from 'aws-cdk-lib/aws-apigatewayv2';
import type { EventBus } from 'aws-cdk-lib/aws-events';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { isApiSwitchRoute } from '#shared/authorization/api-switch.ts';
import { ACCOUNT_KEY_HEADER, USER_KEY_HEADER } from '#shared/http/backend-headers.ts';
import { PUBLIC_ROUTE_THROTTLE, ROUTES, isPublicRoute, type FunctionGroup, type Route } from '#shared/http/routes.ts';
import { resolveDownstreamRoutes, routeName, type ResolvedDownstreamRoute } from '#shared/http/team-routes.ts';
import { DEFAULT_PLAN } from '#shared/domain/plan.ts';
import { ConsoleSite } from './console-site.ts';
import { TeamBackends } from './downstream-backends.ts';
import { HTTP_API_BACKENDS, httpMethodOf } from './http-backends.ts';
import type { LatchkeyApiProps } from './latchkey-api.ts';
import { addLatchkeyFunctions } from './latchkey-functions.ts';
import type { LatchkeyFunction } from './latchkey-function.ts';
import type { RevocationFlusher } from './revocation-flusher.ts';
import type { TableSignals } from './table-signals.ts';

/**
 * The identity sources of both authorizers, which are also their cache key: both keys and the
 * caller's address, so a cached Allow never serves another address. A request without either
 * header is refused 401 by API Gateway without calling the function.
 */
export const HTTP_API_IDENTITY_SOURCES = [`$request.header.${ACCOUNT_KEY_HEADER}`, `$request.header.${USER_KEY_HEADER}`, '$context.identity.sourceIp'] as const;

/** The settings the REST flavor has and this one has not: its integrations are REST's, and there is no WAF and no usage plan here. */
type RestOnlyProps = 'integrations' | 'restApiName' | 'waf' | 'wafRateLimit';

export interface LatchkeyHttpApiProps extends Omit<LatchkeyApiProps, RestOnlyProps> {
  /**
   * API Gateway V2 integrations that replace a declared route's backend on AWS, keyed by the
   * route's name (`'GET /v1/things/{id}'`). Such an integration is used as given: map the
   * principal and remove the keys with `principalParameterMapping()`.
   * @default - every route uses its declared backend
   */
  readonly integrations?: Readonly<Record<string, HttpRouteIntegration>>;
  /** @default `latchkey-<stageName>` */
  readonly httpApiName?: string;
}

/**
 * The same API on API Gateway's HTTP API (DESIGN 15): the management routes, the console, the
 * leak routes and the team's routes, the functions and the revocation flusher LatchkeyApi has,
 * behind the same authorizer function, called with payload format 2.0 and answering IAM
 * policies. What the flavor cannot do: usage plans (the default plan is shown by
 * `GET /v1/account/usage` with `enforced: false`, never enforced per account) and a WAF web ACL.
 */
export class LatchkeyHttpApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  /** Base URL of the stage, ending in `/`. */
  readonly url: string;
  readonly stageName: string;
  readonly authorizer: HttpAuthorizer;
  /** The API switch's routes' authorizer: the same function with a cache of its own (shared/authorization/api-switch.ts). */
  readonly apiSwitchAuthorizer: HttpAuthorizer;
  readonly authorizerFunction: LatchkeyFunction;
  readonly groupFunctions: Readonly<Record<FunctionGroup, LatchkeyFunction>>;
  /** The team's routes as validated, default roles filled in. */
  readonly routes: readonly ResolvedDownstreamRoute[];
  /** The function made for each Lambda-backed route, by route name (`'GET /v1/things'`); routes of one file share it. */
  readonly backendFunctions: Readonly<Record<string, LatchkeyFunction>>;
  /** Resets the stage's authorizer cache (ResetAuthorizersCache) after each narrowing change, from the table's stream. */
  readonly revocationFlusher: RevocationFlusher;
  readonly tableSignals: TableSignals;
  readonly eventBus: EventBus;

  constructor(scope: Construct, id: string, props: LatchkeyHttpApiProps) {
    super(scope, id);
    // Before any resource: a declaration that cannot be served stops synthesis with its name.
    this.routes = resolveDownstreamRoutes(props.routes ?? []);
    const stack = Stack.of(this);
    const stageName = props.stageName ?? 'prod';
    this.stageName = stageName;
    const logRemovalPolicy = props.logRemovalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;

    this.api = new HttpApi(this, 'Api', {
      apiName: props.httpApiName ?? `latchkey-${stageName}`,
      description: 'Latchkey: account keys, user keys and CIDR allow lists (HTTP API)',
      // A named stage, as on REST, so that URLs keep their `/<stage>/` and the flusher names it.
      createDefaultStage: false,
    });
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: logRetention, removalPolicy: logRemovalPolicy });
    this.stage = new HttpStage(this, 'Stage', {
      httpApi: this.api,
      stageName,
      autoDeploy: true,
      detailedMetricsEnabled: true,
      throttle: { rateLimit: props.throttlingRateLimit ?? 50, burstLimit: props.throttlingBurstLimit ?? 100 },
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs), format: httpAccessLogFormat() },
    });
    // With the trailing slash, as the REST flavor's URL has it.
    this.url = `${this.stage.url}/`;

    const functions = addLatchkeyFunctions(this, {
      table: props.table,
      key: props.key,
      routes: this.routes,
      // An HttpApi does not depend on its routes, so its id reaches the functions without a cycle.
      stage: { flavor: 'http', httpApiId: this.api.apiId, stageName },
      maxKeysPerUser: props.maxKeysPerUser ?? 10,
      maxRulesPerKey: props.maxRulesPerKey ?? 20,
      auditRetentionDays: props.auditRetentionDays ?? 365,
      defaultPlan: props.defaultPlan ?? DEFAULT_PLAN,
      logRetention,
      logRemovalPolicy,
      githubKeysUrl: props.githubKeysUrl,
    });
    this.authorizerFunction = functions.authorizerFunction;
    this.groupFunctions = functions.groupFunctions;
    this.revocationFlusher = functions.revocationFlusher;
    this.tableSignals = functions.tableSignals;
    this.eventBus = this.tableSignals.eventBus;

    const authorizerFunction = this.authorizerFunction.function;
    const makeAuthorizer = (authorizerId: string): HttpAuthorizer => {
      const authorizer = new HttpAuthorizer(this, authorizerId, {
        httpApi: this.api,
        authorizerName: authorizerId,
        type: HttpAuthorizerType.LAMBDA,
        identitySource: [...HTTP_API_IDENTITY_SOURCES],
        authorizerUri: `arn:${stack.partition}:apigateway:${stack.region}:lambda:path/2015-03-31/functions/${authorizerFunction.functionArn}/invocations`,
        // The event the authorizer reads on both flavors' terms (functions/authorizer.ts), and an
        // IAM policy back: it covers every route of the caller's role, so one cached answer serves them all.
        payloadFormatVersion: AuthorizerPayloadVersion.VERSION_2_0,
        enableSimpleResponses: false,
        resultsCacheTtl: Duration.seconds(props.authorizerCacheTtlSeconds ?? 300),
      });
      authorizerFunction.addPermission(`${authorizerId}Invoke`, {
        principal: new ServicePrincipal('apigateway.amazonaws.com'),
        sourceArn: stack.formatArn({ service: 'execute-api', resource: this.api.apiId, resourceName: `authorizers/${authorizer.authorizerId}` }),
      });
      return authorizer;
    };
    this.authorizer = makeAuthorizer('RequestAuthorizer');
    this.apiSwitchAuthorizer = makeAuthorizer('ApiSwitchAuthorizer');
    const main = routeAuthorizer(this.authorizer);
    const apiSwitch = routeAuthorizer(this.apiSwitchAuthorizer);

    const groupIntegrations = new Map<FunctionGroup, HttpRouteIntegration>();
    const publicRoutes: HttpRoute[] = [];
    for (const route of ROUTES as readonly Route[]) {
      let integration = groupIntegrations.get(route.group);
      if (integration === undefined) {
        integration = HTTP_API_BACKENDS.lambda(this.groupFunctions[route.group]);
        groupIntegrations.set(route.group, integration);
      }
      const publicRoute = isPublicRoute(route);
      const authorizer = publicRoute ? new HttpNoneAuthorizer() : isApiSwitchRoute(route) ? apiSwitch : main;
      const added = this.api.addRoutes({ path: route.path, methods: [httpMethodOf(route.method)], integration, authorizer });
      if (publicRoute) {
        publicRoutes.push(...added);
        for (const httpRoute of added) acknowledgePublicRoute(httpRoute);
      }
    }

    const backends = new TeamBackends<HttpRouteIntegration>(
      this,
      'Backends',
      {
        routes: this.routes,
        integrations: props.integrations ?? {},
        timeout: props.backendTimeout ?? Duration.seconds(10),
        memorySize: props.backendMemorySize ?? 512,
        logRetention,
        logRemovalPolicy,
      },
      HTTP_API_BACKENDS,
    );
    for (const route of this.routes) {
      this.api.addRoutes({ path: route.path, methods: [httpMethodOf(route.method)], integration: backends.integrationOf(route), authorizer: main });
    }
    this.backendFunctions = Object.fromEntries(
      this.routes.flatMap((route) => {
        const fn = backends.functionOf(route);
        return fn === undefined ? [] : [[routeName(route), fn]];
      }),
    );

    // The console, on the API's origin (public routes; see the construct).
    new ConsoleSite(this, 'Console', { api: this.api, logRetention, logRemovalPolicy });

    // The routes without keys get a throttle of their own, for all callers together, as REST's
    // method throttle: whatever anyone sends there, the work it causes stays small.
    const cfnStage = this.stage.node.defaultChild as CfnStage;
    cfnStage.routeSettings = Object.fromEntries(
      ROUTES.filter(isPublicRoute).map((route) => [
        `${route.method} ${route.path}`,
        // A JSON property: CloudFormation's RouteSettings member names, as DefaultRouteSettings renders.
        {
          ThrottlingRateLimit: props.publicRouteRateLimit ?? PUBLIC_ROUTE_THROTTLE.rateLimit,
          ThrottlingBurstLimit: props.publicRouteBurstLimit ?? PUBLIC_ROUTE_THROTTLE.burstLimit,
          DetailedMetricsEnabled: true,
        },
      ]),
    );
    // A route's settings name a route key that must exist when the stage is updated.
    for (const route of publicRoutes) this.stage.node.addDependency(route);
  }
}

/** Routes use the authorizer by its id (HttpLambdaAuthorizer would choose payload 1.0 for IAM answers). */
function routeAuthorizer(authorizer: HttpAuthorizer): IHttpRouteAuthorizer {
  return { bind: () => ({ authorizerId: authorizer.authorizerId, authorizationType: 'CUSTOM' }) };
}

function acknowledgePublicRoute(route: HttpRoute): void {
  Validations.of(route).acknowledge({
    id: 'AwsSolutions-APIG4',
    reason: 'Leak reports come from whoever found a key, who holds none; the route answers the same to everyone, bounds its work per request and is throttled on its own.',
  });
}

/** HTTP API's access log variables: ids, status and timings only, never headers, which carry the keys. */
export function httpAccessLogFormat(): AccessLogFormat {
  return AccessLogFormat.custom(
    JSON.stringify({
      requestId: '$context.requestId',
      extendedRequestId: '$context.extendedRequestId',
      requestTime: '$context.requestTime',
      sourceIp: '$context.identity.sourceIp',
      userAgent: '$context.identity.userAgent',
      httpMethod: '$context.httpMethod',
      routeKey: '$context.routeKey',
      path: '$context.path',
      protocol: '$context.protocol',
      status: '$context.status',
      responseLength: '$context.responseLength',
      responseLatency: '$context.responseLatency',
      integrationLatency: '$context.integrationLatency',
      integrationError: '$context.integrationErrorMessage',
      errorMessage: '$context.error.message',
      errorType: '$context.error.responseType',
      authorizerError: '$context.authorizer.error',
      accountId: '$context.authorizer.accountId',
      userId: '$context.authorizer.userId',
      keyId: '$context.authorizer.keyId',
      role: '$context.authorizer.role',
    }),
  );
}
