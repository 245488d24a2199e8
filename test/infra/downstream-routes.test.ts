import { rmSync } from 'node:fs';
import { Stack, type CfnElement } from 'aws-cdk-lib';
import { HttpIntegration } from 'aws-cdk-lib/aws-apigateway';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Latchkey, type LatchkeyProps } from '#infra/constructs/latchkey.ts';
import { addNagChecks } from '#infra/latchkey.ts';
import { logicalIdOf, methodAt, newApp, synthLatchkey, TEST_ENV, type CfnResource } from './cdk-app.ts';
import { RouteDeclarationError, resolveDownstreamRoutes, type DownstreamRoute } from '#shared/http/team-routes.ts';
import { grants, routePolicyEnvironment } from '#shared/authorization/route-policy.ts';

const THINGS = 'test/infra/fixtures/things.ts';

const ROUTES: readonly DownstreamRoute[] = [
  { method: 'GET', path: '/v1/things', backend: { lambda: THINGS } },
  { method: 'GET', path: '/v1/things/{thingId}', backend: { lambda: THINGS } },
  { method: 'DELETE', path: '/v1/things/{thingId}', backend: { lambda: THINGS, handler: 'remove' } },
  { method: 'GET', path: '/v1/orders/{orderId}', roles: ['owner', 'viewer', 'logs-viewer'], backend: { url: 'https://orders.internal.example.com/base/' } },
  { method: 'POST', path: '/v1/files/{proxy+}', backend: { url: 'http://files.example.com' } },
];

function synthTeamStack(props: LatchkeyProps, nag = false): { template: Template; latchkey: Latchkey; stack: Stack; cleanup: () => void } {
  const { app, outdir } = newApp();
  const stack = new Stack(app, 'TeamApi', { env: TEST_ENV });
  const latchkey = new Latchkey(stack, 'Latchkey', props);
  if (nag) addNagChecks(app);
  app.synth();
  return { template: Template.fromStack(stack), latchkey, stack, cleanup: () => {
      rmSync(outdir, { recursive: true, force: true });
    },
  };
}

