import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { CfnElement } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leakRecordItem } from '#shared/adapters/dynamodb/items.ts';
import { routePolicyEnvironment } from '#shared/authorization/route-policy.ts';
import { isApiSwitchRoute } from '#shared/authorization/api-switch.ts';
import { FUNCTION_GROUPS, ROUTES, type FunctionGroup, isPublicRoute } from '#shared/http/routes.ts';
import { logicalIdOf, synthLatchkey, type SynthesizedLatchkey } from './cdk-app.ts';

interface CfnResource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
}

interface Statement {
  readonly Action: string | readonly string[];
  readonly Effect: string;
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

function resourcesOfType(template: Template, type: string): Record<string, CfnResource> {
  return template.findResources(type) as Record<string, CfnResource>;
}

/** The statements of every inline policy attached to the role. */
function statementsOfRole(template: Template, roleLogicalId: string): Statement[] {
  return Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: roleLogicalId }]))
    .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

/** The value the stateful stack exports for a reference to `element`'s attribute, as the API stack imports it. */
function importOf(synth: SynthesizedLatchkey, element: CfnElement, attribute: 'Arn' | 'Ref'): unknown {
  const logicalId = logicalIdOf(element);
  const wanted = attribute === 'Ref' ? { Ref: logicalId } : { 'Fn::GetAtt': [logicalId, attribute] };
  const outputs = synth.statefulTemplate.findOutputs('*') as Record<string, { Value: unknown; Export?: { Name: string } }>;
  const exported = Object.values(outputs).find((o) => JSON.stringify(o.Value) === JSON.stringify(wanted) && o.Export !== undefined);
  if (exported?.Export === undefined) throw new Error(`no export of ${logicalId}.${attribute}`);
  return { 'Fn::ImportValue': exported.Export.Name };
}

