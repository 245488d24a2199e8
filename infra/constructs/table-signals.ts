import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { FilterCriteria, FilterRule } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_PREFIX, KEY_PREFIX } from '#shared/adapters/dynamodb/items.ts';
import { TTL_PRINCIPAL } from '#shared/adapters/dynamodb/expired-keys.ts';
import { ENV } from '#shared/adapters/environment.ts';
import { eventPublisherStatements, keyExpiryStatements } from '../permissions.ts';
import { LatchkeyFunction } from './latchkey-function.ts';
import { consumeTableStream } from './stream-consumer.ts';

export interface TableSignalsProps {
  /** The single table; it must have a stream with both images (the stateful stack's has). */
  readonly table: ITable;
  /** Days the `api-key.expire` events are kept, as every audit event. */
  readonly auditRetentionDays: number;
  readonly logRetention: RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * TTL deletions of key items, as AWS documents them for TTL: `userIdentity` is the DynamoDB
 * service principal. Not the audit events and name reservations TTL removes too.
 */
export const KEY_EXPIRY_FILTER = FilterCriteria.filter({
  // Event filter syntax: a list of the values that match.
  eventName: ['REMOVE'],
  userIdentity: { type: [TTL_PRINCIPAL.type], principalId: [TTL_PRINCIPAL.principalId] },
  dynamodb: { Keys: { sk: { S: FilterRule.beginsWith(KEY_PREFIX) } } },
});

/** New audit items: an event is written once, so its INSERT is its one record. */
export const NEW_AUDIT_EVENT_FILTER = FilterCriteria.filter({
  eventName: ['INSERT'],
  dynamodb: { Keys: { sk: { S: FilterRule.beginsWith(EVENT_PREFIX) } } },
});

/**
 * The table stream's second and last Lambda reader, beside the revocation flusher
 * (./revocation-flusher.ts, whose mapping stays its own: the revocation bound depends on it).
 * DynamoDB serves at most two readers per stream shard: "More than 2 processes are reading from
 * the same streams shard at the same time. Exceeding this limit may result in request
 * throttling" (the DynamoDB Streams API's LimitExceededException). A third mapping's throttled
 * GetRecords calls would delay the flusher's too. So the jobs that are not revocation share one
 * mapping, its two filters OR-ed, and one function (functions/table-signals.ts) that hands each
 * record to its job:
 * - key expiry: DynamoDB's TTL deletes an expired key's item some time after its expiry
 *   (typically within days) and tells nobody; the function writes the `api-key.expire` audit
 *   event and takes the key off its holder's list and count; a redelivered record writes
 *   nothing more.
 * - event publishing (DESIGN.md section 16): each new audit item is put on an EventBridge bus of
 *   the deployment's own as `Source` `latchkey`, `DetailType` the action, `Detail` the event
 *   plus its account; a team routes them on with rules of its own (docs/signals.md). At least
 *   once: entries EventBridge refuses are put again.
 * A new job joins this mapping (a mapping takes up to five filters) rather than add a reader.
 *
 * What either job failed is answered as batch item failures, which the mapping retries and
 * bisects like the flusher's batches, sending one still failing when its records are an hour
 * old to a dead-letter queue with an alarm. What is lost then is an `api-key.expire` audit event
 * (the holder's count heals by itself on the next write of that user) or an event on the bus
 * (the audit log still holds it).
 */
export class TableSignals extends Construct {
  /** The bus every audit event is put on: give a team's rules this bus. */
  readonly eventBus: EventBus;
  readonly signalsFunction: LatchkeyFunction;
  readonly deadLetterQueue: Queue;
  readonly deadLetterAlarm: Alarm;

  constructor(scope: Construct, id: string, props: TableSignalsProps) {
    super(scope, id);
    if (props.table.tableStreamArn === undefined) throw new Error('the table needs a stream (with both images) to audit key expiry and publish audit events');

    this.eventBus = new EventBus(this, 'Bus', { description: 'Latchkey: every audit event, as Source latchkey and DetailType the action' });
    this.signalsFunction = new LatchkeyFunction(this, 'Function', {
      entryName: 'table-signals',
      description: 'Audits keys removed by DynamoDB TTL and puts each new audit event on the Latchkey event bus, from the table stream',
      memorySize: 256,
      timeout: Duration.seconds(60),
      environment: {
        [ENV.tableName]: props.table.tableName,
        [ENV.auditRetentionDays]: String(props.auditRetentionDays),
        [ENV.eventBusName]: this.eventBus.eventBusName,
      },
      logRetention: props.logRetention,
      ...(props.logRemovalPolicy === undefined ? {} : { logRemovalPolicy: props.logRemovalPolicy }),
    });
    // The union of the two jobs' permissions, and nothing else.
    const statements = [...keyExpiryStatements(props), ...eventPublisherStatements({ eventBusArn: this.eventBus.eventBusArn })];
    for (const statement of statements) this.signalsFunction.role.addToPrincipalPolicy(statement);

    ({ deadLetterQueue: this.deadLetterQueue, deadLetterAlarm: this.deadLetterAlarm } = consumeTableStream(this, this.signalsFunction, {
      table: props.table,
      batchSize: 100,
      // Only these reach the function: no invocation for the table's every other change. The
      // function decides again from each record (shared/adapters/dynamodb/expired-keys.ts and
      // audit-inserts.ts).
      filters: [KEY_EXPIRY_FILTER, NEW_AUDIT_EVENT_FILTER],
      reportBatchItemFailures: true,
      deadLetterMeaning:
        'Table stream records could not be handled: a key removed by DynamoDB TTL may miss its api-key.expire audit event, or audit events (still in the audit log) were not put on the Latchkey event bus',
    }));
  }
}
