import { BatchGetCommand, type DynamoDBDocumentClient, GetCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../../domain/errors.ts';
import type { AuditEvent, Page } from '../../domain/model.ts';
import type { ListOptions } from '../../ports/list-options.ts';
import { type CursorShape, decodeCursor, pageFromQuery } from './cursor.ts';
import { type Item, eventItem } from './items.ts';
import type { TransactItem } from './transact-item.ts';
import { type Cancellation, backoff, transactWrite } from './transactions.ts';

export interface DynamoDbStoreOptions {
  /** Audit events expire this many days after they happen (DynamoDB TTL); 0 or absent keeps them. */
  readonly auditRetentionDays?: number;
}

const MAX_LIST_LIMIT = 1000;

/**
 * The one table every store reads and writes (layout: table-schema.ts), with the building
 * blocks they share: strongly consistent reads, paging, the put that never overwrites, the
 * audit event each write carries, and the transaction that carries it. I/O only: which
 * condition a write needs, and what its refusal means, is each store's own.
 */
export class DynamoDbTable {
  readonly client: DynamoDBDocumentClient;
  readonly name: string;
  readonly #retentionDays: number;

  constructor(client: DynamoDBDocumentClient, tableName: string, options: DynamoDbStoreOptions = {}) {
    this.client = client;
    this.name = tableName;
    this.#retentionDays = options.auditRetentionDays ?? 0;
  }

  async get(pk: string, sk: string): Promise<Item | undefined> {
    const output = await this.client.send(new GetCommand({ TableName: this.name, Key: { pk, sk }, ConsistentRead: true }));
    return output.Item;
  }

  /** The items of these keys that exist (strongly consistent), a hundred to a BatchGetItem, the unprocessed asked again. */
  async batchGetAll(keys: readonly { readonly pk: string; readonly sk: string }[]): Promise<Item[]> {
    const items: Item[] = [];
    let pending = [...keys];
    while (pending.length > 0) {
      const batch = pending.slice(0, 100);
      pending = pending.slice(100);
      const output = await this.client.send(new BatchGetCommand({ RequestItems: { [this.name]: { Keys: batch, ConsistentRead: true } } }));
      items.push(...(output.Responses?.[this.name] ?? []));
      const unprocessed = output.UnprocessedKeys?.[this.name]?.Keys ?? [];
      if (unprocessed.length > 0) {
        pending.push(...(unprocessed as { pk: string; sk: string }[]));
        await backoff(1);
      }
    }
    return items;
  }

  /** Every item the query finds, page after page, strongly consistent. */
  async queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const output = await this.client.send(
        new QueryCommand({ ...input, TableName: this.name, ConsistentRead: true, ExclusiveStartKey: startKey }),
      );
      items.push(...(output.Items ?? []));
      startKey = output.LastEvaluatedKey;
    } while (startKey !== undefined);
    return items;
  }

  /** One page of the query, from the caller's cursor (checked against `shape`). */
  async page<T>(
    input: Omit<QueryCommandInput, 'TableName'>,
    shape: CursorShape,
    options: ListOptions,
    map: (item: Item) => T,
  ): Promise<Page<T>> {
    if (!Number.isInteger(options.limit) || options.limit < 1 || options.limit > MAX_LIST_LIMIT) {
      throw new ValidationError('limit', 'range', `limit must be a whole number from 1 to ${MAX_LIST_LIMIT}`);
    }
    const startKey = options.cursor === undefined ? undefined : decodeCursor(options.cursor, shape);
    // One item more than asked tells whether another page exists, so the page holding the
    // last item says so (`nextCursor: null`) instead of sending the caller to an empty page.
    const output = await this.client.send(
      new QueryCommand({ ...input, TableName: this.name, Limit: options.limit + 1, ExclusiveStartKey: startKey }),
    );
    return pageFromQuery(output.Items ?? [], output.LastEvaluatedKey, options.limit, shape, map);
  }

  /** Puts `item` only where no item is. */
  putNew(item: Item): TransactItem {
    return {
      Put: {
        TableName: this.name,
        Item: item,
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': 'pk' },
      },
    };
  }

  /** The audit event as a transaction's item (its actor's checks come with it: principal-check.ts). */
  putEvent(event: AuditEvent): TransactItem {
    return { Put: { TableName: this.name, Item: this.eventItem(event) } };
  }

  /** The audit event's item, expiring after the retention the table was given. */
  eventItem(event: AuditEvent): Item {
    return eventItem(event, this.#retentionDays);
  }

  /** One TransactWriteItems (transactions.ts): undefined when it committed, else why it was cancelled. */
  transact(items: readonly TransactItem[]): Promise<Cancellation | undefined> {
    return transactWrite(this.client, items);
  }

  /**
   * One conditional update and its audit event (and the items of `also`), in one transaction:
   * true if made, false if its condition refused it.
   */
  async updateAudited(update: Omit<NonNullable<TransactItem['Update']>, 'TableName'>, event: AuditEvent, also: readonly TransactItem[] = []): Promise<boolean> {
    const cancellation = await this.transact([{ Update: { TableName: this.name, ...update } }, this.putEvent(event), ...also]);
    return cancellation === undefined;
  }
}
