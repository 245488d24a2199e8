import path from 'node:path';
import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { HttpIntegration, LambdaIntegration, type Integration } from 'aws-cdk-lib/aws-apigateway';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ACCOUNT_KEY_HEADER, USER_KEY_HEADER } from '#shared/authorization/decision.ts';
import { isLambdaBackend, routeName, RouteDeclarationError, type HttpBackend, type ResolvedDownstreamRoute } from '#shared/http/team-routes.ts';
import { PRINCIPAL_HEADERS } from '#shared/http/team-routes.ts';
import { LatchkeyFunction } from './latchkey-function.ts';

export { PRINCIPAL_HEADERS };

/**
 * What an HTTP backend receives in place of the key headers. API Gateway REST cannot delete a
 * header a client sent, but a mapping of the same name replaces its value.
 */
export const STRIPPED_KEY_VALUE = 'stripped';

/**
 * The integration request parameters of an HTTP route: its path parameters, the principal from
 * the authorizer's context, and both key headers overwritten. A mapped header replaces the
 * client's header of that name (names compare case-insensitively), so a client can neither
 * pose as another principal nor have its keys reach the backend.
 */
export function principalRequestParameters(route: { readonly path: string }): Record<string, string> {
  const parameters: Record<string, string> = {};
  for (const match of route.path.matchAll(/\{(\w+)\+?\}/g)) {
    const name = match[1] ?? '';
    parameters[`integration.request.path.${name}`] = `method.request.path.${name}`;
  }
  for (const [field, header] of Object.entries(PRINCIPAL_HEADERS)) {
    parameters[`integration.request.header.${header}`] = `context.authorizer.${field}`;
  }
  for (const header of [ACCOUNT_KEY_HEADER, USER_KEY_HEADER]) {
    parameters[`integration.request.header.${header}`] = `'${STRIPPED_KEY_VALUE}'`;
  }
  return parameters;
}

/** `https://svc.example.com/base` + `/v1/files/{proxy+}` -> `https://svc.example.com/base/v1/files/{proxy}`. */
export function backendUrl(baseUrl: string, routePath: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${routePath.replace(/\{(\w+)\+\}/g, '{$1}')}`;
}

export interface DownstreamBackendsProps<I = Integration> {
  readonly routes: readonly ResolvedDownstreamRoute[];
  /** Integrations that replace declared backends, by route name. */
  readonly integrations: Readonly<Record<string, I>>;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly logRetention: RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
}

/** How one front door reaches a backend: a Lambda function of the team's, or its URL. */
export interface BackendIntegrationKind<I> {
  /** Made once per function, for every route of its handler. */
  lambda(fn: LatchkeyFunction): I;
  url(route: ResolvedDownstreamRoute, backend: HttpBackend): I;
}

/** API Gateway REST: Lambda proxy integrations, and HTTP proxy integrations that map the principal and overwrite the keys. */
const REST_BACKENDS: BackendIntegrationKind<Integration> = {
  // A Lambda proxy integration hands the function requestContext.authorizer.{accountId,userId,role,keyId}.
  lambda: (fn) => new LambdaIntegration(fn.function, { proxy: true, allowTestInvoke: false }),
  url: (route, backend) =>
    new HttpIntegration(backendUrl(backend.url, route.path), {
      proxy: true,
      httpMethod: route.method,
      options: { requestParameters: principalRequestParameters(route) },
    }),
};

/**
 * The integration behind each of the team's routes, of either front door: one function per
 * handler (file and export) for Lambda backends, an integration of the URL for URL backends, or
 * the integration the team supplied for the route.
 */
export class TeamBackends<I> extends Construct {
  private readonly integrationsByRoute = new Map<string, I>();
  private readonly functionsByRoute = new Map<string, LatchkeyFunction>();

  constructor(scope: Construct, id: string, props: DownstreamBackendsProps<I>, kind: BackendIntegrationKind<I>) {
    super(scope, id);
    const declared = new Set(props.routes.map(routeName));
    for (const name of Object.keys(props.integrations)) {
      if (!declared.has(name)) throw new RouteDeclarationError(`integrations['${name}'] names no declared route (routes: ${[...declared].join(', ') || 'none'})`);
    }

    const byHandler = new Map<string, { readonly fn: LatchkeyFunction; readonly integration: I }>();
    const handlerIds = new Map<string, string>();
    for (const route of props.routes) {
      const name = routeName(route);
      const supplied = props.integrations[name];
      if (supplied !== undefined) {
        this.integrationsByRoute.set(name, supplied);
        continue;
      }
      const { backend } = route;
      if (isLambdaBackend(backend)) {
        const entry = path.resolve(backend.lambda);
        const handler = backend.handler ?? 'handler';
        const key = `${entry}#${handler}`;
        let made = byHandler.get(key);
        if (made === undefined) {
          const id = handlerId(entry, handler);
          const twin = handlerIds.get(id);
          if (twin !== undefined) throw new RouteDeclarationError(`route ${name}: its handler ${backend.lambda} (${handler}) gets the same construct id as ${twin}; rename one file`);
          handlerIds.set(id, `${backend.lambda} (${handler})`);
          const fn = new LatchkeyFunction(this, id, {
            entryName: path.relative(process.cwd(), entry),
            entry,
            handler,
            description: `${name} and the other routes of ${path.basename(entry)} (${handler})`.slice(0, 256),
            memorySize: props.memorySize,
            timeout: props.timeout,
            logRetention: props.logRetention,
            logRemovalPolicy: props.logRemovalPolicy,
          });
          made = { fn, integration: kind.lambda(fn) };
          byHandler.set(key, made);
        }
        this.integrationsByRoute.set(name, made.integration);
        this.functionsByRoute.set(name, made.fn);
      } else {
        this.integrationsByRoute.set(name, kind.url(route, backend));
      }
    }
  }

  integrationOf(route: ResolvedDownstreamRoute): I {
    const integration = this.integrationsByRoute.get(routeName(route));
    if (integration === undefined) throw new Error(`no integration for ${routeName(route)}`);
    return integration;
  }

  functionOf(route: ResolvedDownstreamRoute): LatchkeyFunction | undefined {
    return this.functionsByRoute.get(routeName(route));
  }
}

/** The team's backends behind the REST API. */
export class DownstreamBackends extends TeamBackends<Integration> {
  constructor(scope: Construct, id: string, props: DownstreamBackendsProps) {
    super(scope, id, props, REST_BACKENDS);
  }
}

/** A stable construct id from the handler's file (relative to the app) and export: `src/hello.ts` -> `SrcHello`. */
function handlerId(entry: string, handler: string): string {
  const relative = path.relative(process.cwd(), entry).replace(/\.[cm]?[jt]sx?$/, '');
  const words = [...relative.split(/[^A-Za-z0-9]+/), ...(handler === 'handler' ? [] : [handler])].filter((w) => w !== '' && w !== '..');
  return words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('') || 'Handler';
}
