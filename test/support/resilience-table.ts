import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';

/**
 * Whole-table views for the resilience tests: a snapshot (a Scan, which only tests may do),
 * the difference between two snapshots reduced to its shape, and the cross-item invariants
 * that the store's transactions exist to keep.
 */

export type StoredItem = Readonly<Record<string, unknown>>;
export type TableSnapshot = ReadonlyMap<string, StoredItem>;

export async function scanTable(client: DynamoDBDocumentClient, tableName: string): Promise<StoredItem[]> {
  const items: StoredItem[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return items;
}

function itemId(item: StoredItem): string {
  return `${String(item.pk)}\u0000${String(item.sk)}`;
}

export async function snapshotTable(client: DynamoDBDocumentClient, tableName: string): Promise<TableSnapshot> {
  return new Map((await scanTable(client, tableName)).map((item) => [itemId(item), item]));
}

/** A stable text for any stored value: sets sorted, binary as hex. */
export function canonical(value: unknown): string {
  if (value instanceof Uint8Array) return `bin:${Buffer.from(value).toString('hex')}`;
  if (value instanceof Set) return `set:${JSON.stringify([...(value as Set<unknown>)].map(canonical).sort())}`;
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return value === undefined ? 'undefined' : JSON.stringify(value);
}

/** `lastUsedAt` is written best effort after a request succeeds; it is not part of any change. */
const INCIDENTAL_ATTRIBUTES = new Set(['lastUsedAt']);

function changedAttributes(before: StoredItem, after: StoredItem): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((name) => !INCIDENTAL_ATTRIBUTES.has(name) && canonical(before[name]) !== canonical(after[name])).sort();
}

/** The kind of an item, from its sort key: META, USER, KEY, KEYNAME, EVENT:<action>, PEPPER. */
function itemKind(item: StoredItem): string {
  const kind = String(item.sk).split('#')[0] ?? '';
  return kind === 'EVENT' ? `EVENT:${String(item.action)}` : kind;
}

/**
 * What a change did, without its ids and times: one line per item added, removed or changed
 * (with the attributes changed), sorted. Two runs of one operation on like fixtures have the
 * same shape, whatever ids they drew.
 */
export function changeShape(before: TableSnapshot, after: TableSnapshot): string[] {
  const lines: string[] = [];
  for (const [id, item] of after) {
    const previous = before.get(id);
    if (previous === undefined) lines.push(`added ${itemKind(item)}`);
    else {
      const changed = changedAttributes(previous, item);
      if (changed.length > 0) lines.push(`changed ${itemKind(item)} ${changed.join(',')}`);
    }
  }
  for (const [id, item] of before) if (!after.has(id)) lines.push(`removed ${itemKind(item)}`);
  return lines.sort();
}

/**
 * Every way the table can hold a half-written entity: a key without its name reservation or
 * its user's link, a reservation without its key, a key count or owner count that does not
 * match the items, a role copy that differs from its user's role, a key's set of CIDRs that
 * differs from its rules (or rules that repeat a CIDR). Empty when all hold.
 */
export function invariantViolations(items: readonly StoredItem[], limits?: { readonly rulesPerKey: number; readonly keysPerUser: number }): string[] {
  const violations: string[] = [];
  const partitions = new Map<string, StoredItem[]>();
  for (const item of items) {
    const pk = String(item.pk);
    if (!pk.startsWith('ACCOUNT#')) continue;
    partitions.set(pk, [...(partitions.get(pk) ?? []), item]);
  }
  for (const [pk, partition] of partitions) {
    const of = (prefix: string): StoredItem[] => partition.filter((item) => String(item.sk).startsWith(prefix));
    const meta = partition.find((item) => item.sk === 'META');
    const users = new Map(of('USER#').map((user) => [String(user.id), user]));
    const keys = of('KEY#');
    const names = new Map(of('KEYNAME#').map((reservation) => [String(reservation.sk).slice('KEYNAME#'.length), reservation]));
    if (meta === undefined) {
      violations.push(`${pk}: items without the account`);
      continue;
    }
    const owners = [...users.values()].filter((user) => user.role === 'owner').length;
    if (meta.ownerCount !== owners) violations.push(`${pk}: ownerCount ${String(meta.ownerCount)} but ${owners} owners`);
    if (owners === 0) violations.push(`${pk}: no owner left`);
    for (const key of keys) {
      const keyId = String(key.id);
      const user = users.get(String(key.userId));
      if (user === undefined) violations.push(`${pk}: key ${keyId} belongs to no user`);
      else {
        const linked = user.keyIds instanceof Set && (user.keyIds as Set<unknown>).has(keyId);
        if (!linked) violations.push(`${pk}: key ${keyId} is not in its user's keyIds`);
        if (user.role !== key.role) violations.push(`${pk}: key ${keyId} carries role ${String(key.role)}, its user has ${String(user.role)}`);
      }
      if (names.get(String(key.name))?.keyId !== keyId) violations.push(`${pk}: key ${keyId} has no name reservation`);
      if (key.sk !== `KEY#${keyId}`) violations.push(`${pk}: key item ${String(key.sk)} holds id ${keyId}`);
      const rules = Array.isArray(key.rules) ? key.rules.length : 0;
      if (limits !== undefined && rules > limits.rulesPerKey) violations.push(`${pk}: key ${keyId} has ${rules} rules`);
      // The set of CIDRs a single append checks for duplicates must name exactly the rules' CIDRs.
      const ruleCidrs = Array.isArray(key.rules) ? (key.rules as unknown[]).map((rule) => String((rule as { cidr?: unknown }).cidr)) : [];
      const cidrSet = key.cidrs instanceof Set ? [...(key.cidrs as Set<unknown>)].map(String) : key.cidrs === undefined ? [] : ['(not a set)'];
      if (canonical([...new Set(ruleCidrs)].sort()) !== canonical(cidrSet.sort()) || new Set(ruleCidrs).size !== ruleCidrs.length) {
        violations.push(`${pk}: key ${keyId} has rules for ${ruleCidrs.join(',')} but the CIDR set ${cidrSet.join(',')}`);
      }
    }
    for (const [name, reservation] of names) {
      const key = keys.find((k) => k.id === reservation.keyId);
      if (key?.name !== name) violations.push(`${pk}: name reservation ${name} names no such key`);
    }
    for (const user of users.values()) {
      const userId = String(user.id);
      const held = keys.filter((key) => key.userId === userId).map((key) => String(key.id)).sort();
      const linked = user.keyIds instanceof Set ? [...(user.keyIds as Set<unknown>)].map(String).sort() : [];
      if (user.keyCount !== held.length) violations.push(`${pk}: user ${userId} keyCount ${String(user.keyCount)} but ${held.length} keys`);
      if (canonical(linked) !== canonical(held)) violations.push(`${pk}: user ${userId} keyIds ${linked.join(',')} but keys ${held.join(',')}`);
      if (limits !== undefined && held.length > limits.keysPerUser) violations.push(`${pk}: user ${userId} holds ${held.length} keys`);
    }
  }
  return violations;
}
