import { App } from 'aws-cdk-lib';
import { configFromContext } from './config.ts';
import { addLatchkeyStacks, addNagChecks } from './latchkey.ts';

const app = new App();
addLatchkeyStacks(app, configFromContext(app.node), {
  account: process.env.CDK_DEFAULT_ACCOUNT,
  region: process.env.CDK_DEFAULT_REGION,
});
addNagChecks(app);
app.synth();
