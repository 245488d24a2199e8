import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { FilterCriteria, FilterRule } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_PREFIX } from '#shared/adapters/dynamodb/items.ts';
import { ENV } from '#shared/adapters/environment.ts';
import { eventPublisherStatements } from '../permissions.ts';
import { LatchkeyFunction } from './latchkey-function.ts';
import { consumeTableStream } from './stream-consumer.ts';

export interface EventPublisherProps {
  /** The single table; it must have a stream with new images (the stateful stack's has both images). */
  readonly table: ITable;
  readonly logRetention: RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * Every audit event out, on AWS (DESIGN.md section 16): an EventBridge bus of the deployment's
 * own, and an event source mapping on the table's stream, filtered to new audit items (INSERTs
 * of `EVENT#` sort keys), that hands them to the event publisher function
 * (functions/event-publisher.ts). It puts each on the bus as `Source` `latchkey`, `DetailType`
 * the action, `Detail` the event plus its account; a team routes them on with rules of its own
 * (docs/signals.md). At least once: entries EventBridge refuses are put again, and records still
 * not put are answered as batch item failures, which the mapping retries and bisects like the
 * other consumers' batches, sending one still failing when an hour old to a dead-letter queue
 * with an alarm. What is lost then is the event on the bus: the audit log still holds it.
 *
 * This is the stream's third Lambda consumer (with the revocation flusher and the key expiry):
 * DynamoDB advises at most two readers per shard, beyond which its GetRecords calls may be
 * throttled; the mappings retry a throttled read, so a throttle delays records rather than
 * losing them, and the flusher's IteratorAgeAlarm says when revocation falls behind.
 */
export class EventPublisher extends Construct {
  /** The bus every audit event is put on: give a team's rules this bus. */
  readonly eventBus: EventBus;
  readonly publisher: LatchkeyFunction;
  readonly deadLetterQueue: Queue;
  readonly deadLetterAlarm: Alarm;

  constructor(scope: Construct, id: string, props: EventPublisherProps) {
    super(scope, id);
    if (props.table.tableStreamArn === undefined) throw new Error('the table needs a stream (with new images) to publish its audit events');

    this.eventBus = new EventBus(this, 'Bus', { description: 'Latchkey: every audit event, as Source latchkey and DetailType the action' });
    this.publisher = new LatchkeyFunction(this, 'Publisher', {
      entryName: 'event-publisher',
      description: 'Puts each new audit event from the table stream on the Latchkey event bus',
      memorySize: 256,
      timeout: Duration.seconds(60),
      environment: { [ENV.eventBusName]: this.eventBus.eventBusName },
      logRetention: props.logRetention,
      ...(props.logRemovalPolicy === undefined ? {} : { logRemovalPolicy: props.logRemovalPolicy }),
    });
    for (const statement of eventPublisherStatements({ eventBusArn: this.eventBus.eventBusArn })) this.publisher.role.addToPrincipalPolicy(statement);

    ({ deadLetterQueue: this.deadLetterQueue, deadLetterAlarm: this.deadLetterAlarm } = consumeTableStream(this, this.publisher, {
      table: props.table,
      batchSize: 100,
      // Only new audit items reach the function: no invocation for the table's every other
      // change. The function decides again from each record (shared/adapters/dynamodb/audit-inserts.ts).
      filters: [
        FilterCriteria.filter({
          eventName: ['INSERT'],
          dynamodb: { Keys: { sk: { S: FilterRule.beginsWith(EVENT_PREFIX) } } },
        }),
      ],
      reportBatchItemFailures: true,
      deadLetterMeaning: 'Audit events could not be put on the Latchkey event bus: they are in the audit log, but no rule of the bus saw them',
    }));
  }
}
