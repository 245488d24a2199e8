import { rmSync } from 'node:fs';
import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLambdaBackend, routeName } from '#shared/http/team-routes.ts';
import { addSubscriptionsExample, type SubscriptionsExampleStack } from '../../examples/subscriptions/stack.ts';
import { routes } from '../../examples/subscriptions/routes.ts';
import { TABLE_ACTIONS, TABLE_ENV } from '../../examples/subscriptions/store.ts';
import { logicalIdOf, methodAt, newApp, TEST_ENV, type CfnResource } from './cdk-app.ts';

interface Statement {
  readonly Action: string | readonly string[];
  readonly Resource: unknown;
}

function actionsOf(statement: Statement): readonly string[] {
  return typeof statement.Action === 'string' ? [statement.Action] : statement.Action;
}

/**
 * The example service's CDK app (examples/subscriptions/app.ts) as `cdk synth` builds it, cdk-nag
 * included, without bundling: the routes the local runtime serves become API Gateway methods
 * behind the Latchkey authorizer, and each handler may touch only the example's table, and only
 * with the action its code calls.
 */
describe('examples/subscriptions: the CDK app', () => {
  let stack: SubscriptionsExampleStack;
  let template: Template;
  let cleanup: () => void;
  let tableId: string;

  beforeAll(() => {
    const { app, outdir } = newApp();
    cleanup = () => {
      rmSync(outdir, { recursive: true, force: true });
    };
    stack = addSubscriptionsExample(app, { env: TEST_ENV });
    // cdk-nag's AWS Solutions and Serverless packs: a finding makes synthesis throw ValidationFailed.
    app.synth();
    template = Template.fromStack(stack);
    tableId = logicalIdOf(stack.table.node.defaultChild as CfnElement);
  }, 120_000);
  afterAll(() => {
    cleanup();
  });

  it('puts every route of routes.ts behind the Latchkey authorizer, on the function of its handler', () => {
    const authorizerId = logicalIdOf(stack.latchkey.gateway.authorizer.node.defaultChild as CfnElement);
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) {
      const method = methodAt(template, route.method, route.path).Properties;
      expect(method, routeName(route)).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: authorizerId }, ApiKeyRequired: true });
      const fn = stack.latchkey.backendFunctions[routeName(route)];
      expect(fn, routeName(route)).toBeDefined();
      const integration = method.Integration as { Type: string; Uri: unknown };
      expect(integration.Type).toBe('AWS_PROXY');
      expect(JSON.stringify(integration.Uri)).toContain(logicalIdOf(fn!.function.node.defaultChild as CfnElement));
    }
  });

  it('keeps the subscriptions in a table of their own, account first, recoverable and encrypted, retained by default', () => {
    const table = (template.findResources('AWS::DynamoDB::Table') as Record<string, CfnResource & { DeletionPolicy?: string }>)[tableId];
    expect(table?.DeletionPolicy).toBe('Retain');
    expect(table?.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'accountId', KeyType: 'HASH' },
        { AttributeName: 'id', KeyType: 'RANGE' },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      DeletionProtectionEnabled: true,
    });
  });

  it('runs each handler as a Lambda function that knows the table by name and may call only its own action on it', () => {
    const functions = template.findResources('AWS::Lambda::Function') as Record<string, CfnResource>;
    const policies = Object.values(template.findResources('AWS::IAM::Policy') as Record<string, CfnResource>);
    for (const route of routes) {
      if (!isLambdaBackend(route.backend)) throw new Error(`${routeName(route)} is not a Lambda route`);
      const fn = stack.latchkey.backendFunctions[routeName(route)]!;
      const props = functions[logicalIdOf(fn.function.node.defaultChild as CfnElement)]?.Properties;
      expect(props?.Handler).toBe(`index.${route.backend.handler ?? 'handler'}`);
      expect((props?.Environment as { Variables: Record<string, unknown> }).Variables[TABLE_ENV]).toEqual({ Ref: tableId });

      const roleId = logicalIdOf(fn.role.node.defaultChild as CfnElement);
      const statements = policies
        .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
        .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
      const data = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
      expect(data, routeName(route)).toEqual([{ Action: expect.anything() as unknown, Effect: 'Allow', Resource: [{ 'Fn::GetAtt': [tableId, 'Arn'] }] }]);
      const expected = TABLE_ACTIONS[route.backend.handler as keyof typeof TABLE_ACTIONS];
      expect(actionsOf(data[0]!), routeName(route)).toEqual([...expected]);
      // A read route's function cannot write, whatever its code tries.
      if (route.method === 'GET') expect(actionsOf(data[0]!).every((a) => a === 'dynamodb:Query' || a === 'dynamodb:GetItem')).toBe(true);
      // Besides the table: its logs and traces only.
      expect(statements.flatMap(actionsOf).every((a) => /^(dynamodb|logs|xray):/.test(a))).toBe(true);
    }
  });

  it('gives no other function of the stack access to the subscriptions table', () => {
    const backendRoles = new Set(Object.values(stack.latchkey.backendFunctions).map((fn) => logicalIdOf(fn.role.node.defaultChild as CfnElement)));
    const others = Object.values(template.findResources('AWS::IAM::Policy') as Record<string, CfnResource>).filter(
      (p) => !(p.Properties.Roles as { Ref?: string }[]).every((role) => role.Ref !== undefined && backendRoles.has(role.Ref)),
    );
    expect(others.length).toBeGreaterThan(0);
    for (const policy of others) expect(JSON.stringify(policy.Properties.PolicyDocument)).not.toContain(tableId);
  });
});