describe('API stack (defaults)', () => {
  let synth: SynthesizedLatchkey;
  let template: Template;
  let tableArn: unknown;
  let keyArn: unknown;
  let apiId: string;
  let defaultUsagePlanId: string;
  let flushArn: unknown;

  beforeAll(() => {
    synth = synthLatchkey();
    template = synth.apiTemplate;
    tableArn = importOf(synth, synth.stateful.table.node.defaultChild as CfnElement, 'Arn');
    keyArn = importOf(synth, synth.stateful.key.node.defaultChild as CfnElement, 'Arn');
    apiId = logicalIdOf(synth.api.api.node.defaultChild as CfnElement);
    defaultUsagePlanId = logicalIdOf(synth.api.usageLimits.defaultUsagePlan.node.defaultChild as CfnElement);
    flushArn = {
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':apigateway:eu-west-1::/restapis/', { Ref: apiId }, '/stages/prod/cache/authorizers']],
    };
  });
  afterAll(() => {
    synth.cleanup();
  });

  const roleOf = (group: FunctionGroup | 'authorizer'): string =>
    logicalIdOf((group === 'authorizer' ? synth.api.authorizerFunction : synth.api.groupFunctions[group]).role.node.defaultChild as CfnElement);
  const functionOf = (group: FunctionGroup | 'authorizer'): string =>
    logicalIdOf((group === 'authorizer' ? synth.api.authorizerFunction : synth.api.groupFunctions[group]).function.node.defaultChild as CfnElement);

  /** UpdateItem of `lastUsedAt` alone, returning nothing. */
  const recordKeyUse = (): Statement => ({
    Action: 'dynamodb:UpdateItem',
    Effect: 'Allow',
    Resource: tableArn,
    Condition: {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ACCOUNT#*'] },
      'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['pk', 'sk', 'lastUsedAt'] },
      StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE'] },
    },
  });

  /** Loading the pepper ring: a Query of the pepper partition and Decrypt under the pepper's context only. */
  const readPepper = (): Statement[] => [
    {
      Action: 'dynamodb:Query',
      Effect: 'Allow',
      Resource: tableArn,
      Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['CONFIG'] } },
    },
    {
      Action: 'kms:Decrypt',
      Effect: 'Allow',
      Resource: keyArn,
      Condition: { StringEquals: { 'kms:EncryptionContext:purpose': 'latchkey-pepper' } },
    },
  ];

  /** Statements beyond writing the function's own logs and sending traces (checked separately). */
  const dataStatements = (group: FunctionGroup | 'authorizer'): Statement[] =>
    statementsOfRole(template, roleOf(group)).filter((s) => {
      const actions = ([] as string[]).concat(s.Action);
      return !actions.every((a) => a.startsWith('logs:') || a.startsWith('xray:'));
    });

  describe('authorizer', () => {
    it('keys its caches (the main one and the API switch one) on both key headers and the source IP', () => {
      const authorizers = Object.values(resourcesOfType(template, 'AWS::ApiGateway::Authorizer'));
      expect(authorizers).toHaveLength(2);
      for (const authorizer of authorizers) {
        expect(authorizer.Properties).toMatchObject({
          Type: 'REQUEST',
          IdentitySource: 'method.request.header.x-api-key,method.request.header.x-api-secret-key,context.identity.sourceIp',
          AuthorizerResultTtlInSeconds: 300,
        });
      }
    });

    it('may only read the table, query the pepper partition, decrypt under the pepper context and move a digest to a new pepper', () => {
      expect(dataStatements('authorizer')).toEqual([
        { Action: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'], Effect: 'Allow', Resource: tableArn },
        ...readPepper(),
        {
          Action: 'dynamodb:UpdateItem',
          Effect: 'Allow',
          Resource: tableArn,
          Condition: {
            // A digest sits in an account partition: never a pepper item, whatever the request names.
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ACCOUNT#*'] },
            'ForAllValues:StringEquals': {
              'dynamodb:Attributes': ['pk', 'sk', 'secretHash', 'pepperVersion', 'secretHashUpgradedFrom', 'accountKeyHash', 'accountKeyPepperVersion', 'accountKeyHashUpgradedFrom'],
            },
            StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE'] },
          },
        },
      ]);
    });

    it('gets only the table, the key and the team routes\' policy (none here) in its environment, without source-mapped stack traces that slow its cold start', () => {
      const fn = resourcesOfType(template, 'AWS::Lambda::Function')[functionOf('authorizer')];
      const variables = (fn?.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(Object.keys(variables).sort()).toEqual(['LATCHKEY_KMS_KEY_ID', 'LATCHKEY_ROUTE_POLICY', 'LATCHKEY_TABLE_NAME']);
      expect(variables.LATCHKEY_ROUTE_POLICY).toBe(routePolicyEnvironment([]));
    });

    it('is a 512 MB function with a 5 s timeout', () => {
      const fn = resourcesOfType(template, 'AWS::Lambda::Function')[functionOf('authorizer')];
      expect(fn?.Properties).toMatchObject({ MemorySize: 512, Timeout: 5 });
    });
  });

  describe('route functions', () => {
    it('give whoami only the key-use stamp, and logs only queries besides it; neither touches KMS', () => {
      expect(dataStatements('whoami')).toEqual([recordKeyUse()]);
      expect(dataStatements('logs')).toEqual([
        { Action: 'dynamodb:Query', Effect: 'Allow', Resource: tableArn, Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ACCOUNT#*'] } } },
        recordKeyUse(),
      ]);
    });

    /** Only the accounts' partitions: never CONFIG, where the peppers are. */
    const ACCOUNTS = { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ACCOUNT#*'] } };
    const EVENT_ATTRIBUTES = ['pk', 'sk', 'id', 'accountId', 'time', 'action', 'actorUserId', 'actorKeyId', 'target', 'sourceIp', 'expiresAt'];
    const onlyAttributes = (action: string, attributes: string[]): Statement => ({
      Action: action,
      Effect: 'Allow',
      Resource: tableArn,
      Condition: {
        ...ACCOUNTS,
        'ForAllValues:StringEquals': { 'dynamodb:Attributes': attributes },
        StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE'] },
      },
    });

    it('let the account function read the account, put only audit events, update only apiEnabled and the account key, decrypt only account keys and encrypt a new one', () => {
      expect(dataStatements('account')).toEqual([
        { Action: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem'], Effect: 'Allow', Resource: tableArn, Condition: ACCOUNTS },
        onlyAttributes('dynamodb:PutItem', EVENT_ATTRIBUTES),
        // The switch sets apiEnabled; a roll of the account key sets the account key's attributes.
        onlyAttributes('dynamodb:UpdateItem', ['pk', 'sk', 'apiEnabled', 'lastUsedAt', 'accountKeyHash', 'accountKeyPepperVersion', 'accountKeyCiphertext', 'accountKeyMasked', 'accountKeyTag', 'previousAccountKeyHash', 'previousAccountKeyPepperVersion', 'previousAccountKeyExpiresAt', 'previousAccountKeyTag', 'accountKeyLeakReportedAt']),
        // Rolling the account key: the pepper to hash it, KMS to encrypt it for reveal.
        ...readPepper(),
        {
          Action: 'kms:Decrypt',
          Effect: 'Allow',
          Resource: keyArn,
          Condition: { StringEquals: { 'kms:EncryptionContext:purpose': 'latchkey-account-key' } },
        },
        {
          Action: 'kms:Encrypt',
          Effect: 'Allow',
          Resource: keyArn,
          Condition: { StringEquals: { 'kms:EncryptionContext:purpose': 'latchkey-account-key' } },
        },
        // GET /v1/account/usage: API Gateway's GetUsage (counts only) of this stage's usage plans
        // alone: the default one by its id, those set-plan makes by the stage's tag.
        {
          Action: 'apigateway:GET',
          Effect: 'Allow',
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':apigateway:eu-west-1::/usageplans/', { Ref: defaultUsagePlanId }, '/usage']] },
        },
        {
          Action: 'apigateway:GET',
          Effect: 'Allow',
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':apigateway:eu-west-1::/usageplans/*/usage']] },
          Condition: { StringEquals: { 'aws:ResourceTag/latchkey:stage': { 'Fn::Join': ['', [{ Ref: apiId }, '/prod']] } } },
        },
      ]);
    });

    it('let the users function put only users and audit events and update only roles, key lists and owner counts: never a digest', () => {
      expect(dataStatements('users')).toEqual([
        {
          Action: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'],
          Effect: 'Allow',
          Resource: tableArn,
          Condition: ACCOUNTS,
        },
        // A new user (and audit events): no secretHash, pepperVersion or rules, so no key that works.
        onlyAttributes('dynamodb:PutItem', [...EVENT_ATTRIBUTES, 'name', 'email', 'role', 'createdAt', 'keyIds', 'keyCount', 'rev']),
        // A role change reaches the user, the role copy on each key and the owner count.
        onlyAttributes('dynamodb:UpdateItem', ['pk', 'sk', 'role', 'keyIds', 'keyCount', 'rev', 'ownerCount', 'lastUsedAt']),
      ]);
    });

    it("let the api-keys function put new keys, their names and audit events, update only key lists, rolled digests and keys' permissions, query the byUser index and decrypt only the pepper", () => {
      expect(dataStatements('api-keys')).toEqual([
        {
          Action: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'],
          Effect: 'Allow',
          Resource: tableArn,
          Condition: ACCOUNTS,
        },
        // A new key as it is issued (no allow list, no previous secret), its name reservation, audit events.
        onlyAttributes('dynamodb:PutItem', [
          ...EVENT_ATTRIBUTES,
          'gsi1pk',
          'gsi1sk',
          'name',
          'userId',
          'role',
          'createdAt',
          'rules',
          'secretHash',
          'pepperVersion',
          'secretTag',
          'keyExpiresAt',
          'createdByUserId',
          'createdByKeyId',
          // A restricted key's list, and the list its audit events record.
          'permissions',
          'rev',
          'keyId',
        ]),
        // Never a role, an allow list or the account item's attributes.
        onlyAttributes('dynamodb:UpdateItem', [
          'pk',
          'sk',
          'keyIds',
          'keyCount',
          'rev',
          'permissions',
          'secretHash',
          'pepperVersion',
          'secretTag',
          'previousSecretHash',
          'previousPepperVersion',
          'previousSecretExpiresAt',
          'previousSecretTag',
          'lastUsedAt',
        ]),
        { Action: 'dynamodb:Query', Effect: 'Allow', Resource: { 'Fn::Join': ['', [tableArn, '/index/byUser']] } },
        ...readPepper(),
      ]);
    });

    it("let the cidr-allow-list function update only a key's rules and put only audit events: never a role, a digest or a pepper", () => {
      expect(dataStatements('cidr-allow-list')).toEqual([
        { Action: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem'], Effect: 'Allow', Resource: tableArn, Condition: ACCOUNTS },
        onlyAttributes('dynamodb:PutItem', EVENT_ATTRIBUTES),
        onlyAttributes('dynamodb:UpdateItem', ['pk', 'sk', 'rules', 'cidrs', 'rev', 'lastUsedAt']),
      ]);
    });

    it("let the leaked-keys function delete keys, end replaced secrets and flag the account key, and read only the pepper's key", () => {
      expect(dataStatements('leaked-keys')).toEqual([
        { Action: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:DeleteItem'], Effect: 'Allow', Resource: tableArn, Condition: ACCOUNTS },
        onlyAttributes('dynamodb:PutItem', EVENT_ATTRIBUTES),
        // Never a role, a digest in use or an allow list: a key's holder list, the secrets a roll replaced, the leak flag.
        onlyAttributes('dynamodb:UpdateItem', [
          'pk',
          'sk',
          'keyIds',
          'keyCount',
          'rev',
          'previousSecretHash',
          'previousPepperVersion',
          'previousSecretExpiresAt',
          'previousAccountKeyHash',
          'previousAccountKeyPepperVersion',
          'previousAccountKeyExpiresAt',
          'accountKeyLeakReportedAt',
        ]),
        ...readPepper(),
      ]);
    });

    it('let the leaked-keys function put a leak record: its every attribute is among the put attributes', () => {
      const record = leakRecordItem('A0000000000000001', { valueHash: 'ab'.repeat(32), until: '2030-01-01T00:00:00.000Z' });
      const put = dataStatements('leaked-keys').find((statement) => statement.Action === 'dynamodb:PutItem');
      const condition = put?.Condition as { 'ForAllValues:StringEquals': { 'dynamodb:Attributes': string[] } } | undefined;

      expect(Object.keys(record).sort()).toEqual(['expiresAt', 'pk', 'sk']);
      expect(condition?.['ForAllValues:StringEquals']['dynamodb:Attributes']).toEqual(expect.arrayContaining(Object.keys(record)));
    });

    it('leave the pepper partition to the pepper set-up: no route function may write outside the account partitions', () => {
      for (const group of FUNCTION_GROUPS) {
        for (const statement of dataStatements(group)) {
          const actions = ([] as string[]).concat(statement.Action);
          const writes = actions.some((a) => /^dynamodb:(PutItem|DeleteItem|BatchWriteItem)$/.test(a));
          if (writes || actions.includes('dynamodb:UpdateItem')) expect(JSON.stringify(statement.Condition), `${group}: ${actions.join(',')}`).toContain('"dynamodb:LeadingKeys":["ACCOUNT#*"]');
        }
      }
    });

    it('give no route function the cache flush: the revocation flusher alone spends the management API budget', () => {
      const flushers = FUNCTION_GROUPS.filter((group) =>
        statementsOfRole(template, roleOf(group)).some((s) => ([] as string[]).concat(s.Action).some((a) => a === 'apigateway:DELETE')),
      );
      expect(flushers).toEqual([]);
      expect(
        statementsOfRole(template, roleOf('authorizer')).some((s) => ([] as string[]).concat(s.Action).some((a) => a.startsWith('apigateway:'))),
      ).toBe(false);
    });

    it('let the revocation flusher flush this stage only, from the table stream, one batch per shard at a time, writing only its flush ledger', () => {
      const flusher = synth.api.revocationFlusher.flusher;
      const role = logicalIdOf(flusher.role.node.defaultChild as CfnElement);
      const statements = statementsOfRole(template, role);
      expect(statements).toContainEqual({ Action: 'apigateway:DELETE', Effect: 'Allow', Resource: flushArn });
      const tableUse = statements.filter((s) => ([] as string[]).concat(s.Action).some((a) => /^dynamodb:(GetItem|BatchGetItem|Query|Scan|PutItem|UpdateItem|DeleteItem|BatchWriteItem)$/.test(a)));
      expect(tableUse).toMatchObject([
        {
          Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
          Effect: 'Allow',
          Condition: {
            'ForAllValues:StringEquals': {
              'dynamodb:LeadingKeys': ['FLUSH-LEDGER'],
              'dynamodb:Attributes': ['pk', 'sk', 'attempts', 'succeeded', 'nextAttemptAt', 'failures'],
            },
            StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE'] },
          },
        },
      ]);
      const fn = resourcesOfType(template, 'AWS::Lambda::Function')[logicalIdOf(flusher.function.node.defaultChild as CfnElement)];
      expect(fn?.Properties).toMatchObject({ Timeout: 60 });
      // Not one at a time: each shard's invocation runs beside the others' (the ledger keeps the window).
      expect(fn?.Properties).not.toHaveProperty('ReservedConcurrentExecutions');
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: logicalIdOf(flusher.function.node.defaultChild as CfnElement) },
        EventSourceArn: Match.anyValue(),
        StartingPosition: 'TRIM_HORIZON',
        MaximumBatchingWindowInSeconds: 1,
        BisectBatchOnFunctionError: true,
        MaximumRecordAgeInSeconds: 3600,
        ParallelizationFactor: 1,
        DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 0 });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'IteratorAge', Threshold: 60_000 });
    });

    it('let the table signals function put only audit events and update only a holder\'s key list, count and revision, for TTL deletions of keys and new audit items alone', () => {
      const recorder = synth.api.tableSignals.signalsFunction;
      const functionId = logicalIdOf(recorder.function.node.defaultChild as CfnElement);
      const statements = statementsOfRole(template, logicalIdOf(recorder.role.node.defaultChild as CfnElement));
      const actions = (s: Statement): string[] => ([] as string[]).concat(s.Action);
      // Reading the stream is the event source's (DescribeStream, GetRecords, GetShardIterator, ListStreams).
      const streamReads = new Set(['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams']);
      const tableStatements = statements.filter((s) => actions(s).some((a) => a.startsWith('dynamodb:') && !streamReads.has(a)));
      expect(tableStatements).toEqual([
        onlyAttributes('dynamodb:PutItem', EVENT_ATTRIBUTES),
        onlyAttributes('dynamodb:UpdateItem', ['pk', 'sk', 'keyIds', 'keyCount', 'rev']),
      ]);
      expect(statements.flatMap(actions).filter((a) => a.startsWith('kms:') || a.startsWith('apigateway:'))).toEqual([]);

      const fn = resourcesOfType(template, 'AWS::Lambda::Function')[functionId];
      expect(fn?.Properties).toMatchObject({ MemorySize: 256, Timeout: 60 });
      expect(fn?.Properties.Environment).toEqual({
        Variables: {
          NODE_OPTIONS: '--enable-source-maps',
          LATCHKEY_TABLE_NAME: importOf(synth, synth.stateful.table.node.defaultChild as CfnElement, 'Ref'),
          LATCHKEY_AUDIT_RETENTION_DAYS: '365',
          LATCHKEY_EVENT_BUS_NAME: { Ref: logicalIdOf(synth.api.tableSignals.eventBus.node.defaultChild as CfnElement) },
        },
      });
      const mapping = Object.values(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping')).find(
        (m) => JSON.stringify(m.Properties.FunctionName) === JSON.stringify({ Ref: functionId }),
      );
      expect(mapping?.Properties).toMatchObject({
        StartingPosition: 'TRIM_HORIZON',
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 10_000,
        MaximumRecordAgeInSeconds: 3600,
        ParallelizationFactor: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalIdOf(synth.api.tableSignals.deadLetterQueue.node.defaultChild as CfnElement), 'Arn'] } } },
      });
      const filters = (mapping?.Properties.FilterCriteria as { Filters: { Pattern: string }[] }).Filters;
      expect(filters.map((f) => JSON.parse(f.Pattern) as unknown)).toEqual([
        {
          eventName: ['REMOVE'],
          userIdentity: { type: ['Service'], principalId: ['dynamodb.amazonaws.com'] },
          dynamodb: { Keys: { sk: { S: [{ prefix: 'KEY#' }] } } },
        },
        { eventName: ['INSERT'], dynamodb: { Keys: { sk: { S: [{ prefix: 'EVENT#' }] } } } },
      ]);
      // One dead-letter queue each for the flusher's mapping and this one, each with its alarm.
      template.resourceCountIs('AWS::SQS::Queue', 2);
      expect(
        Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).filter((a) => a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible'),
      ).toHaveLength(2);
    });

    it('read the table stream with two consumers, as DynamoDB advises at most two readers per shard: the flusher and the table signals (key expiry and event publishing on one mapping)', () => {
      template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    });

    it('get the configuration variables the handlers read', () => {
      for (const group of FUNCTION_GROUPS) {
        const fn = resourcesOfType(template, 'AWS::Lambda::Function')[functionOf(group)];
        expect(fn?.Properties.Environment).toEqual({
          Variables: {
            NODE_OPTIONS: '--enable-source-maps',
            LATCHKEY_TABLE_NAME: importOf(synth, synth.stateful.table.node.defaultChild as CfnElement, 'Ref'),
            LATCHKEY_KMS_KEY_ID: importOf(synth, synth.stateful.key.node.defaultChild as CfnElement, 'Ref'),
            LATCHKEY_REST_API_ID: { Ref: apiId },
            LATCHKEY_STAGE_NAME: 'prod',
            LATCHKEY_MAX_KEYS_PER_USER: '10',
            LATCHKEY_MAX_RULES_PER_KEY: '20',
            LATCHKEY_AUDIT_RETENTION_DAYS: '365',
            LATCHKEY_RATE_LIMIT: '50',
            LATCHKEY_BURST_LIMIT: '100',
          },
        });
        expect(fn?.Properties).toMatchObject({ MemorySize: 512, Timeout: 10 });
      }
    });
  });

  describe('every function', () => {
    it('runs Node.js 24 on ARM64 with active tracing, logging to its own log group with the configured retention', () => {
      const functions = resourcesOfType(template, 'AWS::Lambda::Function');
      // The route functions, the authorizer, the console, the revocation flusher and the table signals function.
      expect(Object.keys(functions)).toHaveLength(FUNCTION_GROUPS.length + 4);
      const logGroups = resourcesOfType(template, 'AWS::Logs::LogGroup');
      for (const fn of Object.values(functions)) {
        expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' }, Handler: 'index.handler' });
        const logGroupRef = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
        expect(logGroups[logGroupRef]?.Properties).toEqual({ RetentionInDays: 30 });
      }
    });

    it('has a role with no managed policy that writes only its own log group', () => {
      for (const group of [...FUNCTION_GROUPS, 'authorizer'] as const) {
        const role = resourcesOfType(template, 'AWS::IAM::Role')[roleOf(group)];
        expect(role?.Properties.ManagedPolicyArns).toBeUndefined();
        const fn = resourcesOfType(template, 'AWS::Lambda::Function')[functionOf(group)];
        const logGroupRef = (fn?.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
        const logStatements = statementsOfRole(template, roleOf(group)).filter((s) => ([] as string[]).concat(s.Action).some((a) => a.startsWith('logs:')));
        expect(logStatements).toEqual([
          { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [logGroupRef, 'Arn'] } },
        ]);
      }
    });

    it('grants nothing on "*" but sending X-Ray traces, and listing streams to the revocation flusher', () => {
      const wildcard = Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))
        .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
        .filter((s) => JSON.stringify(s.Resource).includes('"*"') || ([] as string[]).concat(s.Action).some((a) => a.includes('*')));
      for (const statement of wildcard) {
        // ListStreams has no resource-level permission; the event source mapping needs it.
        if (statement.Action === 'dynamodb:ListStreams') continue;
        expect(statement.Action).toEqual(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']);
      }
    });
  });

  describe('routes', () => {
    /** "METHOD /path" of every method in the template, with its properties. */
    function methodsByRoute(): Map<string, Record<string, unknown>> {
      const resources = resourcesOfType(template, 'AWS::ApiGateway::Resource');
      const pathOf = (ref: unknown): string => {
        if (JSON.stringify(ref) === JSON.stringify({ 'Fn::GetAtt': [apiId, 'RootResourceId'] })) return '';
        const id = (ref as { Ref: string }).Ref;
        const resource = resources[id];
        if (resource === undefined) throw new Error(`unknown resource ${id}`);
        return `${pathOf(resource.Properties.ParentId)}/${resource.Properties.PathPart as string}`;
      };
      const methods = new Map<string, Record<string, unknown>>();
      for (const method of Object.values(resourcesOfType(template, 'AWS::ApiGateway::Method'))) {
        methods.set(`${method.Properties.HttpMethod as string} ${pathOf(method.Properties.ResourceId) || '/'}`, method.Properties);
      }
      return methods;
    }

    const CONSOLE_METHODS = ['GET /', 'GET /console', 'GET /console/{asset}', 'GET /favicon.ico'];

    it('has exactly the methods of ROUTES and the console, no more, no fewer', () => {
      expect([...methodsByRoute().keys()].sort()).toEqual([...ROUTES.map((r) => `${r.method} ${r.path}`), ...CONSOLE_METHODS].sort());
    });

    it('leaves only the console methods and the routes that need no keys public, the console proxied to its function', () => {
      const publicMethods = [...methodsByRoute()].filter(([, m]) => m.AuthorizationType !== 'CUSTOM').map(([name]) => name);
      expect(publicMethods.sort()).toEqual([...CONSOLE_METHODS, ...ROUTES.filter(isPublicRoute).map((r) => `${r.method} ${r.path}`)].sort());
      const consoleFunction = logicalIdOf(synth.api.node.findChild('Default').node.findChild('Console').node.findChild('Function').node.findChild('Function').node.defaultChild as CfnElement);
      for (const name of CONSOLE_METHODS) {
        const method = methodsByRoute().get(name);
        expect(method, name).toMatchObject({ AuthorizationType: 'NONE', Integration: { Type: 'AWS_PROXY' } });
        expect(JSON.stringify((method?.Integration as { Uri: unknown }).Uri)).toContain(JSON.stringify({ 'Fn::GetAtt': [consoleFunction, 'Arn'] }));
      }
    });

    it('puts every method behind the REQUEST authorizer (the API switch routes behind their own) and proxies it to its group function', () => {
      const authorizerIds = Object.keys(resourcesOfType(template, 'AWS::ApiGateway::Authorizer'));
      const mainId = authorizerIds.find((id) => id.includes('RequestAuthorizer'));
      const switchId = authorizerIds.find((id) => id.includes('ApiSwitchAuthorizer'));
      expect(authorizerIds).toHaveLength(2);
      const methods = methodsByRoute();
      for (const route of ROUTES) {
        const method = methods.get(`${route.method} ${route.path}`);
        // A route that needs no keys (leak reports) has no authorizer; every other route has it.
        const authorization = isPublicRoute(route)
          ? { AuthorizationType: 'NONE' }
          : { AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: isApiSwitchRoute(route) ? switchId : mainId } };
        expect(method, `${route.method} ${route.path}`).toMatchObject({
          ...authorization,
          OperationName: route.operationId,
          Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' },
        });
        expect(JSON.stringify((method?.Integration as { Uri: unknown }).Uri)).toContain(
          JSON.stringify({ 'Fn::GetAtt': [functionOf(route.group), 'Arn'] }),
        );
      }
    });

    it('leaves the leak-report route without an authorizer or a usage-plan key, throttled on its own', () => {
      expect(methodsByRoute().get('POST /v1/leaked-keys')).toMatchObject({ AuthorizationType: 'NONE', ApiKeyRequired: false });
      expect(methodsByRoute().get('POST /v1/leaked-keys')?.AuthorizerId).toBeUndefined();
      const stage = Object.values(resourcesOfType(template, 'AWS::ApiGateway::Stage'))[0];
      expect(stage?.Properties.MethodSettings).toEqual(
        expect.arrayContaining([
          // The body carries keys: data trace stays off here too.
          {
            ResourcePath: '/~1v1~1leaked-keys',
            HttpMethod: 'POST',
            DataTraceEnabled: false,
            LoggingLevel: 'INFO',
            MetricsEnabled: true,
            ThrottlingRateLimit: 5,
            ThrottlingBurstLimit: 10,
          },
        ]),
      );
    });

    it('declares path parameters as required, checked by a request validator', () => {
      const validators = resourcesOfType(template, 'AWS::ApiGateway::RequestValidator');
      const [validatorId] = Object.keys(validators);
      expect(validators[validatorId!]?.Properties).toMatchObject({ ValidateRequestParameters: true });
      const method = methodsByRoute().get('PUT /v1/api-keys/{keyId}/cidr-allow-list/{ruleId}');
      expect(method).toMatchObject({
        RequestValidatorId: { Ref: validatorId },
        RequestParameters: { 'method.request.path.keyId': true, 'method.request.path.ruleId': true },
      });
    });

    it('lets API Gateway invoke each group function only from this API', () => {
      for (const group of FUNCTION_GROUPS) {
        template.hasResourceProperties('AWS::Lambda::Permission', {
          Action: 'lambda:InvokeFunction',
          FunctionName: { 'Fn::GetAtt': [functionOf(group), 'Arn'] },
          Principal: 'apigateway.amazonaws.com',
          SourceArn: { 'Fn::Join': ['', Match.arrayWith([{ Ref: apiId }])] },
        });
      }
    });
  });

  describe('stage', () => {
    it('throttles, traces, logs executions at INFO without data trace, and writes JSON access logs', () => {
      template.hasResourceProperties('AWS::ApiGateway::Stage', {
        StageName: 'prod',
        TracingEnabled: true,
        MethodSettings: Match.arrayWith([
          {
            HttpMethod: '*',
            ResourcePath: '/*',
            LoggingLevel: 'INFO',
            DataTraceEnabled: false,
            MetricsEnabled: true,
            ThrottlingRateLimit: 50,
            ThrottlingBurstLimit: 100,
          },
        ]),
        AccessLogSetting: { DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AccessLogs'), 'Arn'] }, Format: Match.anyValue() },
      });
      const stage = Object.values(resourcesOfType(template, 'AWS::ApiGateway::Stage'))[0];
      const format = JSON.parse((stage?.Properties.AccessLogSetting as { Format: string }).Format) as Record<string, string>;
      expect(format).toMatchObject({
        requestId: '$context.requestId',
        sourceIp: '$context.identity.sourceIp',
        status: '$context.status',
        accountId: '$context.authorizer.accountId',
        keyId: '$context.authorizer.keyId',
      });
      // The keys travel in headers: an access log line must never contain one.
      expect(Object.values(format).some((field) => field.includes('header'))).toBe(false);
    });

    it('keeps access logs for the configured retention', () => {
      template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
      template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain' });
    });

    it('answers 401, 403 and every other 4xx and 5xx with a JSON message', () => {
      const body = { 'application/json': '{"message":$context.error.messageString}' };
      const headers = { 'gatewayresponse.header.Content-Type': "'application/json'" };
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', { ResponseType: 'UNAUTHORIZED', StatusCode: '401', ResponseTemplates: body, ResponseParameters: headers });
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', { ResponseType: 'ACCESS_DENIED', StatusCode: '403', ResponseTemplates: body, ResponseParameters: headers });
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', { ResponseType: 'DEFAULT_4XX', ResponseTemplates: body });
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', { ResponseType: 'DEFAULT_5XX', ResponseTemplates: body });
    });

    it('is a regional endpoint', () => {
      template.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
    });
  });

  it('outputs the API URL, REST API id, stage, table, key and region', () => {
    template.hasOutput('ApiUrl', { Value: { 'Fn::Join': ['', Match.arrayWith([{ Ref: apiId }])] } });
    template.hasOutput('RestApiId', { Value: { Ref: apiId } });
    template.hasOutput('StageName', { Value: 'prod' });
    template.hasOutput('TableName', { Value: importOf(synth, synth.stateful.table.node.defaultChild as CfnElement, 'Ref') });
    template.hasOutput('KmsKeyId', { Value: importOf(synth, synth.stateful.key.node.defaultChild as CfnElement, 'Ref') });
    template.hasOutput('KmsKeyArn', { Value: keyArn });
    template.hasOutput('Region', { Value: 'eu-west-1' });
  });
});

