import { createHash } from 'node:crypto';
import { BASE62_ALPHABET, randomBase62 } from './base62.ts';

/** Ids are 16 base62 characters (about 95 bits): unguessable, URL-safe, and embeddable in key strings. */
export const ID_LENGTH = 16;
const ID_RE = /^[0-9A-Za-z]{16}$/;

export function newId(): string {
  return randomBase62(ID_LENGTH);
}

export function isId(value: string): boolean {
  return ID_RE.test(value);
}

/**
 * An id of the same form, derived from `parts` (SHA-256, read as base62 as randomBase62 reads
 * random bytes): the same parts always give the same id. For records that must be written once
 * however often their cause is delivered, such as the audit event of a key's expiry.
 */
export function derivedId(...parts: readonly string[]): string {
  let block = createHash('sha256').update(parts.join('\u0000')).digest();
  let out = '';
  while (out.length < ID_LENGTH) {
    for (const byte of block) {
      if (byte >= 248) continue;
      out += BASE62_ALPHABET.charAt(byte % 62);
      if (out.length === ID_LENGTH) break;
    }
    block = createHash('sha256').update(block).digest();
  }
  return out;
}
