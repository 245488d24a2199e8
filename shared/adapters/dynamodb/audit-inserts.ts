import type { AuditEvent, AuditedPermissions } from '../../domain/model.ts';
import { ACCOUNT_PREFIX, EVENT_PREFIX } from './items.ts';
import { type StreamAttributeValue, type StreamImage, type TableChange, stringOf } from './narrowing.ts';
import { EVENT_PERMISSIONS_ATTRIBUTE } from './permission-attributes.ts';

/**
 * Which changes on the table's stream are a new audit event, and that event, decided from the
 * change alone: an INSERT of an item whose sort key begins `EVENT#`. An event is written once
 * and never changed, so its INSERT is the one record of it (its TTL removal is not an event).
 * Only the fields of AuditEvent are read from the image, one by one: nothing else of the item
 * is carried on. Pure: no clock, no I/O.
 */
export function insertedAuditEvent(change: TableChange): AuditEvent | undefined {
  if (change.eventName !== 'INSERT') return undefined;
  const image = change.newImage;
  if (image === undefined) return undefined;
  const pk = stringOf(change.keys?.pk ?? image.pk);
  const sk = stringOf(change.keys?.sk ?? image.sk);
  if (pk === undefined || sk === undefined || !pk.startsWith(ACCOUNT_PREFIX) || !sk.startsWith(EVENT_PREFIX)) return undefined;
  const id = stringOf(image.id);
  const time = stringOf(image.time);
  const action = stringOf(image.action);
  const target = stringOf(image.target);
  // An item under EVENT# without an event's fields is no event of ours.
  if (id === undefined || time === undefined || action === undefined || target === undefined) return undefined;
  return {
    id,
    accountId: stringOf(image.accountId) ?? pk.slice(ACCOUNT_PREFIX.length),
    time,
    action,
    actor: { userId: optionalString(image, 'actorUserId'), keyId: optionalString(image, 'actorKeyId') },
    target,
    sourceIp: optionalString(image, 'sourceIp'),
    ...permissionsOf(image),
  };
}

function permissionsOf(image: StreamImage): Pick<AuditEvent, 'permissions'> {
  const permissions = eventPermissionsFromImage(image);
  return permissions === undefined ? {} : { permissions };
}

/** A string attribute that may be absent or NULL (as the store writes an actor-less event). */
function optionalString(image: StreamImage, name: string): string | null {
  return stringOf(image[name]) ?? null;
}

/** The permissions an event set (permission-attributes.ts), from its image; anything malformed reads as none. */
function eventPermissionsFromImage(image: StreamImage): AuditedPermissions | undefined {
  const map = image[EVENT_PERMISSIONS_ATTRIBUTE]?.M;
  if (map === undefined) return undefined;
  const list = (value: StreamAttributeValue | undefined): string[] | null | undefined => {
    if (value === undefined) return undefined;
    if (value.NULL === true) return null;
    if (value.L === undefined) return undefined;
    const names = value.L.map((entry) => entry.S);
    return names.every((name): name is string => name !== undefined) ? names : undefined;
  };
  const after = list(map.after);
  if (after === undefined) return undefined;
  if (!('before' in map)) return { after };
  const before = list(map.before);
  return before === undefined ? undefined : { before, after };
}
