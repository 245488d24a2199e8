import { randomBase62 } from './base62.ts';

/** Ids are 16 base62 characters (about 95 bits): unguessable, URL-safe, and embeddable in key strings. */
export const ID_LENGTH = 16;
const ID_RE = /^[0-9A-Za-z]{16}$/;

export function newId(): string {
  return randomBase62(ID_LENGTH);
}

export function isId(value: string): boolean {
  return ID_RE.test(value);
}
