import { createHash } from 'node:crypto';
import { base62FromBytes } from './base62.ts';
import { ID_LENGTH } from './ids.ts';

// Apart from ids.ts so that the ids, and the key format built on them, need no Node module:
// the console checks keys with the same rules in the browser.

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
