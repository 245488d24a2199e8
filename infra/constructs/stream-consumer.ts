import { Duration, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { LatchkeyFunction } from './latchkey-function.ts';

export interface StreamConsumerOptions {
  readonly table: ITable;
  /** What the mapping hands the function at most at once. */
  readonly batchSize: number;
  readonly maxBatchingWindow?: Duration;
  /** Lambda event filters: records that match none never invoke the function. */
  readonly filters?: readonly Record<string, unknown>[];
  /**
   * The function answers the records it failed (`batchItemFailures`) instead of throwing: the
   * mapping delivers the batch again from the first of them rather than from its start.
   * @default false
   */
  readonly reportBatchItemFailures?: boolean;
  /** What it means when a batch reaches the dead-letter queue, for whoever the alarm wakes. */
  readonly deadLetterMeaning: string;
}

export interface StreamConsumer {
  readonly deadLetterQueue: Queue;
  readonly deadLetterAlarm: Alarm;
}

/**
 * `fn` fed by the table's stream as every consumer of it is here: from the oldest record, one
 * batch per shard at a time, a failing batch retried with backoff and bisected, and one still
 * failing when its records are an hour old sent to a dead-letter queue (`DeadLetters` in
 * `scope`) whose alarm (`DeadLetterAlarm`) says what was lost.
 */
export function consumeTableStream(scope: Construct, fn: LatchkeyFunction, options: StreamConsumerOptions): StreamConsumer {
  const deadLetterQueue = new Queue(scope, 'DeadLetters', {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  const reason = `This queue is itself the dead-letter destination of the stream mapping of ${fn.node.path}.`;
  Validations.of(deadLetterQueue).acknowledge({ id: 'AwsSolutions-SQS3', reason }, { id: 'Serverless-SQSRedrivePolicy', reason });

  fn.function.addEventSource(
    new DynamoEventSource(options.table, {
      startingPosition: StartingPosition.TRIM_HORIZON,
      batchSize: options.batchSize,
      ...(options.maxBatchingWindow === undefined ? {} : { maxBatchingWindow: options.maxBatchingWindow }),
      bisectBatchOnError: true,
      retryAttempts: 10_000,
      maxRecordAge: Duration.hours(1),
      parallelizationFactor: 1,
      onFailure: new SqsDlq(deadLetterQueue),
      ...(options.reportBatchItemFailures === true ? { reportBatchItemFailures: true } : {}),
      ...(options.filters === undefined ? {} : { filters: [...options.filters] }),
    }),
  );
  Validations.of(fn.role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'dynamodb:ListStreams (granted with the stream event source) has no resource-level permissions; X-Ray neither.',
  });
  Validations.of(fn.function).acknowledge({
    id: 'Serverless-LambdaDLQ',
    reason: 'Invoked by a stream event source mapping, whose on-failure destination is the dead-letter queue here.',
  });

  const deadLetterAlarm = new Alarm(scope, 'DeadLetterAlarm', {
    alarmDescription: options.deadLetterMeaning,
    metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
    threshold: 0,
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
  return { deadLetterQueue, deadLetterAlarm };
}
