import { rmSync } from 'node:fs';
import { Stack, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, configFromContext } from '#infra/config.ts';
import { underscoreSpellings } from '#infra/constructs/http-backends.ts';
import { Latchkey, type LatchkeyProps } from '#infra/constructs/latchkey.ts';
import { addConfiguredStacks, addLatchkeyStacks, addNagChecks, type LatchkeyHttpStacks } from '#infra/latchkey.ts';
import { isApiSwitchRoute } from '#shared/authorization/api-switch.ts';
import { FUNCTION_GROUPS, ROUTES, isPublicRoute } from '#shared/http/routes.ts';
import type { DownstreamRoute } from '#shared/http/team-routes.ts';
import { logicalIdOf, newApp, TEST_ENV, type CfnResource } from './cdk-app.ts';

interface Statement {
  readonly Action: string | readonly string[];
  readonly Effect: string;
  readonly Resource: unknown;
}

const resourcesOf = (template: Template, type: string): Record<string, CfnResource> => template.findResources(type) as Record<string, CfnResource>;

/** The statements of every inline policy attached to the role. */
function statementsOfRole(template: Template, roleLogicalId: string): Statement[] {
  return Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: roleLogicalId }]))
    .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

const actionsOf = (statement: Statement): string[] => ([] as string[]).concat(statement.Action);

/** Every route of the HTTP API by its route key (`GET /v1/whoami`). */
function routesByKey(template: Template): Map<string, Record<string, unknown>> {
  return new Map(Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Route')).map((route) => [route.Properties.RouteKey as string, route.Properties]));
}

/** The integration a route targets (`integrations/<Ref>`). */
function integrationOf(template: Template, route: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const target = JSON.stringify(route?.Target);
  const id = /"Ref":"([^"]+)"/.exec(target)?.[1];
  return id === undefined ? undefined : resourcesOf(template, 'AWS::ApiGatewayV2::Integration')[id]?.Properties;
}

const CONSOLE_ROUTES = ['GET /', 'GET /console', 'GET /console/{asset}', 'GET /favicon.ico'];
const IDENTITY_SOURCES = ['$request.header.x-api-key', '$request.header.x-api-secret-key', '$context.identity.sourceIp'];

