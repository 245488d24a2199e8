import type { AuditedPermissions } from '../../domain/model.ts';

/**
 * Where permissions live on items (DESIGN 14). A restricted key's item carries its list as
 * `permissions`, a DynamoDB list of strings; an unrestricted key has no such attribute (the
 * authorizer reads exactly this attribute, in its one read). An audit event that set a key's
 * permissions carries them as a map `permissions` with `after` and, for an update, `before`
 * (each a list, or NULL for unrestricted).
 */
export const KEY_PERMISSIONS_ATTRIBUTE = 'permissions';
export const EVENT_PERMISSIONS_ATTRIBUTE = 'permissions';

type Item = Record<string, unknown>;

function malformed(name: string): Error {
  return new Error(`stored item has a missing or malformed '${name}'`);
}

/** The attribute of a key restricted to `permissions`; none for an unrestricted key. */
export function keyPermissionsAttribute(permissions: readonly string[] | null | undefined): Item {
  return permissions === null || permissions === undefined ? {} : { [KEY_PERMISSIONS_ATTRIBUTE]: [...permissions] };
}

function readList(value: unknown, name: string): string[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value) || !value.every((entry): entry is string => typeof entry === 'string')) throw malformed(name);
  return [...value];
}

/** A key's permissions as stored: null when it is unrestricted. */
export function readKeyPermissions(item: Item): string[] | null {
  return readList(item[KEY_PERMISSIONS_ATTRIBUTE], KEY_PERMISSIONS_ATTRIBUTE);
}

/** A condition that the key item still has the permissions `item` was read with (a list, or none). */
export function permissionsUnchanged(item: Item): { condition: string; names: Record<string, string>; values: Item } {
  const names = { '#permissionsRead': KEY_PERMISSIONS_ATTRIBUTE };
  const list = readKeyPermissions(item);
  if (list === null) return { condition: 'attribute_not_exists(#permissionsRead)', names, values: {} };
  return { condition: '#permissionsRead = :permissionsRead', names, values: { ':permissionsRead': list } };
}

/** The attribute of an event that set a key's permissions; none for any other event. */
export function eventPermissionsAttribute(permissions: AuditedPermissions | undefined): Item {
  if (permissions === undefined) return {};
  const after = permissions.after === null ? null : [...permissions.after];
  if (permissions.before === undefined) return { [EVENT_PERMISSIONS_ATTRIBUTE]: { after } };
  return { [EVENT_PERMISSIONS_ATTRIBUTE]: { before: permissions.before === null ? null : [...permissions.before], after } };
}

export function readEventPermissions(item: Item): AuditedPermissions | undefined {
  const value = item[EVENT_PERMISSIONS_ATTRIBUTE];
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(EVENT_PERMISSIONS_ATTRIBUTE);
  const map = value as Item;
  const after = readList(map.after, EVENT_PERMISSIONS_ATTRIBUTE);
  return 'before' in map ? { before: readList(map.before, EVENT_PERMISSIONS_ATTRIBUTE), after } : { after };
}
