import { Match } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logicalIdOf, synthLatchkey, type SynthesizedLatchkey } from './cdk-app.ts';

describe('stateful stack (defaults)', () => {
  let synth: SynthesizedLatchkey;
  beforeAll(() => {
    synth = synthLatchkey();
  });
  afterAll(() => {
    synth.cleanup();
  });

  it('declares the single table with the key schema, index and TTL of table-schema.ts, billed on demand', () => {
    synth.statefulTemplate.resourceCountIs('AWS::DynamoDB::Table', 1);
    synth.statefulTemplate.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'gsi1pk', AttributeType: 'S' },
        { AttributeName: 'gsi1sk', AttributeType: 'S' },
      ]),
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byUser',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
    });
  });

  it('gives the table a stream with both images, which durable revocation reads', () => {
    synth.statefulTemplate.hasResourceProperties('AWS::DynamoDB::Table', { StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' } });
  });

  it('protects the table: point-in-time recovery, deletion protection, retained on stack deletion and replacement', () => {
    synth.statefulTemplate.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
      }),
    });
  });

  it('has a retained KMS key with rotation and an alias named after the stage', () => {
    synth.statefulTemplate.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({ EnableKeyRotation: true, PendingWindowInDays: 30 }),
    });
    synth.statefulTemplate.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/latchkey/prod' });
  });

  it('turns on termination protection for the stack that holds the data', () => {
    expect(synth.stateful.terminationProtection).toBe(true);
  });

  it('provisions the pepper with a custom resource that depends on the table and the key', () => {
    const tableId = logicalIdOf(synth.stateful.table.node.defaultChild as CfnFunction);
    synth.statefulTemplate.hasResource('Custom::LatchkeyPepper', {
      DependsOn: Match.arrayWith([tableId]),
      Properties: Match.objectLike({ TableName: { Ref: tableId } }),
    });
  });

  it('gives the pepper function only pepper-partition writes and data keys under the pepper context', () => {
    const roles = synth.statefulTemplate.findResources('AWS::IAM::Role', {
      Properties: { Description: 'Runs pepper-init' },
    });
    const [roleId] = Object.keys(roles);
    const tableId = logicalIdOf(synth.stateful.table.node.defaultChild as CfnFunction);
    const keyId = logicalIdOf(synth.stateful.key.node.defaultChild as CfnFunction);
    const policies = synth.statefulTemplate.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } });
    const statements = Object.values(policies).flatMap(
      (p) => (p as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument.Statement,
    );

    expect(statements).toEqual([
      { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^PepperInitLogs/), 'Arn'] } },
      { Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Effect: 'Allow', Resource: '*' },
      {
        Action: ['dynamodb:Query', 'dynamodb:PutItem'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['CONFIG'] } },
      },
      {
        Action: 'kms:GenerateDataKeyWithoutPlaintext',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [keyId, 'Arn'] },
        Condition: { StringEquals: { 'kms:EncryptionContext:purpose': 'latchkey-pepper' } },
      },
    ]);
  });

  it('runs the pepper function on Node.js 24 on ARM64 with tracing', () => {
    synth.statefulTemplate.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('pepper'),
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Environment: { Variables: Match.objectLike({ LATCHKEY_TABLE_NAME: Match.anyValue(), LATCHKEY_KMS_KEY_ID: Match.anyValue() }) },
    });
  });

  it('outputs what the admin CLI needs: table name, key id and ARN, region', () => {
    for (const name of ['TableName', 'KmsKeyId', 'KmsKeyArn', 'Region']) synth.statefulTemplate.hasOutput(name, {});
  });
});

describe('stateful stack with destroyOnRemoval=true', () => {
  let synth: SynthesizedLatchkey;
  beforeAll(() => {
    synth = synthLatchkey({ destroyOnRemoval: 'true', stage: 'dev' });
  });
  afterAll(() => {
    synth.cleanup();
  });

  it('lets the table and the key go with the stack, for throw-away deployments only', () => {
    synth.statefulTemplate.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ DeletionProtectionEnabled: false, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
    });
    synth.statefulTemplate.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
    synth.statefulTemplate.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/latchkey/dev' });
    expect(synth.stateful.terminationProtection).toBe(false);
  });
});
