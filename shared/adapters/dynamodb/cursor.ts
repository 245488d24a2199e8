import { ValidationError } from '../../domain/errors.ts';

/**
 * Page cursors are the query's LastEvaluatedKey as base64url JSON. A cursor comes back from
 * the caller, so it is untrusted: decoding accepts only exactly the key attributes of the
 * query being continued, inside the caller's own partition. Anything else (another account's
 * partition, another kind of item, extra attributes) is a 400, never a read elsewhere and
 * never a 500.
 */
export interface CursorShape {
  readonly pk: string;
  /** The sort key must start with this (and have something after it). */
  readonly skPrefix: string;
  /** For a query on the byUser index: its partition key value; the index sort key equals `sk`. */
  readonly indexPk?: string;
}

const MAX_CURSOR_LENGTH = 2048;
const MAX_ATTRIBUTE_LENGTH = 512;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** Every key this table writes is printable ASCII; anything else is not ours (and may be past DynamoDB's byte limits). */
const KEY_VALUE = /^[\x21-\x7e]+$/;

export function encodeCursor(lastEvaluatedKey: Record<string, unknown> | undefined): string | null {
  if (lastEvaluatedKey === undefined || Object.keys(lastEvaluatedKey).length === 0) return null;
  return Buffer.from(JSON.stringify(lastEvaluatedKey), 'utf8').toString('base64url');
}

function invalid(): ValidationError {
  return new ValidationError('cursor', 'format', 'cursor is not one this listing returned');
}

export function decodeCursor(cursor: string, shape: CursorShape): Record<string, string> {
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !BASE64URL.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid();
  const expected = shape.indexPk === undefined ? ['pk', 'sk'] : ['gsi1pk', 'gsi1sk', 'pk', 'sk'];
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.length !== expected.length) throw invalid();
  const key: Record<string, string> = {};
  for (const [name, value] of entries) {
    if (!expected.includes(name) || typeof value !== 'string' || value.length > MAX_ATTRIBUTE_LENGTH || !KEY_VALUE.test(value)) {
      throw invalid();
    }
    key[name] = value;
  }
  const sk = key.sk ?? '';
  if (key.pk !== shape.pk || !sk.startsWith(shape.skPrefix) || sk.length === shape.skPrefix.length) throw invalid();
  if (shape.indexPk !== undefined && (key.gsi1pk !== shape.indexPk || key.gsi1sk !== sk)) throw invalid();
  return key;
}

/** The attributes that locate an item in the query `shape` describes: the cursor a page ends on. */
function keyOf(item: Record<string, unknown>, shape: CursorShape): Record<string, unknown> {
  const names = shape.indexPk === undefined ? ['pk', 'sk'] : ['gsi1pk', 'gsi1sk', 'pk', 'sk'];
  return Object.fromEntries(names.map((name) => [name, item[name]]));
}

/**
 * A page of at most `limit` items from a query that asked for `limit + 1`: the extra item only
 * proves that more follow, and the cursor then points after the last item shown. Without an
 * extra item the page is the last one, unless DynamoDB stopped early (its 1 MB cap), in which
 * case its own LastEvaluatedKey continues the listing.
 */
export function pageFromQuery<T>(
  items: readonly Record<string, unknown>[],
  lastEvaluatedKey: Record<string, unknown> | undefined,
  limit: number,
  shape: CursorShape,
  map: (item: Record<string, unknown>) => T,
): { readonly items: T[]; readonly nextCursor: string | null } {
  const shown = items.slice(0, limit);
  const last = shown.at(-1);
  if (items.length > limit && last !== undefined) return { items: shown.map(map), nextCursor: encodeCursor(keyOf(last, shape)) };
  return { items: shown.map(map), nextCursor: encodeCursor(lastEvaluatedKey) };
}
