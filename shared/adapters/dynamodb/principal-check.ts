import { type DynamoDBDocumentClient, BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { StalePrincipalError } from '../../domain/errors.ts';
import { type PresentedSecrets, UNTAGGED_SECRET, isSecretTag } from '../../domain/secret-tags.ts';
import {
  ACCOUNT_KEY_TAGS,
  EVENT_PREFIX,
  type Item,
  KEY_SECRET_TAGS,
  META_SK,
  PRESENTED_SECRET_ATTRIBUTES,
  type SecretTagAttributes,
  accountPk,
  keySk,
} from './items.ts';
import type { TransactItem } from './transact-item.ts';

/**
 * The stale-principal check. The authorizer's decision is cached (by API Gateway for its TTL,
 * and a request may be in flight when it is revoked), so a handler cannot trust that the key
 * it was called with still belongs to an owner: a demoted or deleted owner could otherwise use
 * that window to create an owner user or a key of their own and keep access for good. So every
 * transaction that records an audit event whose actor is a key re-checks, inside the same
 * transaction, that the key still exists, still belongs to that user as an owner, and (unless
 * the action is one that must work with the API off) that the account's API is on.
 *
 * The cached Allow names the key, not its secret: a secret rolled away (a grace of 0, or a roll
 * during a grace that ends the older one) would still pass those checks. So when the actor's
 * request came with the tags of its two secrets (domain/secret-tags.ts), the same transaction
 * also checks that each still names the current secret of its item, or the previous one while
 * its grace lasts at the event's time.
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
  /** The tags of the secrets the request was authorized with; absent: the key alone is checked. */
  readonly presentedSecrets?: PresentedSecrets | undefined;
  /** The event's time (ISO 8601), against which a previous secret's grace is read. */
  readonly at: string;
}

/** The principal of a transaction: the actor of its audit event, if that actor is a key. */
export function principalOf(items: readonly TransactItem[]): TransactionPrincipal | undefined {
  for (const entry of items) {
    const put = entry.Put;
    if (put === undefined) continue;
    const item = put.Item as Item | undefined;
    const sk = item?.sk;
    if (item === undefined || typeof sk !== 'string' || !sk.startsWith(EVENT_PREFIX)) continue;
    const { accountId, actorUserId, actorKeyId, action, time } = item;
    if (typeof accountId !== 'string' || typeof actorUserId !== 'string' || typeof actorKeyId !== 'string') return undefined;
    if (typeof time !== 'string') throw new Error('an audit event needs an ISO-8601 time');
    return {
      tableName: put.TableName ?? '',
      accountId,
      userId: actorUserId,
      keyId: actorKeyId,
      requireApiEnabled: typeof action !== 'string' || !ACTIONS_ALLOWED_WHILE_API_OFF.has(action),
      presentedSecrets: presentedSecretsOf(item),
      at: time,
    };
  }
  return undefined;
}

/** The tags an event item carries for its transaction; a malformed pair is an error, never "none". */
function presentedSecretsOf(item: Item): PresentedSecrets | undefined {
  const accountKey = item[PRESENTED_SECRET_ATTRIBUTES.accountKey];
  const userKey = item[PRESENTED_SECRET_ATTRIBUTES.userKey];
  if (accountKey === undefined && userKey === undefined) return undefined;
  if (typeof accountKey !== 'string' || typeof userKey !== 'string' || !isSecretTag(accountKey) || !isSecretTag(userKey)) {
    throw new Error('an audit event carries malformed secret tags');
  }
  return { accountKey, userKey };
}

/**
 * The transaction's items with the presented secrets' tags taken off the event: they are
 * read by the checks, never stored.
 */
export function withoutPresentedSecrets(items: readonly TransactItem[]): TransactItem[] {
  return items.map((entry) => {
    const item = entry.Put?.Item as Item | undefined;
    if (entry.Put === undefined || item === undefined) return entry;
    if (!(PRESENTED_SECRET_ATTRIBUTES.accountKey in item) && !(PRESENTED_SECRET_ATTRIBUTES.userKey in item)) return entry;
    const { [PRESENTED_SECRET_ATTRIBUTES.accountKey]: _accountKey, [PRESENTED_SECRET_ATTRIBUTES.userKey]: _userKey, ...stored } = item;
    return { Put: { ...entry.Put, Item: stored } };
  });
}

interface Check {
  readonly key: { readonly pk: string; readonly sk: string };
  readonly condition: string;
  readonly names: Record<string, string>;
  readonly values: Record<string, unknown>;
}

/**
 * "`tag` still names a live secret of this item": its current one, or the one a roll replaced
 * while its grace lasts at `at` (a grace ended by a leak report removes its deadline too). An
 * untagged secret is the slot that has no tag.
 */
