import { KEY_PERMISSIONS_ATTRIBUTE } from './permission-attributes.ts';
import { ACCOUNT_KEY_DIGEST, CONFIG_PK, type DigestAttributes, EVENT_PREFIX, FLUSH_LEDGER_PK, KEYNAME_PREFIX, KEY_PREFIX, LEAKED_PREFIX, META_SK, PEPPER_PREFIX, USER_KEY_DIGEST, USER_PREFIX } from './items.ts';

/**
 * Whether a change to the table may have taken access away, decided from the change alone
 * (its old and new images, as DynamoDB Streams delivers them with NEW_AND_OLD_IMAGES). The
 * one decision behind the stage-cache flush, shared by the flusher function on AWS and the
 * local runtime's stream poller. Pure: no clock, no I/O.
 *
 * A cached Allow is only wrong after a change that narrows what the authorizer would decide,
 * so only those cost a flush: a key or its account gone (deleted, or expired by TTL), a key's
 * digest, pepper version, holder, role or permissions changed, its allow list narrowed, a user's role
 * changed or the user removed, the API switched off or the account key's digest changed.
 * Widening changes (a new key, a rule added to a non-empty list, the API switched on) and
 * bookkeeping (`lastUsedAt`, revisions, audit events, name reservations, peppers added, a leak
 * report's flag and its leak record, a digest upgraded to a newer pepper) are not. Anything not known to be
 * harmless counts as narrowing: when unsure, flush.
 */

/** The wire form of a DynamoDB attribute value, as both the Lambda event and the Streams API carry it. */
export interface StreamAttributeValue {
  readonly S?: string | undefined;
  readonly N?: string | undefined;
  readonly B?: Uint8Array | string | undefined;
  readonly SS?: readonly string[] | undefined;
  readonly NS?: readonly string[] | undefined;
  readonly BS?: readonly (Uint8Array | string)[] | undefined;
  readonly M?: Readonly<Record<string, StreamAttributeValue>> | undefined;
  readonly L?: readonly StreamAttributeValue[] | undefined;
  readonly NULL?: boolean | undefined;
  readonly BOOL?: boolean | undefined;
}

export type StreamImage = Readonly<Record<string, StreamAttributeValue>>;

/** One change to the table as a stream record tells it (the Lambda event's and the Streams API's forms alike). */
export interface TableChange {
  readonly eventName?: string | undefined;
  readonly keys?: StreamImage | undefined;
  readonly oldImage?: StreamImage | undefined;
  readonly newImage?: StreamImage | undefined;
  /** Who made the change, when the record says: DynamoDB's TTL shows as the service principal on AWS. */
  readonly userIdentity?: { readonly type?: string | undefined; readonly principalId?: string | undefined } | undefined;
  /** When the change happened, in epoch milliseconds (AWS gives whole seconds, DynamoDB Local whole minutes). */
  readonly approximateCreationTime?: number | undefined;
}

/** Attributes of a key item whose change never narrows access. */
const KEY_BOOKKEEPING = new Set(['lastUsedAt', 'rev', 'name', 'createdAt', 'gsi1pk', 'gsi1sk', 'id', 'accountId', 'pk', 'sk']);
/**
 * Attributes of an account item whose change never narrows access (apiEnabled is judged on its
 * own). A leak report's flag only tells the owners to roll: the key works until they do.
 */
const ACCOUNT_BOOKKEEPING = new Set(['name', 'ownerCount', 'createdAt', 'accountKeyMasked', 'id', 'pk', 'sk', 'apiEnabled', 'accountKeyLeakReportedAt']);
/** Attributes of a user item whose change never narrows access (role is judged on its own). */
const USER_BOOKKEEPING = new Set(['name', 'email', 'keyIds', 'keyCount', 'rev', 'createdAt', 'id', 'accountId', 'pk', 'sk', 'role']);