describe('API stack configured through context', () => {
  let synth: SynthesizedLatchkey;
  beforeAll(() => {
    synth = synthLatchkey({
      stage: 'staging',
      authorizerCacheTtl: '0',
      maxKeysPerUser: '5',
      maxRulesPerKey: '7',
      auditRetentionDays: '0',
      logRetentionDays: '90',
      throttleRate: '20',
      throttleBurst: '40',
    });
  });
  afterAll(() => {
    synth.cleanup();
  });

  it('turns the authorizer cache off with a TTL of 0, still keyed on both headers and the source IP', () => {
    synth.apiTemplate.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      AuthorizerResultTtlInSeconds: 0,
      IdentitySource: 'method.request.header.x-api-key,method.request.header.x-api-secret-key,context.identity.sourceIp',
    });
  });

  it('applies stage name, throttling, limits and retention', () => {
    synth.apiTemplate.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'staging',
      MethodSettings: Match.arrayWith([Match.objectLike({ ResourcePath: '/*', ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 })]),
    });
    synth.apiTemplate.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          LATCHKEY_STAGE_NAME: 'staging',
          LATCHKEY_MAX_KEYS_PER_USER: '5',
          LATCHKEY_MAX_RULES_PER_KEY: '7',
          LATCHKEY_AUDIT_RETENTION_DAYS: '0',
        }),
      },
    });
    const logGroups = Object.values(synth.apiTemplate.findResources('AWS::Logs::LogGroup')) as CfnResource[];
    for (const logGroup of logGroups) expect(logGroup.Properties).toEqual({ RetentionInDays: 90 });
  });

  it("scopes the revocation flusher's cache flush to the configured stage", () => {
    synth.apiTemplate.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 'apigateway:DELETE',
            Effect: 'Allow',
            Resource: { 'Fn::Join': ['', Match.arrayWith(['/stages/staging/cache/authorizers'])] },
          },
        ]),
      },
    });
  });
});
