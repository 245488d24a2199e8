import type { CfnElement } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CfnResource, logicalIdOf, synthLatchkey, type SynthesizedLatchkey } from './cdk-app.ts';

/**
 * The table signals (key expiry and event publishing, on the stream's one mapping beside the
 * revocation flusher's) in the API stack as `cdk synth` builds it: its bus, its function fed by
 * a mapping filtered to TTL deletions of keys and new audit items, its dead-letter queue and
 * alarm, and a role that may put events on that bus and nothing else beyond the key expiry's
 * writes (pinned in test/infra/api-stack.test.ts). cdk-nag over the whole app is test/infra/nag.test.ts.
 */

interface Statement {
  readonly Action: string | readonly string[];
  readonly Effect: string;
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

function resourcesOfType(template: Template, type: string): Record<string, CfnResource> {
  return template.findResources(type) as Record<string, CfnResource>;
}

describe('the table signals', () => {
  let synth: SynthesizedLatchkey;
  let template: Template;
  let busId: string;
  let functionId: string;
  let roleId: string;

  beforeAll(() => {
    synth = synthLatchkey();
    template = synth.apiTemplate;
    const signals = synth.api.latchkey.tableSignals;
    busId = logicalIdOf(signals.eventBus.node.defaultChild as CfnElement);
    functionId = logicalIdOf(signals.signalsFunction.function.node.defaultChild as CfnElement);
    roleId = logicalIdOf(signals.signalsFunction.role.node.defaultChild as CfnElement);
  });

  afterAll(() => {
    synth.cleanup();
  });

  it('creates one event bus, the one the construct exposes, and outputs its name and ARN', () => {
    expect(Object.keys(resourcesOfType(template, 'AWS::Events::EventBus'))).toEqual([busId]);
    expect(synth.api.latchkey.eventBus).toBe(synth.api.latchkey.tableSignals.eventBus);
    template.hasOutput('EventBusName', { Value: { Ref: busId } });
    template.hasOutput('EventBusArn', { Value: { 'Fn::GetAtt': [busId, 'Arn'] } });
  });

  it('is fed by one mapping on the table stream filtered to TTL REMOVEs of KEY# items or INSERTs of EVENT# items, reporting batch item failures, with a dead-letter queue', () => {
    const mappings = Object.values(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping')).filter(
      (m) => JSON.stringify(m.Properties.FunctionName) === JSON.stringify({ Ref: functionId }),
    );
    expect(mappings).toHaveLength(1);
    const queueId = logicalIdOf(synth.api.latchkey.tableSignals.deadLetterQueue.node.defaultChild as CfnElement);
    expect(mappings[0]?.Properties).toMatchObject({
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10_000,
      MaximumRecordAgeInSeconds: 3600,
      ParallelizationFactor: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
    const filters = (mappings[0]?.Properties.FilterCriteria as { Filters: { Pattern: string }[] }).Filters;
    expect(filters.map((f) => JSON.parse(f.Pattern) as unknown)).toEqual([
      {
        eventName: ['REMOVE'],
        userIdentity: { type: ['Service'], principalId: ['dynamodb.amazonaws.com'] },
        dynamodb: { Keys: { sk: { S: [{ prefix: 'KEY#' }] } } },
      },
      { eventName: ['INSERT'], dynamodb: { Keys: { sk: { S: [{ prefix: 'EVENT#' }] } } } },
    ]);
  });

  it('raises an alarm when a batch reaches its dead-letter queue', () => {
    const queueName = { 'Fn::GetAtt': [logicalIdOf(synth.api.latchkey.tableSignals.deadLetterQueue.node.defaultChild as CfnElement), 'QueueName'] };
    const alarms = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).filter(
      (a) => JSON.stringify(a.Properties.Dimensions) === JSON.stringify([{ Name: 'QueueName', Value: queueName }]),
    );
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.Properties).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
  });

  it('gets the bus name, the table name and the audit retention, and nothing of the key, in its environment', () => {
    const fn = resourcesOfType(template, 'AWS::Lambda::Function')[functionId];
    expect(fn?.Properties).toMatchObject({ MemorySize: 256, Timeout: 60, Runtime: 'nodejs24.x' });
    expect(fn?.Properties.Environment).toMatchObject({ Variables: { NODE_OPTIONS: '--enable-source-maps', LATCHKEY_EVENT_BUS_NAME: { Ref: busId }, LATCHKEY_AUDIT_RETENTION_DAYS: '365' } });
    expect(Object.keys((fn?.Properties.Environment as { Variables: Record<string, unknown> }).Variables).sort()).toEqual([
      'LATCHKEY_AUDIT_RETENTION_DAYS',
      'LATCHKEY_EVENT_BUS_NAME',
      'LATCHKEY_TABLE_NAME',
      'NODE_OPTIONS',
    ]);
  });

  it('may put events on its bus only, read the stream, write the table only as the key expiry does, and not use the key', () => {
    const statements = Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    const actions = (s: Statement): string[] => ([] as string[]).concat(s.Action);

    expect(statements.filter((s) => actions(s).some((a) => a.startsWith('events:')))).toEqual([
      { Action: 'events:PutEvents', Effect: 'Allow', Resource: { 'Fn::GetAtt': [busId, 'Arn'] } },
    ]);
    const streamReads = new Set(['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams']);
    // The key expiry's two conditional writes (their attributes are pinned in test/infra/api-stack.test.ts); no read.
    expect(statements.flatMap(actions).filter((a) => a.startsWith('dynamodb:') && !streamReads.has(a))).toEqual(['dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(statements.flatMap(actions).filter((a) => a.startsWith('kms:') || a.startsWith('apigateway:'))).toEqual([]);
  });
});
