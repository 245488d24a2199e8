import { CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AttributeType, BillingMode, StreamViewType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Provider } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { ENV } from '#shared/adapters/environment.ts';
import { BY_USER_INDEX, TABLE_KEYS, TTL_ATTRIBUTE } from '#shared/adapters/table-schema.ts';
import { LatchkeyFunction } from './latchkey-function.ts';
import { pepperInitStatements } from '../permissions.ts';

export interface LatchkeyDataProps {
  /**
   * Names the KMS alias (`alias/latchkey/<stage>`), which must be unique in the account and region.
   * @default 'prod'
   */
  readonly stage?: string;
  /**
   * Delete the table, the key and the logs with the stack. Only for throw-away deployments.
   * @default false - table and key are retained, the table also has deletion protection
   */
  readonly destroyOnRemoval?: boolean;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/**
 * What must survive every deployment: the table (every account, user, key digest and audit
 * event) and the KMS key that protects the pepper and the account keys. The pepper itself is
 * created here, once, by a custom resource, because it needs both.
 */
export class LatchkeyData extends Construct {
  readonly table: Table;
  readonly key: Key;
  /** The custom resource's function that provisions the pepper. */
  readonly pepperFunction: LatchkeyFunction;

  constructor(scope: Construct, id: string, props: LatchkeyDataProps = {}) {
    super(scope, id);
    const stage = props.stage ?? 'prod';
    const destroy = props.destroyOnRemoval ?? false;
    const removalPolicy = destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;

    this.table = new Table(this, 'Table', {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: !destroy,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      // Durable revocation: every change, before and after, reaches the revocation flusher.
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
      removalPolicy,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: BY_USER_INDEX.name,
      partitionKey: { name: BY_USER_INDEX.partitionKey, type: AttributeType.STRING },
      sortKey: { name: BY_USER_INDEX.sortKey, type: AttributeType.STRING },
    });

    this.key = new Key(this, 'Key', {
      description: `Latchkey (${stage}): protects the hashing pepper and the account keys`,
      enableKeyRotation: true,
      alias: `alias/latchkey/${stage}`,
      pendingWindow: Duration.days(30),
      removalPolicy,
    });

    const pepperInit = new LatchkeyFunction(this, 'PepperInit', {
      entryName: 'pepper-init',
      description: 'Creates the hashing pepper once (CloudFormation custom resource)',
      memorySize: 256,
      timeout: Duration.seconds(30),
      environment: { [ENV.tableName]: this.table.tableName, [ENV.kmsKeyId]: this.key.keyId },
      logRetention,
      logRemovalPolicy: removalPolicy,
    });
    for (const statement of pepperInitStatements({ table: this.table, key: this.key })) {
      pepperInit.role.addToPrincipalPolicy(statement);
    }
    this.pepperFunction = pepperInit;

    const provider = new Provider(this, 'PepperProvider', {
      onEventHandler: pepperInit.function,
      logGroup: new LogGroup(this, 'PepperProviderLogs', { retention: logRetention, removalPolicy }),
    });
    const stack = Stack.of(this);
    Validations.of(provider).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'The CDK custom-resource framework function only writes its own logs with the AWS basic execution policy.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${stack.resolve(stack.getLogicalId(pepperInit.function.node.defaultChild as CfnFunction)) as string}.Arn>:*]`,
        reason: 'The custom-resource framework invokes exactly the pepper function (any version of it).',
      },
      {
        id: 'Serverless-LambdaTracing',
        reason: 'The custom-resource framework function runs only during deployments; the pepper function it calls is traced.',
      },
      {
        id: 'Serverless-LambdaDLQ',
        reason: 'The custom-resource framework is invoked synchronously by CloudFormation, which reports every failure.',
      },
      {
        id: 'Serverless-LambdaDefaultMemorySize',
        reason: 'The custom-resource framework function only relays one CloudFormation event; its CDK default size is enough.',
      },
    );

    const pepper = new CustomResource(this, 'Pepper', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::LatchkeyPepper',
      // Changing the table or the key makes CloudFormation send an Update, which provisions a pepper there.
      properties: { TableName: this.table.tableName, KeyArn: this.key.keyArn },
    });
    pepper.node.addDependency(this.table, this.key);
  }
}