describe('Latchkey construct: a team\'s routes', () => {
  let synth: ReturnType<typeof synthTeamStack>;
  let template: Template;
  let authorizerId: string;

  beforeAll(() => {
    synth = synthTeamStack({ routes: ROUTES });
    template = synth.template;
    authorizerId = logicalIdOf(synth.latchkey.gateway.authorizer.node.defaultChild as CfnElement);
  });
  afterAll(() => {
    synth.cleanup();
  });

  it('puts every declared route behind the one REQUEST authorizer', () => {
    for (const route of ROUTES) {
      expect(methodAt(template, route.method, route.path).Properties).toMatchObject({
        AuthorizationType: 'CUSTOM',
        AuthorizerId: { Ref: authorizerId },
      });
    }
  });

  it('outputs every value the admin CLI needs against the stack', () => {
    const outputs = template.findOutputs('*') as Record<string, { Value: unknown }>;
    const byName = (name: string): unknown => Object.entries(outputs).find(([id]) => id.startsWith(`Latchkey${name}`))?.[1].Value;
    const apiId = logicalIdOf(synth.latchkey.api.node.defaultChild as CfnElement);
    expect(byName('RestApiId')).toEqual({ Ref: apiId });
    expect(byName('StageName')).toBe('prod');
    for (const name of ['ApiUrl', 'TableName', 'KmsKeyId', 'Region']) expect(byName(name), name).toBeDefined();
  });

  it('gives the authorizer the role policy of exactly the declared routes', () => {
    const authorizerFn = logicalIdOf(synth.latchkey.gateway.authorizerFunction.function.node.defaultChild as CfnElement);
    const fn = (template.findResources('AWS::Lambda::Function') as Record<string, CfnResource>)[authorizerFn];
    const variables = (fn?.Properties.Environment as { Variables: Record<string, string> }).Variables;
    expect(variables.LATCHKEY_ROUTE_POLICY).toBe(routePolicyEnvironment(resolveDownstreamRoutes(ROUTES)));
    const policy = JSON.parse(variables.LATCHKEY_ROUTE_POLICY ?? '{}') as Record<string, string[]>;
    // The management routes each role may call come first; the team's follow.
    expect(policy.viewer).toEqual(expect.arrayContaining(['GET/v1/things', 'GET/v1/things/*', 'GET/v1/orders/*']));
    expect(policy.viewer?.every((entry) => entry.startsWith('GET/'))).toBe(true);
    expect(policy['logs-viewer']).toContain('GET/v1/orders/*');
    expect(policy['logs-viewer']).not.toContain('GET/v1/things');
    // The owner's list is long enough to be compressed into patterns: ask what it grants.
    expect(grants(policy.owner ?? [], 'DELETE/v1/things/t-1')).toBe(true);
    expect(grants(policy.owner ?? [], 'POST/v1/leaked-keys')).toBe(false);
  });

  describe('Lambda backends', () => {
    it('bundle one function per handler (file and export), shared by the routes that name it', () => {
      const fns = synth.latchkey.backendFunctions;
      expect(Object.keys(fns).sort()).toEqual(['DELETE /v1/things/{thingId}', 'GET /v1/things', 'GET /v1/things/{thingId}']);
      expect(fns['GET /v1/things']).toBe(fns['GET /v1/things/{thingId}']);
      expect(fns['DELETE /v1/things/{thingId}']).not.toBe(fns['GET /v1/things']);
      const listId = logicalIdOf(fns['GET /v1/things']!.function.node.defaultChild as CfnElement);
      const removeId = logicalIdOf(fns['DELETE /v1/things/{thingId}']!.function.node.defaultChild as CfnElement);
      const functions = template.findResources('AWS::Lambda::Function') as Record<string, CfnResource>;
      expect(functions[listId]?.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: 512,
        Timeout: 10,
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: logicalIdOf(fns['GET /v1/things']!.logGroup.node.defaultChild as CfnElement) } },
      });
      expect(functions[removeId]?.Properties).toMatchObject({ Handler: 'index.remove' });
    });

    it('run with a role of their own that may only write their logs and traces (the team grants the rest)', () => {
      const fn = synth.latchkey.backendFunctions['GET /v1/things']!;
      const roleId = logicalIdOf(fn.role.node.defaultChild as CfnElement);
      const roles = template.findResources('AWS::IAM::Role') as Record<string, CfnResource>;
      expect(roles[roleId]?.Properties.ManagedPolicyArns).toBeUndefined();
      const statements = Object.values(template.findResources('AWS::IAM::Policy') as Record<string, CfnResource>)
        .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
        .flatMap((p) => (p.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement);
      const actions = statements.flatMap((s) => ([] as string[]).concat(s.Action));
      expect(actions.length).toBeGreaterThan(0);
      expect(actions.every((a) => a.startsWith('logs:') || a.startsWith('xray:'))).toBe(true);
      const logGroupId = logicalIdOf(fn.logGroup.node.defaultChild as CfnElement);
      expect((template.findResources('AWS::Logs::LogGroup') as Record<string, CfnResource>)[logGroupId]?.Properties).toEqual({ RetentionInDays: 30 });
    });

    it('are called through a Lambda proxy integration, which hands them requestContext.authorizer', () => {
      const fnId = logicalIdOf(synth.latchkey.backendFunctions['GET /v1/things']!.function.node.defaultChild as CfnElement);
      const integration = methodAt(template, 'GET', '/v1/things').Properties.Integration as Record<string, unknown>;
      expect(integration.Type).toBe('AWS_PROXY');
      expect(JSON.stringify(integration.Uri)).toContain(fnId);
    });
  });

  describe('HTTP backends', () => {
    it('proxy to the base URL plus the route path, with path parameters mapped', () => {
      const integration = methodAt(template, 'GET', '/v1/orders/{orderId}').Properties.Integration as Record<string, unknown>;
      expect(integration).toMatchObject({
        Type: 'HTTP_PROXY',
        IntegrationHttpMethod: 'GET',
        Uri: 'https://orders.internal.example.com/base/v1/orders/{orderId}',
      });
      const greedy = methodAt(template, 'POST', '/v1/files/{proxy+}').Properties;
      expect(greedy.Integration).toMatchObject({ Type: 'HTTP_PROXY', Uri: 'http://files.example.com/v1/files/{proxy}' });
      expect((greedy.Integration as { RequestParameters: Record<string, string> }).RequestParameters['integration.request.path.proxy']).toBe(
        'method.request.path.proxy',
      );
      expect(greedy.RequestParameters).toEqual({ 'method.request.path.proxy': true });
    });

    it('set the principal headers from the authorizer context and overwrite both key headers', () => {
      for (const [method, path] of [
        ['GET', '/v1/orders/{orderId}'],
        ['POST', '/v1/files/{proxy+}'],
      ] as const) {
        const parameters = (methodAt(template, method, path).Properties.Integration as { RequestParameters: Record<string, string> }).RequestParameters;
        expect(parameters).toMatchObject({
          'integration.request.header.x-latchkey-account-id': 'context.authorizer.accountId',
          'integration.request.header.x-latchkey-user-id': 'context.authorizer.userId',
          'integration.request.header.x-latchkey-role': 'context.authorizer.role',
          'integration.request.header.x-latchkey-key-id': 'context.authorizer.keyId',
          'integration.request.header.x-api-key': "'stripped'",
          'integration.request.header.x-api-secret-key': "'stripped'",
        });
        // Nothing maps a client's header onto a principal header or passes a key on.
        for (const [target, source] of Object.entries(parameters)) {
          expect(source.startsWith('method.request.header.'), `${target} <- ${source}`).toBe(false);
        }
      }
    });
  });

  it('uses an integration the team supplies in place of the declared backend', () => {
    const vpcService = new HttpIntegration('http://nlb.internal:8080/v1/orders/{orderId}', { proxy: true, httpMethod: 'GET' });
    const supplied = synthTeamStack({ routes: ROUTES, integrations: { 'GET /v1/orders/{orderId}': vpcService } });
    try {
      expect(methodAt(supplied.template, 'GET', '/v1/orders/{orderId}').Properties.Integration).toMatchObject({
        Uri: 'http://nlb.internal:8080/v1/orders/{orderId}',
      });
    } finally {
      supplied.cleanup();
    }
  });

  it('passes cdk-nag with a team route of each kind', () => {
    expect(() => {
      synthTeamStack({ routes: ROUTES }, true).cleanup();
    }).not.toThrow();
  }, 60_000);
});

