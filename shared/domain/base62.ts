export const BASE62_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE62_RE = /^[0-9A-Za-z]*$/;

export function isBase62(value: string): boolean {
  return BASE62_RE.test(value);
}

/**
 * `length` characters drawn uniformly from the base62 alphabet with a CSPRNG: Web Crypto's
 * `getRandomValues` (global in Node and in browsers), so that the domain needs no Node module
 * and the console can take its key rules from here.
 */
export function randomBase62(length: number): string {
  // getRandomValues fills at most 65,536 bytes a call; base62FromBytes asks again while short.
  const block = Math.min(length * 2, 65_536);
  return base62FromBytes(length, () => crypto.getRandomValues(new Uint8Array(block)));
}

/**
 * `length` base62 characters read from the blocks of bytes `next` hands out, one block after
 * another until there are enough. Rejection sampling (bytes >= 248 are dropped) keeps every
 * character uniform: a plain `byte % 62` would favour the first eight characters.
 */
export function base62FromBytes(length: number, next: () => Uint8Array): string {
  let out = '';
  while (out.length < length) {
    for (const byte of next()) {
      if (byte < 248) {
        out += BASE62_ALPHABET.charAt(byte % 62);
        if (out.length === length) break;
      }
    }
  }
  return out;
}

/** A non-negative integer in base62, left-padded with '0' to `width` characters. */
export function encodeBase62(value: number, width: number): string {
  // A negative value never reaches zero below (the loop would not end) and a fractional or
  // unsafe one encodes digits that were never there: refuse both rather than return garbage.
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError('encodeBase62 takes a non-negative safe integer');
  let n = value;
  let out = '';
  do {
    out = BASE62_ALPHABET.charAt(n % 62) + out;
    n = Math.floor(n / 62);
  } while (n > 0);
  return out.padStart(width, '0');
}
