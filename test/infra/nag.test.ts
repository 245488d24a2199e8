import { rmSync } from 'node:fs';
import { Stack } from 'aws-cdk-lib';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { describe, expect, it } from 'vitest';
import { configFromContext } from '#infra/config.ts';
import { addLatchkeyStacks, addNagChecks } from '#infra/latchkey.ts';
import { newApp, TEST_ENV } from './cdk-app.ts';

describe('cdk-nag (AWS Solutions and Serverless packs)', () => {
  it('finds nothing unacknowledged in the whole app, as `cdk synth` builds it', () => {
    // Prepare
    const { app, outdir } = newApp();
    addLatchkeyStacks(app, configFromContext(app.node), TEST_ENV);
    addNagChecks(app);

    try {
      // Act
      const synthesize = (): unknown => app.synth();

      // Assess: a finding makes synthesis throw ValidationFailed with the report.
      expect(synthesize).not.toThrow();
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 60_000);

  it('fails synthesis on a finding, so the check above can fail', () => {
    // Prepare: a table without point-in-time recovery breaks AwsSolutions-DDB3.
    const { app, outdir } = newApp();
    const stack = new Stack(app, 'Careless', { env: TEST_ENV });
    new Table(stack, 'Table', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
    addNagChecks(app);

    try {
      // Act
      const synthesize = (): unknown => app.synth();

      // Assess
      expect(synthesize).toThrow(/AwsSolutions-DDB3/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
