import { createHash } from 'node:crypto';
import { base62FromBytes, randomBase62 } from './base62.ts';

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
 * An id of the same form, derived from `parts` (SHA-256, then SHA-256 of the previous block
 * while more bytes are needed, read as randomBase62 reads random bytes): the same parts always
 * give the same id. For records that must be written once however often their cause is
 * delivered, such as the audit event of a key's expiry.
 */
export function derivedId(...parts: readonly string[]): string {
  let block: Buffer | undefined;
  return base62FromBytes(ID_LENGTH, () => {
    block = createHash('sha256').update(block ?? parts.join('\u0000')).digest();
    return block;
  });
}
