import { App } from 'aws-cdk-lib';
import { addSubscriptionsExample } from './stack.ts';

/**
 * The example's CDK app. From the repository's root (the routes name their handler files from there):
 *   npx cdk synth --app 'node --import tsx examples/subscriptions/app.ts'
 *   npx cdk deploy --app 'node --import tsx examples/subscriptions/app.ts' [-c destroyOnRemoval=true]
 */
const app = new App();
const destroy: unknown = app.node.tryGetContext('destroyOnRemoval') ?? false;
if (destroy !== true && destroy !== false && destroy !== 'true' && destroy !== 'false') {
  console.error(`destroyOnRemoval must be true or false (got ${JSON.stringify(destroy)})`);
  process.exit(1);
}
addSubscriptionsExample(app, {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  destroyOnRemoval: destroy === true || destroy === 'true',
});
app.synth();
