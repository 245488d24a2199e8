import { Duration, Stack, type RemovalPolicy } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '#shared/adapters/environment.ts';
import { flushAuthorizerCacheStatement, revocationFlusherStatements, type FlushedStage } from '../permissions.ts';
import { LatchkeyFunction } from './latchkey-function.ts';
import { consumeTableStream } from './stream-consumer.ts';

export interface RevocationFlusherProps {
  /** The single table; it must have a stream with NEW_AND_OLD_IMAGES (the stateful stack's has). */
  readonly table: ITable;
  /** The stage whose authorizer cache is emptied: a REST API's, or an HTTP API's (flavor 'http'). */
  readonly stage: FlushedStage;
  readonly logRetention: RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** How long the mapping waits to fill a batch: part of the revocation bound. @default 1 second */
  readonly maxBatchingWindow?: Duration;
  /**
   * Concurrency reserved for the flusher. The mapping runs one invocation per stream shard at a
   * time; below the shard count, shards' invocations are throttled and wait for the mapping's
   * retry, which lengthens the revocation bound.
   * @default - none: the account's unreserved concurrency
   */
  readonly reservedConcurrency?: number;
}

/**
 * Durable revocation on AWS: the table's stream -> an event source mapping -> the flusher
 * function (functions/revocation-flusher.ts), which flushes the stage's authorizer cache after
 * any change that narrowed access. Each shard's batches run at once with the others', and the
 * invocations share the stage's flush ledger in the table, so the window of one flush call
 * holds across shards; a failing batch is retried with backoff and bisected, and
 * one still failing when its records are an hour old goes to a dead-letter queue whose alarm,
 * like the one on the stream's iterator age, says revocation is behind.
 */
export class RevocationFlusher extends Construct {
  readonly flusher: LatchkeyFunction;
  readonly deadLetterQueue: Queue;
  readonly deadLetterAlarm: Alarm;
  readonly iteratorAgeAlarm: Alarm;

  constructor(scope: Construct, id: string, props: RevocationFlusherProps) {
    super(scope, id);
    if (props.table.tableStreamArn === undefined) throw new Error('the table needs a stream (NEW_AND_OLD_IMAGES) for durable revocation');

    this.flusher = new LatchkeyFunction(this, 'Flusher', {
      entryName: 'revocation-flusher',
      description: 'Flushes the stage authorizer cache after the table stream shows a change that narrowed access',
      memorySize: 256,
      timeout: Duration.seconds(60),
      environment: { [ENV.tableName]: props.table.tableName, ...stageEnvironment(props.stage) },
      logRetention: props.logRetention,
      ...(props.logRemovalPolicy === undefined ? {} : { logRemovalPolicy: props.logRemovalPolicy }),
    });
    if (props.reservedConcurrency !== undefined) {
      (this.flusher.function.node.defaultChild as CfnFunction).reservedConcurrentExecutions = props.reservedConcurrency;
    }
    for (const statement of revocationFlusherStatements({ table: props.table })) this.flusher.role.addToPrincipalPolicy(statement);
    // This stage's cache only (FlushStageAuthorizersCache on REST, ResetAuthorizersCache on HTTP API).
    this.flusher.role.addToPrincipalPolicy(flushAuthorizerCacheStatement(props.stage, Stack.of(this)));

    ({ deadLetterQueue: this.deadLetterQueue, deadLetterAlarm: this.deadLetterAlarm } = consumeTableStream(this, this.flusher, {
      table: props.table,
      batchSize: 1000,
      maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(1),
      deadLetterMeaning:
        'A change that narrowed access could not be flushed from the authorizer cache: revoked keys may still be served until the cache TTL ends',
    }));
    this.iteratorAgeAlarm = new Alarm(this, 'IteratorAgeAlarm', {
      alarmDescription: 'The revocation flusher is more than a minute behind the table stream',
      metric: this.flusher.function.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) }),
      threshold: 60_000,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}

/**
 * The variables that name the deployment's stage to the functions (shared/adapters/environment.ts):
 * a REST API's id, or the `http` flavor and the HTTP API's id; and the stage's name.
 */
export function stageEnvironment(stage: FlushedStage): Record<string, string> {
  return stage.flavor === 'rest'
    ? { [ENV.restApiId]: stage.restApiId, [ENV.stageName]: stage.stageName }
    : { [ENV.apiFlavor]: 'http', [ENV.httpApiId]: stage.httpApiId, [ENV.stageName]: stage.stageName };
}