function secretTagCheck(attributes: SecretTagAttributes, tag: string, at: string, label: string): Omit<Check, 'key'> {
  const [current, previous, expiresAt, value] = [`#${label}Tag`, `#${label}PreviousTag`, `#${label}PreviousExpiresAt`, `:${label}Tag`];
  const names = { [current]: attributes.current, [previous]: attributes.previous, [expiresAt]: attributes.previousExpiresAt };
  if (tag === UNTAGGED_SECRET) {
    return {
      condition: `attribute_not_exists(${current}) OR (attribute_not_exists(${previous}) AND ${expiresAt} > :principalAt)`,
      names,
      values: { ':principalAt': at },
    };
  }
  return {
    condition: `${current} = ${value} OR (${previous} = ${value} AND ${expiresAt} > :principalAt)`,
    names,
    values: { [value]: tag, ':principalAt': at },
  };
}

/** The same test as secretTagCheck's condition, on an item read back (assertPrincipalCurrent). */
function holdsSecret(item: Item, attributes: SecretTagAttributes, tag: string, at: string): boolean {
  const current = item[attributes.current];
  const previous = item[attributes.previous];
  const expiresAt = item[attributes.previousExpiresAt];
  const inGrace = typeof expiresAt === 'string' && expiresAt > at;
  if (tag === UNTAGGED_SECRET) return current === undefined || (previous === undefined && inGrace);
  return current === tag || (previous === tag && inGrace);
}

/** The parts as one check. DynamoDB refuses redundant parentheses, so a lone part goes bare. */
function joined(parts: readonly Omit<Check, 'key'>[]): Omit<Check, 'key'> {
  return {
    condition: parts.length === 1 ? (parts[0]?.condition ?? '') : parts.map((part) => `(${part.condition})`).join(' AND '),
    names: Object.assign({}, ...parts.map((part) => part.names)) as Record<string, string>,
    values: Object.assign({}, ...parts.map((part) => part.values)) as Record<string, unknown>,
  };
}

function checksFor(principal: TransactionPrincipal): Check[] {
  const pk = accountPk(principal.accountId);
  const { presentedSecrets, at } = principal;
  const keyParts: Omit<Check, 'key'>[] = [
    {
      // The key carries its holder's id and a copy of their role, kept in step by every role
      // change in the same transaction: one item answers "still an owner's key".
      condition: 'attribute_exists(#principalPk) AND #principalUserId = :principalUserId AND #principalRole = :principalOwner',
      names: { '#principalPk': 'pk', '#principalUserId': 'userId', '#principalRole': 'role' },
      values: { ':principalUserId': principal.userId, ':principalOwner': 'owner' },
    },
  ];
  const accountParts: Omit<Check, 'key'>[] = [];
  if (principal.requireApiEnabled) {
    accountParts.push({
      condition: '#principalApiEnabled = :principalTrue',
      names: { '#principalApiEnabled': 'apiEnabled' },
      values: { ':principalTrue': true },
    });
  }
  if (presentedSecrets !== undefined) {
    keyParts.push(secretTagCheck(KEY_SECRET_TAGS, presentedSecrets.userKey, at, 'principalUserKey'));
    accountParts.push(secretTagCheck(ACCOUNT_KEY_TAGS, presentedSecrets.accountKey, at, 'principalAccountKey'));
  }
  const checks: Check[] = [{ key: { pk, sk: keySk(principal.keyId) }, ...joined(keyParts) }];
  if (accountParts.length > 0) checks.push({ key: { pk, sk: META_SK }, ...joined(accountParts) });
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
          ProjectionExpression: '#sk, #userId, #role, #apiEnabled, #kt, #kpt, #kpe, #at, #apt, #ape',
          ExpressionAttributeNames: {
            '#sk': 'sk',
            '#userId': 'userId',
            '#role': 'role',
            '#apiEnabled': 'apiEnabled',
            '#kt': KEY_SECRET_TAGS.current,
            '#kpt': KEY_SECRET_TAGS.previous,
            '#kpe': KEY_SECRET_TAGS.previousExpiresAt,
            '#at': ACCOUNT_KEY_TAGS.current,
            '#apt': ACCOUNT_KEY_TAGS.previous,
            '#ape': ACCOUNT_KEY_TAGS.previousExpiresAt,
          },
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
  const { presentedSecrets, at } = principal;
  if (presentedSecrets === undefined) return;
  if (!holdsSecret(key, KEY_SECRET_TAGS, presentedSecrets.userKey, at)) throw new StalePrincipalError();
  if (meta === undefined || !holdsSecret(meta, ACCOUNT_KEY_TAGS, presentedSecrets.accountKey, at)) throw new StalePrincipalError();
}