export function narrowsAccess(change: TableChange): boolean {
  const pk = stringOf(change.keys?.pk ?? change.oldImage?.pk ?? change.newImage?.pk);
  const sk = stringOf(change.keys?.sk ?? change.oldImage?.sk ?? change.newImage?.sk);
  if (pk === undefined || sk === undefined) return true;
  const { oldImage, newImage } = change;

  if (pk === CONFIG_PK) {
    // A new pepper widens; a removed one stops every digest made with it.
    if (sk.startsWith(PEPPER_PREFIX)) return oldImage !== undefined && changed(oldImage, newImage, new Set());
    return true;
  }
  // The flusher's own record of its flushes: counting it would make every flush call for another.
  if (pk === FLUSH_LEDGER_PK) return false;
  if (sk.startsWith(EVENT_PREFIX) || sk.startsWith(KEYNAME_PREFIX)) return false;
  // A leak record only remembers that a value was a live key: written, replaced or removed by TTL, it grants and takes nothing.
  if (sk.startsWith(LEAKED_PREFIX)) return false;
  // Nothing was there before: a new item only adds access. (A REMOVE or MODIFY always has an
  // old image with NEW_AND_OLD_IMAGES; without one, the stream is misconfigured: flush.)
  if (change.eventName === 'INSERT') return false;
  if (oldImage === undefined) return true;
  // An account, user or key gone (deleted, or expired by TTL), or anything not known to be harmless.
  if (newImage === undefined) return true;

  if (sk === META_SK) {
    if (oldImage.apiEnabled?.BOOL === true && newImage.apiEnabled?.BOOL !== true) return true;
    return changed(oldImage, newImage, new Set([...ACCOUNT_BOOKKEEPING, ...digestUpgrade(oldImage, newImage, ACCOUNT_KEY_DIGEST)]));
  }
  if (sk.startsWith(KEY_PREFIX)) {
    if (!same(oldImage.role, newImage.role)) return true;
    // A key's permissions (DESIGN 14) changed, either way: a narrower list must stop a cached
    // Allow, and a wider one must not wait out a cached refusal of a route the old list left out.
    if (!same(oldImage[KEY_PERMISSIONS_ATTRIBUTE], newImage[KEY_PERMISSIONS_ATTRIBUTE])) return true;
    // Any change of the allow list, a widening too: an address outside the old list got an
    // explicit Deny, which API Gateway caches like an Allow, so it would outlive the rule that
    // caused it by the cache's TTL (a deleted rule would still refuse for minutes).
    return changed(oldImage, newImage, new Set([...KEY_BOOKKEEPING, 'role', ...digestUpgrade(oldImage, newImage, USER_KEY_DIGEST)]));
  }
  if (sk.startsWith(USER_PREFIX)) {
    if (!same(oldImage.role, newImage.role)) return true;
    return changed(oldImage, newImage, USER_BOOKKEEPING);
  }
  return true;
}

/**
 * The digest attributes a change may move without narrowing: those of a digest upgrade
 * (shared/authorization/digest-upgrades.ts), which replaces the digest of the same secret by one under a
 * newer pepper, so every Allow cached for that secret stays right. A roll also replaces the
 * digest and may move the pepper version up, so the images alone could not tell the two apart:
 * the upgrade writes the digest it replaced beside the new one. This change is an upgrade only
 * if the new image's marker is the old image's digest and the pepper version rose. A roll
 * leaves the marker alone, and a marker left from an earlier upgrade names the digest that
 * upgrade replaced (under an older pepper), never the digest the item held when the roll came:
 * so a roll is never taken for an upgrade.
 */
function digestUpgrade(oldImage: StreamImage, newImage: StreamImage, names: DigestAttributes): string[] {
  const marker = newImage[names.upgradedFrom];
  if (marker?.B === undefined || !same(marker, oldImage[names.hash])) return [];
  const before = Number(oldImage[names.pepperVersion]?.N);
  const after = Number(newImage[names.pepperVersion]?.N);
  if (!Number.isInteger(before) || !Number.isInteger(after) || after <= before) return [];
  return [names.hash, names.pepperVersion, names.upgradedFrom];
}

/** A string attribute of a stream image; undefined when absent or of another type. */
export function stringOf(value: StreamAttributeValue | undefined): string | undefined {
  return value?.S;
}

/** Whether any attribute outside `ignored` differs between the images (absent on one side counts). */
function changed(oldImage: StreamImage, newImage: StreamImage | undefined, ignored: ReadonlySet<string>): boolean {
  if (newImage === undefined) return true;
  const names = new Set([...Object.keys(oldImage), ...Object.keys(newImage)]);
  for (const name of names) {
    if (ignored.has(name)) continue;
    if (!same(oldImage[name], newImage[name])) return true;
  }
  return false;
}

function same(a: StreamAttributeValue | undefined, b: StreamAttributeValue | undefined): boolean {
  return canonical(a) === canonical(b);
}

/** A comparable text of an attribute value: binaries as base64 (the Lambda event's form), sets sorted. */
function canonical(value: StreamAttributeValue | undefined): string {
  if (value === undefined) return 'undefined';
  return JSON.stringify(normalise(value));
}

function normalise(value: StreamAttributeValue): unknown {
  if (value.B !== undefined) return { B: binary(value.B) };
  if (value.BS !== undefined) return { BS: value.BS.map(binary).sort() };
  if (value.SS !== undefined) return { SS: [...value.SS].sort() };
  if (value.NS !== undefined) return { NS: [...value.NS].sort() };
  if (value.M !== undefined) {
    const entries = Object.keys(value.M)
      .sort()
      .map((name) => [name, normalise(value.M?.[name] ?? {})]);
    return { M: entries };
  }
  if (value.L !== undefined) return { L: value.L.map(normalise) };
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  return {};
}

function binary(value: Uint8Array | string): string {
  return typeof value === 'string' ? value : Buffer.from(value).toString('base64');
}