describe('Latchkey construct: declarations refused at synth', () => {
  const attempt = (props: LatchkeyProps) => () => {
    const { app, outdir } = newApp();
    try {
      new Latchkey(new Stack(app, 'TeamApi', { env: TEST_ENV }), 'Latchkey', props);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  };

  it('refuses a route that collides with a management route, naming both', () => {
    const clash = attempt({ routes: [{ method: 'DELETE', path: '/v1/users/{userId}', backend: { url: 'https://x.example.com' } }] });
    expect(clash).toThrow(RouteDeclarationError);
    expect(clash).toThrow(/route DELETE \/v1\/users\/\{userId\} collides with the management route DELETE \/v1\/users\/\{userId\} \(deleteUser\)/);
  });

  it('refuses a duplicate route and an unknown role, naming the route', () => {
    expect(
      attempt({
        routes: [
          { method: 'GET', path: '/v1/a/{x}', backend: { url: 'https://x.example.com' } },
          { method: 'GET', path: '/v1/a/{y}', backend: { url: 'https://x.example.com' } },
        ],
      }),
    ).toThrow(/GET \/v1\/a\/\{y\} is declared twice/);
    expect(attempt({ routes: [{ method: 'GET', path: '/v1/a', roles: ['admin' as 'owner'], backend: { url: 'https://x.example.com' } }] })).toThrow(
      /GET \/v1\/a: unknown role 'admin'/,
    );
  });

  it('refuses an integration for a route that was not declared', () => {
    const stray = new HttpIntegration('http://nlb.internal/x', { proxy: true });
    expect(attempt({ routes: ROUTES, integrations: { 'GET /v1/nothing': stray } })).toThrow(/integrations\['GET \/v1\/nothing'\] names no declared route/);
  });
});

describe('this repository\'s own app', () => {
  it('keeps the logical ids of the table, the key and the REST API now that the stacks use the constructs', () => {
    const synth = synthLatchkey();
    try {
      expect(logicalIdOf(synth.stateful.table.node.defaultChild as CfnElement)).toBe('TableCD117FA1');
      expect(logicalIdOf(synth.stateful.key.node.defaultChild as CfnElement)).toBe('Key961B73FD');
      expect(logicalIdOf(synth.api.api.node.defaultChild as CfnElement)).toBe('ApiF70053CD');
    } finally {
      synth.cleanup();
    }
  });
});
