import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { FilterCriteria, FilterRule } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { KEY_PREFIX } from '#shared/adapters/dynamodb/items.ts';
import { TTL_PRINCIPAL } from '#shared/adapters/dynamodb/expired-keys.ts';
import { ENV } from '#shared/adapters/environment.ts';
import { keyExpiryStatements } from '../permissions.ts';
import { LatchkeyFunction } from './latchkey-function.ts';
import { consumeTableStream } from './stream-consumer.ts';

export interface KeyExpiryProps {
  /** The single table; it must have a stream with the old image (the stateful stack's has both images). */
  readonly table: ITable;
  /** Days the `api-key.expire` events are kept, as every audit event. */
  readonly auditRetentionDays: number;
  readonly logRetention: RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * Audited removal of expired keys on AWS. DynamoDB's TTL deletes an expired key's item some time
 * after its expiry (typically within days) and tells nobody; the table's stream records the
 * deletion, and an event source mapping of its own, filtered to TTL deletions of key items
 * (AWS's pattern for TTL: `userIdentity` is the DynamoDB service principal), hands them to the
 * key expiry function (functions/key-expiry.ts). It writes the `api-key.expire` audit event and
 * takes the key off its holder's list and count; a redelivered record writes nothing more.
 *
 * The table's stream has three Lambda consumers: the revocation flusher, this and the event
 * publisher (./event-publisher.ts, which says what a reader beyond DynamoDB's advised two per
 * shard costs). A fourth should fan out from one of these rather than add a mapping.
 *
 * Failing batches are retried and bisected like the flusher's, and one still failing when its
 * records are an hour old goes to a dead-letter queue with an alarm. What is lost then is the
 * audit event: the holder's count heals by itself on the next write of that user.
 */
export class KeyExpiry extends Construct {
  readonly recorder: LatchkeyFunction;
  readonly deadLetterQueue: Queue;
  readonly deadLetterAlarm: Alarm;

  constructor(scope: Construct, id: string, props: KeyExpiryProps) {
    super(scope, id);
    if (props.table.tableStreamArn === undefined) throw new Error('the table needs a stream (with old images) to audit key expiry');

    this.recorder = new LatchkeyFunction(this, 'Recorder', {
      entryName: 'key-expiry',
      description: 'Audits the removal of expired keys by DynamoDB TTL and frees their place on their holder',
      memorySize: 256,
      timeout: Duration.seconds(60),
      environment: { [ENV.tableName]: props.table.tableName, [ENV.auditRetentionDays]: String(props.auditRetentionDays) },
      logRetention: props.logRetention,
      ...(props.logRemovalPolicy === undefined ? {} : { logRemovalPolicy: props.logRemovalPolicy }),
    });
    for (const statement of keyExpiryStatements(props)) this.recorder.role.addToPrincipalPolicy(statement);

    ({ deadLetterQueue: this.deadLetterQueue, deadLetterAlarm: this.deadLetterAlarm } = consumeTableStream(this, this.recorder, {
      table: props.table,
      batchSize: 100,
      // Only TTL deletions of key items reach the function: no invocation for the table's
      // every other change, nor for the audit events and name reservations TTL removes too.
      // The function decides again from each record (shared/adapters/dynamodb/expired-keys.ts).
      filters: [
        FilterCriteria.filter({
          // Event filter syntax: a list of the values that match.
          eventName: ['REMOVE'],
          userIdentity: { type: [TTL_PRINCIPAL.type], principalId: [TTL_PRINCIPAL.principalId] },
          dynamodb: { Keys: { sk: { S: FilterRule.beginsWith(KEY_PREFIX) } } },
        }),
      ],
      deadLetterMeaning: 'A key removed by DynamoDB TTL could not be recorded: its api-key.expire audit event is missing',
    }));
  }
}