describe('HTTP API flavor: this repository\'s stacks (-c flavor=http)', () => {
  let template: Template;
  let stacks: LatchkeyHttpStacks;
  let apiId: string;
  let cleanup: () => void;

  beforeAll(() => {
    const { app, outdir } = newApp({ flavor: 'http' });
    cleanup = () => {
      rmSync(outdir, { recursive: true, force: true });
    };
    const built = addConfiguredStacks(app, configFromContext(app.node), TEST_ENV);
    if (!('latchkey' in built.api) || !('apiId' in built.api.latchkey.api)) throw new Error('flavor http did not build the HTTP API stack');
    stacks = built as LatchkeyHttpStacks;
    // Every finding of the AWS Solutions and Serverless packs fails synthesis, as in `cdk synth`.
    addNagChecks(app);
    app.synth();
    template = Template.fromStack(stacks.api);
    apiId = logicalIdOf(stacks.api.latchkey.api.node.defaultChild as CfnElement);
  }, 120_000);
  afterAll(() => {
    cleanup();
  });

  const functionId = (group: (typeof FUNCTION_GROUPS)[number]): string => logicalIdOf(stacks.api.latchkey.groupFunctions[group].function.node.defaultChild as CfnElement);

  it('is an HTTP API with no REST API, no usage plan and no WAF web ACL', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    for (const type of ['AWS::ApiGateway::RestApi', 'AWS::ApiGateway::UsagePlan', 'AWS::ApiGateway::ApiKey', 'AWS::WAFv2::WebACL', 'AWS::WAFv2::WebACLAssociation']) {
      template.resourceCountIs(type, 0);
    }
  });

  it('has exactly the routes of ROUTES and the console, no more, no fewer', () => {
    expect([...routesByKey(template).keys()].sort()).toEqual([...ROUTES.map((r) => `${r.method} ${r.path}`), ...CONSOLE_ROUTES].sort());
  });

  it('puts every keyed route behind the REQUEST authorizer (the API switch routes behind their own), and leaves the leak routes and the console public', () => {
    const mainId = logicalIdOf(stacks.api.latchkey.authorizer.node.defaultChild as CfnElement);
    const switchId = logicalIdOf(stacks.api.latchkey.apiSwitchAuthorizer.node.defaultChild as CfnElement);
    expect(mainId).not.toBe(switchId);
    const routes = routesByKey(template);
    for (const route of ROUTES) {
      const expected = isPublicRoute(route)
        ? { AuthorizationType: 'NONE' }
        : { AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: isApiSwitchRoute(route) ? switchId : mainId } };
      expect(routes.get(`${route.method} ${route.path}`), `${route.method} ${route.path}`).toMatchObject(expected);
      if (isPublicRoute(route)) expect(routes.get(`${route.method} ${route.path}`)?.AuthorizerId).toBeUndefined();
    }
    for (const key of CONSOLE_ROUTES) expect(routes.get(key), key).toMatchObject({ AuthorizationType: 'NONE' });
  });

  it('sends every management route to its group function with payload format 2.0', () => {
    const routes = routesByKey(template);
    for (const route of ROUTES) {
      const integration = integrationOf(template, routes.get(`${route.method} ${route.path}`));
      expect(integration, `${route.method} ${route.path}`).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: { 'Fn::GetAtt': [functionId(route.group), 'Arn'] },
      });
    }
  });

  it('has two Lambda REQUEST authorizers of payload 2.0 answering IAM policies, cached 300 s on both key headers and the source IP', () => {
    const authorizers = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Authorizer'));
    expect(authorizers).toHaveLength(2);
    const authorizerFunction = logicalIdOf(stacks.api.latchkey.authorizerFunction.function.node.defaultChild as CfnElement);
    for (const authorizer of authorizers) {
      expect(authorizer.Properties).toMatchObject({
        AuthorizerType: 'REQUEST',
        AuthorizerPayloadFormatVersion: '2.0',
        EnableSimpleResponses: false,
        IdentitySource: IDENTITY_SOURCES,
        AuthorizerResultTtlInSeconds: 300,
      });
      expect(JSON.stringify(authorizer.Properties.AuthorizerUri)).toContain(JSON.stringify({ 'Fn::GetAtt': [authorizerFunction, 'Arn'] }));
    }
  });

  it('lets API Gateway invoke the authorizer function only as one of this API\'s two authorizers', () => {
    const authorizerFunction = logicalIdOf(stacks.api.latchkey.authorizerFunction.function.node.defaultChild as CfnElement);
    const permissions = Object.values(resourcesOf(template, 'AWS::Lambda::Permission')).filter(
      (p) => JSON.stringify(p.Properties.FunctionName) === JSON.stringify({ 'Fn::GetAtt': [authorizerFunction, 'Arn'] }),
    );
    expect(permissions).toHaveLength(2);
    for (const [index, authorizer] of [stacks.api.latchkey.authorizer, stacks.api.latchkey.apiSwitchAuthorizer].entries()) {
      const sourceArn = JSON.stringify(permissions[index]?.Properties.SourceArn);
      expect(sourceArn).toContain(JSON.stringify({ Ref: apiId }));
      expect(sourceArn).toContain(`/authorizers/",{"Ref":"${logicalIdOf(authorizer.node.defaultChild as CfnElement)}"`);
    }
  });

  it('throttles the stage, the leak routes on their own (5 a second, burst 10, for all callers together), and writes JSON access logs without headers', () => {
    const stage = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Stage'));
    expect(stage).toHaveLength(1);
    const properties = stage[0]?.Properties ?? {};
    expect(properties).toMatchObject({
      StageName: 'prod',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100, DetailedMetricsEnabled: true },
    });
    const publicKeys = ROUTES.filter(isPublicRoute).map((route) => `${route.method} ${route.path}`);
    expect(publicKeys).toEqual(expect.arrayContaining(['POST /v1/leaked-keys', 'POST /v1/leaked-keys/github']));
    expect(properties.RouteSettings).toEqual(
      Object.fromEntries(publicKeys.map((key) => [key, { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10, DetailedMetricsEnabled: true }])),
    );
    const logSettings = properties.AccessLogSettings as { DestinationArn: unknown; Format: string };
    const logGroupId = (logSettings.DestinationArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    expect(resourcesOf(template, 'AWS::Logs::LogGroup')[logGroupId]?.Properties).toEqual({ RetentionInDays: 30 });
    const format = JSON.parse(logSettings.Format) as Record<string, string>;
    expect(format).toMatchObject({ requestId: '$context.requestId', sourceIp: '$context.identity.sourceIp', status: '$context.status', accountId: '$context.authorizer.accountId' });
    // The keys travel in headers: an access log line must never contain one.
    expect(Object.values(format).some((field) => field.includes('header'))).toBe(false);
  });

  it('lets the revocation flusher reset exactly this stage\'s authorizer cache, and tells it the HTTP API and the stage', () => {
    const flusher = stacks.api.latchkey.revocationFlusher.flusher;
    const statements = statementsOfRole(template, logicalIdOf(flusher.role.node.defaultChild as CfnElement));
    expect(statements.filter((s) => actionsOf(s).some((a) => a.startsWith('apigateway:')))).toEqual([
      {
        Action: 'apigateway:DELETE',
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':apigateway:eu-west-1::/apis/', { Ref: apiId }, '/stages/prod/cache/authorizers']] },
      },
    ]);
    const fn = resourcesOf(template, 'AWS::Lambda::Function')[logicalIdOf(flusher.function.node.defaultChild as CfnElement)];
    const variables = (fn?.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables).toMatchObject({ LATCHKEY_API_FLAVOR: 'http', LATCHKEY_HTTP_API_ID: { Ref: apiId }, LATCHKEY_STAGE_NAME: 'prod' });
    expect(variables).not.toHaveProperty('LATCHKEY_REST_API_ID');
  });

  it('gives no other role any API Gateway permission: no usage to read, no cache to flush', () => {
    const flusherRole = logicalIdOf(stacks.api.latchkey.revocationFlusher.flusher.role.node.defaultChild as CfnElement);
    const others = Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties.Roles) !== JSON.stringify([{ Ref: flusherRole }]))
      .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    expect(others.flatMap(actionsOf).filter((a) => a.startsWith('apigateway:'))).toEqual([]);
  });

  it('tells every route function the flavor (the usage route answers enforced: false from it) and the HTTP API, and never a REST API id', () => {
    for (const group of FUNCTION_GROUPS) {
      const fn = resourcesOf(template, 'AWS::Lambda::Function')[functionId(group)];
      const variables = (fn?.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(variables, group).toMatchObject({ LATCHKEY_API_FLAVOR: 'http', LATCHKEY_HTTP_API_ID: { Ref: apiId }, LATCHKEY_STAGE_NAME: 'prod', LATCHKEY_RATE_LIMIT: '50' });
      expect(variables, group).not.toHaveProperty('LATCHKEY_REST_API_ID');
    }
  });

  it('outputs the API URL, the HTTP API id and the stage, under the REST flavor\'s stack name', () => {
    expect(stacks.api.stackName).toBe('LatchkeyApi');
    template.hasOutput('ApiUrl', { Value: { 'Fn::Join': ['', Match.arrayWith([{ Ref: apiId }, '/prod/'])] } });
    template.hasOutput('HttpApiId', { Value: { Ref: apiId } });
    template.hasOutput('StageName', { Value: 'prod' });
    expect(Object.keys(template.findOutputs('*'))).not.toContain('RestApiId');
  });

  it('takes the cache TTL, throttles and stage from context as REST does', () => {
    const { app, outdir } = newApp({ flavor: 'http', authorizerCacheTtl: '0', stage: 'staging', throttleRate: '20', throttleBurst: '40' });
    try {
      const built = addConfiguredStacks(app, configFromContext(app.node), TEST_ENV);
      const custom = Template.fromStack(built.api);
      for (const authorizer of Object.values(resourcesOf(custom, 'AWS::ApiGatewayV2::Authorizer'))) {
        expect(authorizer.Properties).toMatchObject({ AuthorizerResultTtlInSeconds: 0, IdentitySource: IDENTITY_SOURCES });
      }
      custom.hasResourceProperties('AWS::ApiGatewayV2::Stage', { StageName: 'staging', DefaultRouteSettings: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 } });
      expect(JSON.stringify(custom.findResources('AWS::IAM::Policy'))).toContain('/stages/staging/cache/authorizers');
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('HTTP API flavor: configuration', () => {
  const context = (values: Record<string, unknown>) => ({ tryGetContext: (key: string): unknown => values[key] });

  it('defaults to REST, takes http, refuses anything else by name', () => {
    expect(configFromContext(context({})).flavor).toBe('rest');
    expect(configFromContext(context({ flavor: 'http' })).flavor).toBe('http');
    expect(() => configFromContext(context({ flavor: 'websocket' }))).toThrow(/flavor must be one of rest, http \(got "websocket"\)/);
  });

  it('turns the WAF off in the HTTP flavor, and refuses an explicit waf=true there', () => {
    expect(configFromContext(context({ flavor: 'http' })).waf).toBe(false);
    expect(configFromContext(context({ flavor: 'http', waf: 'false' })).waf).toBe(false);
    expect(() => configFromContext(context({ flavor: 'http', waf: 'true' }))).toThrow(ConfigError);
    expect(() => configFromContext(context({ flavor: 'http', waf: 'true' }))).toThrow(/waf=true needs flavor=rest/);
  });

  it('keeps the REST stacks builder to the REST flavor', () => {
    const { app, outdir } = newApp({ flavor: 'http' });
    try {
      expect(() => addLatchkeyStacks(app, configFromContext(app.node), TEST_ENV)).toThrow(/REST flavor/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

const THINGS = 'test/infra/fixtures/things.ts';
const TEAM_ROUTES: readonly DownstreamRoute[] = [
  { method: 'GET', path: '/v1/things', backend: { lambda: THINGS } },
  { method: 'DELETE', path: '/v1/things/{thingId}', backend: { lambda: THINGS, handler: 'remove' } },
  { method: 'GET', path: '/v1/orders/{orderId}', roles: ['owner', 'viewer', 'logs-viewer'], backend: { url: 'https://orders.internal.example.com/base/' } },
  { method: 'POST', path: '/v1/files/{proxy+}', backend: { url: 'http://files.example.com' } },
];

describe('HTTP API flavor: the Latchkey construct with a team\'s routes (cdk-nag clean)', () => {
  let template: Template;
  let latchkey: Latchkey;
  let cleanup: () => void;

  beforeAll(() => {
    const { app, outdir } = newApp();
    cleanup = () => {
      rmSync(outdir, { recursive: true, force: true });
    };
    const stack = new Stack(app, 'TeamApi', { env: TEST_ENV });
    latchkey = new Latchkey(stack, 'Latchkey', { flavor: 'http', routes: TEAM_ROUTES, githubKeysUrl: 'https://keys.example.com/secret_scanning' });
    addNagChecks(app);
    app.synth();
    template = Template.fromStack(stack);
  }, 120_000);
  afterAll(() => {
    cleanup();
  });

  it('is an HTTP API without usage plans or WAF, its routes behind the key authorizer', () => {
    expect('apiId' in latchkey.api).toBe(true);
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.resourceCountIs('AWS::ApiGateway::RestApi', 0);
    template.resourceCountIs('AWS::ApiGateway::UsagePlan', 0);
    template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    const mainId = logicalIdOf(latchkey.gateway.authorizer.node.defaultChild as CfnElement);
    const routes = routesByKey(template);
    for (const route of TEAM_ROUTES) {
      expect(routes.get(`${route.method} ${route.path}`), `${route.method} ${route.path}`).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: mainId } });
    }
  });

  it('gives the team\'s Lambda backends payload format 2.0, one function per handler', () => {
    const routes = routesByKey(template);
    const things = integrationOf(template, routes.get('GET /v1/things'));
    const remove = integrationOf(template, routes.get('DELETE /v1/things/{thingId}'));
    expect(things).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
    expect(remove).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
    expect(things?.IntegrationUri).not.toEqual(remove?.IntegrationUri);
    expect(Object.keys(latchkey.backendFunctions).sort()).toEqual(['DELETE /v1/things/{thingId}', 'GET /v1/things']);
  });

  it('sends HTTP backends the principal from the authorizer and neither key, whatever the client sent', () => {
    const routes = routesByKey(template);
    const orders = integrationOf(template, routes.get('GET /v1/orders/{orderId}'));
    expect(orders).toMatchObject({
      IntegrationType: 'HTTP_PROXY',
      IntegrationMethod: 'GET',
      IntegrationUri: 'https://orders.internal.example.com/base/v1/orders/{orderId}',
    });
    const parameters = orders?.RequestParameters as Record<string, string>;
    expect(parameters).toMatchObject({
      'remove:header.x-api-key': '',
      'remove:header.x-api-secret-key': '',
      // Overwrite replaces a header the client sent under the same name (names compare case-insensitively).
      'overwrite:header.x-latchkey-account-id': '$context.authorizer.accountId',
      'overwrite:header.x-latchkey-user-id': '$context.authorizer.userId',
      'overwrite:header.x-latchkey-role': '$context.authorizer.role',
      'overwrite:header.x-latchkey-key-id': '$context.authorizer.keyId',
      // The spellings a CGI-style server reads as the same header.
      'remove:header.x_api_key': '',
      'remove:header.x_latchkey_role': '',
      'remove:header.x-latchkey_account_id': '',
    });
    const files = integrationOf(template, routes.get('POST /v1/files/{proxy+}'));
    expect(files).toMatchObject({ IntegrationType: 'HTTP_PROXY', IntegrationMethod: 'POST', IntegrationUri: 'http://files.example.com/v1/files/{proxy}', RequestParameters: parameters });
  });

  it('passes the settings every flavor shares through to the functions (here GitHub\'s keys URL)', () => {
    const leakedKeys = logicalIdOf(latchkey.gateway.groupFunctions['leaked-keys'].function.node.defaultChild as CfnElement);
    const variables = (resourcesOf(template, 'AWS::Lambda::Function')[leakedKeys]?.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables).toMatchObject({ LATCHKEY_GITHUB_KEYS_URL: 'https://keys.example.com/secret_scanning', LATCHKEY_API_FLAVOR: 'http' });
  });

  it('outputs the HTTP API id in place of the REST API id', () => {
    const outputs = Object.keys(template.findOutputs('*'));
    expect(outputs.some((id) => id.startsWith('LatchkeyHttpApiId'))).toBe(true);
    expect(outputs.some((id) => id.startsWith('LatchkeyRestApiId'))).toBe(false);
  });

  it.each<[string, LatchkeyProps, RegExp]>([
    ['a WAF', { flavor: 'http', waf: true }, /waf needs flavor 'rest'/],
    ['REST integrations', { flavor: 'http', integrations: {} }, /with flavor 'http' pass httpIntegrations/],
    ['HTTP integrations on REST', { httpIntegrations: {} }, /httpIntegrations are the HTTP flavor's/],
  ])('refuses %s by name rather than dropping it', (_name, props, message) => {
    const { app, outdir } = newApp();
    try {
      expect(() => new Latchkey(new Stack(app, 'TeamApi', { env: TEST_ENV }), 'Latchkey', props)).toThrow(message);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('underscoreSpellings', () => {
  it('lists every spelling with some dashes as underscores, not the dash form', () => {
    expect(underscoreSpellings('x-latchkey-role').sort()).toEqual(['x-latchkey_role', 'x_latchkey-role', 'x_latchkey_role']);
    expect(underscoreSpellings('x-api-secret-key')).toHaveLength(7);
    expect(underscoreSpellings('x-api-secret-key')).not.toContain('x-api-secret-key');
  });
});
