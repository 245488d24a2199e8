import { CfnOutput, RemovalPolicy, Stack, Validations, type App, type Environment } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
// A team's app imports these from 'latchkey'; inside this repository they come from the source.
import { Latchkey } from '#infra/index.ts';
import { isLambdaBackend, routeName } from '#shared/http/team-routes.ts';
import { routes } from './routes.ts';
import { SUBSCRIPTION_KEYS, TABLE_ACTIONS, TABLE_ENV } from './store.ts';

/**
 * The example service on AWS: Latchkey with the routes of routes.ts (the same list
 * `npm start -- --routes` serves) and the service's own table, each handler granted only the
 * table action its code calls.
 */

export interface SubscriptionsExampleStackProps {
  readonly env?: Environment;
  /**
   * Delete the subscriptions table, Latchkey's table and key, and the logs with the stack.
   * @default false - all retained, both tables with deletion protection
   */
  readonly destroyOnRemoval?: boolean;
}

/** The API stage, and so the KMS alias `alias/latchkey/example`: apart from a deployment of Latchkey's own app. */
export const EXAMPLE_STAGE = 'example';

export class SubscriptionsExampleStack extends Stack {
  readonly latchkey: Latchkey;
  readonly table: Table;

  constructor(scope: Construct, id: string, props: SubscriptionsExampleStackProps = {}) {
    super(scope, id, { env: props.env, description: 'Latchkey example: subscriptions behind account and user keys' });
    const destroy = props.destroyOnRemoval ?? false;

    this.table = new Table(this, 'Subscriptions', {
      partitionKey: { name: SUBSCRIPTION_KEYS.partitionKey, type: AttributeType.STRING },
      sortKey: { name: SUBSCRIPTION_KEYS.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      // The account's AWS managed key (aws/dynamodb): its use shows in CloudTrail, and its key policy
      // lets whoever may use the table use it through DynamoDB, so the handlers need no key grant.
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: !destroy,
      removalPolicy: destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });

    this.latchkey = new Latchkey(this, 'Latchkey', { routes, stage: EXAMPLE_STAGE, destroyOnRemoval: destroy });

    // Each handler is its own function (one per export), so each gets exactly its operation's action.
    for (const route of routes) {
      if (!isLambdaBackend(route.backend)) continue;
      const handler = route.backend.handler ?? 'handler';
      const actions: readonly string[] | undefined = (TABLE_ACTIONS as Readonly<Record<string, readonly string[]>>)[handler];
      const backend = this.latchkey.backendFunctions[routeName(route)];
      if (actions === undefined || backend === undefined) {
        throw new Error(`route ${routeName(route)}: store.ts names no table action for the handler '${handler}'`);
      }
      this.table.grant(backend.function, ...actions);
      backend.function.addEnvironment(TABLE_ENV, this.table.tableName);
    }

    new CfnOutput(this, 'SubscriptionsTableName', { value: this.table.tableName, description: 'The example service\'s own table' });
  }
}

/** The whole example app, as `cdk synth` builds it: the stack, checked by cdk-nag (a finding fails synthesis). */
export function addSubscriptionsExample(app: App, props: SubscriptionsExampleStackProps = {}): SubscriptionsExampleStack {
  const stack = new SubscriptionsExampleStack(app, 'LatchkeySubscriptionsExample', props);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return stack;
}
