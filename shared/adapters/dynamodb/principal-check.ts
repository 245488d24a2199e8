import { type DynamoDBDocumentClient, BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { StalePrincipalError } from '../../domain/errors.ts';
import { EVENT_PREFIX, META_SK, type Item, accountPk, keySk } from './items.ts';
import type { TransactItem } from './transactions.ts';

/**
 * The stale-principal check. The authorizer's decision is cached (by API Gateway for its TTL,
 * and a request may be in flight when it is revoked), so a handler cannot trust that the key
 * it was called with still belongs to an owner: a demoted or deleted owner could otherwise use
 * that window to create an owner user or a key of their own and keep access for good. So every
 * transaction that records an audit event whose actor is a key re-checks, inside the same
 * transaction, that the key still exists, still belongs to that user as an owner, and (unless
 * the action is one that must work with the API off) that the account's API is on.
 *
 * It is derived from the transaction's audit event, so a write added later gets it without
 * asking; the system actor (admin CLI, local bootstrap) has no key and is not checked.
 */

/**
 * Actions an owner may take while the account's API is off: the switch itself, or the API
 * could never be turned back on by a key. Such a write still checks the key and its role.
 */
export const ACTIONS_ALLOWED_WHILE_API_OFF: ReadonlySet<string> = new Set(['account.api-enable', 'account.api-disable']);

/** The owner-key holder a transaction acts for, as its audit event names them. */
export interface TransactionPrincipal {
  readonly tableName: string;
  readonly accountId: string;
  readonly userId: string;
  readonly keyId: string;
  readonly requireApiEnabled: boolean;
}

/** The principal of a transaction: the actor of its audit event, if that actor is a key. */
export function principalOf(items: readonly TransactItem[]): TransactionPrincipal | undefined {
  for (const entry of items) {
    const put = entry.Put;
    if (put === undefined) continue;
    const item = put.Item as Item | undefined;
    const sk = item?.sk;
    if (item === undefined || typeof sk !== 'string' || !sk.startsWith(EVENT_PREFIX)) continue;
    const { accountId, actorUserId, actorKeyId, action } = item;
    if (typeof accountId !== 'string' || typeof actorUserId !== 'string' || typeof actorKeyId !== 'string') return undefined;
    return {
      tableName: put.TableName ?? '',
      accountId,
      userId: actorUserId,
      keyId: actorKeyId,
      requireApiEnabled: typeof action !== 'string' || !ACTIONS_ALLOWED_WHILE_API_OFF.has(action),
    };
  }
  return undefined;
}

interface Check {
  readonly key: { readonly pk: string; readonly sk: string };
  readonly condition: string;
  readonly names: Record<string, string>;
  readonly values: Record<string, unknown>;
}

function checksFor(principal: TransactionPrincipal): Check[] {
  const pk = accountPk(principal.accountId);
  const checks: Check[] = [
    {
      key: { pk, sk: keySk(principal.keyId) },
      // The key carries its holder's id and a copy of their role, kept in step by every role
      // change in the same transaction: one item answers "still an owner's key".
      condition: 'attribute_exists(#principalPk) AND #principalUserId = :principalUserId AND #principalRole = :principalOwner',
      names: { '#principalPk': 'pk', '#principalUserId': 'userId', '#principalRole': 'role' },
      values: { ':principalUserId': principal.userId, ':principalOwner': 'owner' },
    },
  ];
  if (principal.requireApiEnabled) {
    checks.push({
      key: { pk, sk: META_SK },
      condition: '#principalApiEnabled = :principalTrue',
      names: { '#principalApiEnabled': 'apiEnabled' },
      values: { ':principalTrue': true },
    });
  }
  return checks;
}

function keyOf(entry: TransactItem): { pk?: unknown; sk?: unknown } | undefined {
  if (entry.Put !== undefined) return entry.Put.Item as Item | undefined;
  return (entry.Update ?? entry.Delete ?? entry.ConditionCheck)?.Key as Item | undefined;
}

/**
 * The transaction with the principal's checks in it. A check on an item the transaction
 * already writes is joined to that write's condition (DynamoDB refuses two operations on one
 * item); otherwise it is one more ConditionCheck at the end, so that the indexes the caller
 * reads its cancellation reasons by stay where they were.
 */
export function withPrincipalChecks(items: readonly TransactItem[], principal: TransactionPrincipal): TransactItem[] {
  const out = [...items];
  for (const check of checksFor(principal)) {
    const index = out.findIndex((entry) => {
      const key = keyOf(entry);
      return key?.pk === check.key.pk && key.sk === check.key.sk;
    });
    const existing = index < 0 ? undefined : out[index];
    if (existing === undefined) {
      out.push({
        ConditionCheck: {
          TableName: principal.tableName,
          Key: { ...check.key },
          ConditionExpression: check.condition,
          ExpressionAttributeNames: check.names,
          ExpressionAttributeValues: check.values,
        },
      });
      continue;
    }
    out[index] = joinCondition(existing, check);
  }
  return out;
}

function joinCondition(entry: TransactItem, check: Check): TransactItem {
  const join = <T extends { ConditionExpression?: string | undefined; ExpressionAttributeNames?: Record<string, string> | undefined; ExpressionAttributeValues?: Record<string, unknown> | undefined }>(
    operation: T,
  ): T => ({
    ...operation,
    ConditionExpression: operation.ConditionExpression === undefined ? check.condition : `(${operation.ConditionExpression}) AND (${check.condition})`,
    ExpressionAttributeNames: { ...operation.ExpressionAttributeNames, ...check.names },
    ExpressionAttributeValues: { ...operation.ExpressionAttributeValues, ...check.values },
  });
  if (entry.Put !== undefined) return { Put: join(entry.Put) };
  if (entry.Update !== undefined) return { Update: join(entry.Update) };
  if (entry.Delete !== undefined) return { Delete: join(entry.Delete) };
  if (entry.ConditionCheck !== undefined) return { ConditionCheck: join(entry.ConditionCheck) };
  return entry;
}

/**
 * After a cancellation in which a condition failed: whether the principal is what failed.
 * A joined check shares its reason with the write's own condition, so the principal is read
 * again (consistently) to tell; the read only explains a refusal, it decides nothing alone.
 */
export async function assertPrincipalCurrent(client: DynamoDBDocumentClient, principal: TransactionPrincipal): Promise<void> {
  const pk = accountPk(principal.accountId);
  const output = await client.send(
    new BatchGetCommand({
      RequestItems: {
        [principal.tableName]: {
          Keys: [
            { pk, sk: keySk(principal.keyId) },
            { pk, sk: META_SK },
          ],
          ConsistentRead: true,
          ProjectionExpression: '#sk, #userId, #role, #apiEnabled',
          ExpressionAttributeNames: { '#sk': 'sk', '#userId': 'userId', '#role': 'role', '#apiEnabled': 'apiEnabled' },
        },
      },
    }),
  );
  const unprocessed = output.UnprocessedKeys?.[principal.tableName]?.Keys ?? [];
  if (unprocessed.length > 0) throw new Error('the principal check read came back incomplete');
  const items = output.Responses?.[principal.tableName] ?? [];
  const key = items.find((item) => item.sk === keySk(principal.keyId));
  const meta = items.find((item) => item.sk === META_SK);
  if (key === undefined || key.userId !== principal.userId || key.role !== 'owner') throw new StalePrincipalError();
  if (principal.requireApiEnabled && meta?.apiEnabled !== true) throw new StalePrincipalError();
}
