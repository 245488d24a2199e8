import { App } from 'aws-cdk-lib';
import { ConfigError, configFromContext, type LatchkeyConfig } from './config.ts';
import { addConfiguredStacks, addNagChecks } from './latchkey.ts';

const app = new App();

let config: LatchkeyConfig | undefined;
try {
  config = configFromContext(app.node);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  // A configuration mistake is the operator's to fix: say what is wrong, without a stack trace.
  console.error(error.message);
  process.exit(1);
}

addConfiguredStacks(app, config, {
  account: process.env.CDK_DEFAULT_ACCOUNT,
  region: process.env.CDK_DEFAULT_REGION,
});
// Any unacknowledged cdk-nag finding makes `cdk synth` (and so `cdk deploy`) fail.
addNagChecks(app);
app.synth();
