import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Stored key digests are HMAC-SHA256(pepper, key). The pepper lives at rest only as KMS
 * ciphertext, so a copy of the table alone cannot be used to test guesses offline.
 * Every digest is stored with its pepper's version so that the pepper can be rotated.
 */
export interface Pepper {
  readonly version: number;
  readonly secret: Uint8Array;
}

export function keyDigest(pepper: Uint8Array, key: string): Buffer {
  return createHmac('sha256', pepper).update(key, 'utf8').digest();
}

/** Constant-time comparison; unequal lengths are unequal without comparing contents. */
export function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The decrypted peppers a container knows, by version. Hashes are verified with the version
 * they were made with; new hashes use the newest.
 */
export class PepperRing {
  readonly #byVersion: ReadonlyMap<number, Uint8Array>;
  readonly current: Pepper;

  constructor(peppers: readonly Pepper[]) {
    const newest = peppers.reduce<Pepper | undefined>((a, p) => (a === undefined || p.version > a.version ? p : a), undefined);
    if (newest === undefined) throw new Error('a pepper ring needs at least one pepper');
    this.current = newest;
    this.#byVersion = new Map(peppers.map((p) => [p.version, p.secret]));
  }

  get(version: number): Uint8Array | undefined {
    return this.#byVersion.get(version);
  }

  /** Digest with the current pepper, for storing. */
  digest(key: string): { readonly hash: Buffer; readonly pepperVersion: number } {
    return { hash: keyDigest(this.current.secret, key), pepperVersion: this.current.version };
  }

  /** Whether `key` matches a stored digest; an unknown pepper version never matches. */
  verify(key: string, hash: Uint8Array, pepperVersion: number): boolean {
    const pepper = this.get(pepperVersion);
    return pepper !== undefined && digestsEqual(keyDigest(pepper, key), hash);
  }
}
