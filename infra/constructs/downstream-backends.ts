import path from 'node:path';
import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { HttpIntegration, LambdaIntegration, type Integration } from 'aws-cdk-lib/aws-apigateway';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ACCOUNT_KEY_HEADER, USER_KEY_HEADER } from '#shared/authorization/decision.ts';
import { isLambdaBackend, routeName, RouteDeclarationError, type ResolvedDownstreamRoute } from '#shared/http/team-routes.ts';
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

export interface DownstreamBackendsProps {
  readonly routes: readonly ResolvedDownstreamRoute[];
  /** Integrations that replace declared backends, by route name. */
  readonly integrations: Readonly<Record<string, Integration>>;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly logRetention: RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
}

/**
 * The integration behind each of the team's routes: one function per handler (file and export)
 * for Lambda backends, an HTTP proxy integration for URL backends, or the integration the team
 * supplied for the route.
 */
export class DownstreamBackends extends Construct {
  private readonly integrationsByRoute = new Map<string, Integration>();
  private readonly functionsByRoute = new Map<string, LatchkeyFunction>();

  constructor(scope: Construct, id: string, props: DownstreamBackendsProps) {
    super(scope, id);
    const declared = new Set(props.routes.map(routeName));
    for (const name of Object.keys(props.integrations)) {
      if (!declared.has(name)) throw new RouteDeclarationError(`integrations['${name}'] names no declared route (routes: ${[...declared].join(', ') || 'none'})`);
    }

    const byHandler = new Map<string, { readonly fn: LatchkeyFunction; readonly integration: LambdaIntegration }>();
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
          // A Lambda proxy integration hands the function requestContext.authorizer.{accountId,userId,role,keyId}.
          made = { fn, integration: new LambdaIntegration(fn.function, { proxy: true, allowTestInvoke: false }) };
          byHandler.set(key, made);
        }
        this.integrationsByRoute.set(name, made.integration);
        this.functionsByRoute.set(name, made.fn);
      } else {
        this.integrationsByRoute.set(
          name,
          new HttpIntegration(backendUrl(backend.url, route.path), {
            proxy: true,
            httpMethod: route.method,
            options: { requestParameters: principalRequestParameters(route) },
          }),
        );
      }
    }
  }

  integrationOf(route: ResolvedDownstreamRoute): Integration {
    const integration = this.integrationsByRoute.get(routeName(route));
    if (integration === undefined) throw new Error(`no integration for ${routeName(route)}`);
    return integration;
  }

  functionOf(route: ResolvedDownstreamRoute): LatchkeyFunction | undefined {
    return this.functionsByRoute.get(routeName(route));
  }
}

/** A stable construct id from the handler's file (relative to the app) and export: `src/hello.ts` -> `SrcHello`. */
function handlerId(entry: string, handler: string): string {
  const relative = path.relative(process.cwd(), entry).replace(/\.[cm]?[jt]sx?$/, '');
  const words = [...relative.split(/[^A-Za-z0-9]+/), ...(handler === 'handler' ? [] : [handler])].filter((w) => w !== '' && w !== '..');
  return words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('') || 'Handler';
}
