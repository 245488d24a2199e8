import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { FlushLedger, FlushLedgerState } from '../../ports/authorizer-cache.ts';
import { FLUSH_LEDGER_PK } from './items.ts';

/** What the ledger item holds besides its keys; the flusher's IAM policy allows these alone. */
export const FLUSH_LEDGER_ATTRIBUTES = ['attempts', 'succeeded', 'nextAttemptAt', 'failures'] as const;

/** The ledger item's sort key for one stage of one API. */
export const flushLedgerSk = (restApiId: string, stageName: string): string => `STAGE#${restApiId}#${stageName}`;

/**
 * A stage's flush ledger as one item of the table (pk FLUSH-LEDGER), read strongly consistent
 * and written only with conditions, so that invocations running at once on several stream
 * shards agree on who makes the next flush call and when. Its own changes pass through the
 * stream like any other and are judged not narrowing (narrowing.ts).
 */
export class DynamoDbFlushLedger implements FlushLedger {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #key: { pk: string; sk: string };

  constructor(client: DynamoDBDocumentClient, tableName: string, restApiId: string, stageName: string) {
    this.#client = client;
    this.#tableName = tableName;
    this.#key = { pk: FLUSH_LEDGER_PK, sk: flushLedgerSk(restApiId, stageName) };
  }

  async read(): Promise<FlushLedgerState> {
    const { Item: item } = await this.#client.send(new GetCommand({ TableName: this.#tableName, Key: this.#key, ConsistentRead: true }));
    return {
      attempts: numberOf(item?.attempts),
      succeeded: numberOf(item?.succeeded),
      nextAttemptAt: numberOf(item?.nextAttemptAt),
      failures: numberOf(item?.failures),
    };
  }

  claim(seen: FlushLedgerState, now: number, nextAttemptAt: number): Promise<boolean> {
    // The count of attempts is the claim's version: two invocations that read the same state
    // cannot both claim, and none can claim before the window (or a backoff) has passed.
    return this.#update({
      UpdateExpression: 'SET attempts = :next, nextAttemptAt = :nextAttemptAt',
      ConditionExpression:
        '(attribute_not_exists(attempts) OR attempts = :seen) AND (attribute_not_exists(nextAttemptAt) OR nextAttemptAt <= :now)',
      ExpressionAttributeValues: { ':seen': seen.attempts, ':next': seen.attempts + 1, ':now': now, ':nextAttemptAt': nextAttemptAt },
    });
  }

  async succeeded(attempt: number, nextAttemptAt: number): Promise<void> {
    const recorded = await this.#update({
      UpdateExpression: 'SET succeeded = :attempt, failures = :zero, nextAttemptAt = :nextAttemptAt',
      ConditionExpression: 'attempts = :attempt',
      ExpressionAttributeValues: { ':attempt': attempt, ':zero': 0, ':nextAttemptAt': nextAttemptAt },
    });
    if (recorded) return;
    // A later attempt was claimed meanwhile (this one outlived its lease): its window stands.
    await this.#update({
      UpdateExpression: 'SET succeeded = :attempt',
      ConditionExpression: 'attribute_not_exists(succeeded) OR succeeded < :attempt',
      ExpressionAttributeValues: { ':attempt': attempt },
    });
  }

  async failed(attempt: number, failures: number, nextAttemptAt: number): Promise<void> {
    // Only while no later attempt was claimed: a late report must not push a newer window back.
    await this.#update({
      UpdateExpression: 'SET failures = :failures, nextAttemptAt = :nextAttemptAt',
      ConditionExpression: 'attempts = :attempt',
      ExpressionAttributeValues: { ':attempt': attempt, ':failures': failures, ':nextAttemptAt': nextAttemptAt },
    });
  }

  /** One conditional update of the ledger item, returning nothing; false when its condition failed. */
  async #update(expression: Pick<UpdateCommand['input'], 'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeValues'>): Promise<boolean> {
    try {
      await this.#client.send(new UpdateCommand({ TableName: this.#tableName, Key: this.#key, ReturnValues: 'NONE', ...expression }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

function numberOf(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
