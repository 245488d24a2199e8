import path from 'node:path';
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AuthorizationType, LambdaIntegration, type IResource, type Method, RestApi } from 'aws-cdk-lib/aws-apigateway';
import { HttpMethod, HttpNoneAuthorizer, PayloadFormatVersion, type HttpApi, type HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IConstruct } from 'constructs';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CONSOLE_SOURCE, writeConsole } from '#infra/console/build.ts';
import { FAVICON_PATH } from '#shared/http/team-routes.ts';
import { LatchkeyFunction } from './latchkey-function.ts';

export interface ConsoleSiteProps {
  /** The API whose origin serves the console (same origin: no CORS, no second domain): REST, or an HTTP API. */
  readonly api: RestApi | HttpApi;
  readonly logRetention: RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * The console on the API's own origin: `GET /console` and `GET /console/{asset}` serve the
 * assets built from `console/` at synth time, `GET /` redirects a browser there and
 * `GET /favicon.ico` answers the icon browsers ask for on their own. These four methods are public (no authorizer): they serve the same static files to everyone, and
 * every request the console then makes carries the keys and meets the authorizer.
 */
export class ConsoleSite extends Construct {
  readonly function: LatchkeyFunction;
  /** The REST API's methods (none on an HTTP API). */
  readonly methods: readonly Method[];
  /** The HTTP API's routes (none on a REST API). */
  readonly routes: readonly HttpRoute[];

  constructor(scope: Construct, id: string, props: ConsoleSiteProps) {
    super(scope, id);
    const built = path.join(CONSOLE_SOURCE, 'out', 'site');
    writeConsole(built);
    this.function = new LatchkeyFunction(this, 'Function', {
      entryName: 'console',
      description: 'Latchkey console: static assets, no data access',
      memorySize: 256,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
      bundledDirectory: { from: built, to: 'console' },
    });
    if (props.api instanceof RestApi) {
      this.methods = restMethods(props.api, new LambdaIntegration(this.function.function, { proxy: true, allowTestInvoke: false }));
      this.routes = [];
    } else {
      const api = props.api;
      this.methods = [];
      // Payload 2.0, as every Lambda integration of the HTTP flavor.
      const integration = new HttpLambdaIntegration('ConsoleIntegration', this.function.function, { payloadFormatVersion: PayloadFormatVersion.VERSION_2_0 });
      this.routes = ['/', '/console', '/console/{asset}', FAVICON_PATH].flatMap((routePath) =>
        api.addRoutes({ path: routePath, methods: [HttpMethod.GET], integration, authorizer: new HttpNoneAuthorizer() }),
      );
    }
    for (const entry of [...this.methods, ...this.routes]) acknowledgePublic(entry);
  }
}

function restMethods(api: RestApi, integration: LambdaIntegration): Method[] {
  const publicMethod = { authorizationType: AuthorizationType.NONE };
  const root = api.root;
  const site: IResource = root.getResource('console') ?? root.addResource('console');
  return [
    root.addMethod('GET', integration, { ...publicMethod, operationName: 'consoleRedirect' }),
    site.addMethod('GET', integration, { ...publicMethod, operationName: 'consolePage' }),
    site.addResource('{asset}').addMethod('GET', integration, {
      ...publicMethod,
      operationName: 'consoleAsset',
      requestParameters: { 'method.request.path.asset': true },
    }),
    // Without it, every browser's own request for the icon met the gateway's 403.
    root.addResource(FAVICON_PATH.slice(1)).addMethod('GET', integration, { ...publicMethod, operationName: 'consoleIcon' }),
  ];
}

function acknowledgePublic(entry: IConstruct): void {
  Validations.of(entry).acknowledge(
    {
      id: 'AwsSolutions-APIG4',
      reason: 'The console page and its static assets are public by design (DESIGN 8: no keys needed to load it); every API call it makes is authorized.',
    },
    {
      id: 'AwsSolutions-COG4',
      reason: 'Public static console assets; the API routes use the key authorizer, not Cognito.',
    },
  );
}
