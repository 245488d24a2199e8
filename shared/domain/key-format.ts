import { crc32 } from './crc32.ts';
import { encodeBase62, isBase62, randomBase62 } from './base62.ts';
import { ID_LENGTH } from './ids.ts';

/**
 * Key strings follow the GitHub token scheme: `<prefix><body><checksum>`.
 *
 *   account key  lka_<accountId:16><secret:43><crc:6>        69 characters
 *   user key     lks_<accountId:16><keyId:16><secret:43><crc:6>  85 characters
 *
 * - the secret is 43 base62 characters from a CSPRNG (256 bits, i.e. 32 bytes of entropy);
 * - the checksum is CRC32 of everything before it, in base62, six characters;
 * - the ids are not secret. Embedding them (as Slack's tokens do) lets the authorizer fetch
 *   exactly the items it needs in one round trip, and reject a user key of another account
 *   without any read.
 *
 * A value with a wrong prefix, length, alphabet or checksum is rejected here, before any I/O.
 */
export const ACCOUNT_KEY_PREFIX = 'lka_';
export const USER_KEY_PREFIX = 'lks_';
export const SECRET_LENGTH = 43;
export const CHECKSUM_LENGTH = 6;
export const ACCOUNT_KEY_LENGTH = ACCOUNT_KEY_PREFIX.length + ID_LENGTH + SECRET_LENGTH + CHECKSUM_LENGTH;
export const USER_KEY_LENGTH = USER_KEY_PREFIX.length + 2 * ID_LENGTH + SECRET_LENGTH + CHECKSUM_LENGTH;

/** Patterns for secret scanners (also in the README). */
export const ACCOUNT_KEY_PATTERN = /\blka_[0-9A-Za-z]{65}\b/;
export const USER_KEY_PATTERN = /\blks_[0-9A-Za-z]{81}\b/;

export interface ParsedAccountKey {
  readonly kind: 'account';
  readonly accountId: string;
  readonly value: string;
}

export interface ParsedUserKey {
  readonly kind: 'user';
  readonly accountId: string;
  readonly keyId: string;
  readonly value: string;
}

export type KeyFormatFault = 'prefix' | 'length' | 'alphabet' | 'checksum';
export type ParseResult<T> = { readonly ok: true; readonly key: T } | { readonly ok: false; readonly fault: KeyFormatFault };

export function checksum(payload: string): string {
  return encodeBase62(crc32(payload), CHECKSUM_LENGTH);
}

export function formatAccountKey(accountId: string, secret: string = randomBase62(SECRET_LENGTH)): string {
  const payload = `${ACCOUNT_KEY_PREFIX}${accountId}${secret}`;
  return payload + checksum(payload);
}

export function formatUserKey(accountId: string, keyId: string, secret: string = randomBase62(SECRET_LENGTH)): string {
  const payload = `${USER_KEY_PREFIX}${accountId}${keyId}${secret}`;
  return payload + checksum(payload);
}

function checkShape(value: unknown, prefix: string, length: number): KeyFormatFault | undefined {
  if (typeof value !== 'string' || !value.startsWith(prefix)) return 'prefix';
  if (value.length !== length) return 'length';
  const body = value.slice(prefix.length);
  if (!isBase62(body)) return 'alphabet';
  const payload = value.slice(0, length - CHECKSUM_LENGTH);
  if (checksum(payload) !== value.slice(length - CHECKSUM_LENGTH)) return 'checksum';
  return undefined;
}

export function parseAccountKey(value: unknown): ParseResult<ParsedAccountKey> {
  const fault = checkShape(value, ACCOUNT_KEY_PREFIX, ACCOUNT_KEY_LENGTH);
  if (fault !== undefined) return { ok: false, fault };
  const key = value as string;
  const start = ACCOUNT_KEY_PREFIX.length;
  return { ok: true, key: { kind: 'account', accountId: key.slice(start, start + ID_LENGTH), value: key } };
}

export function parseUserKey(value: unknown): ParseResult<ParsedUserKey> {
  const fault = checkShape(value, USER_KEY_PREFIX, USER_KEY_LENGTH);
  if (fault !== undefined) return { ok: false, fault };
  const key = value as string;
  const start = USER_KEY_PREFIX.length;
  return {
    ok: true,
    key: {
      kind: 'user',
      accountId: key.slice(start, start + ID_LENGTH),
      keyId: key.slice(start + ID_LENGTH, start + 2 * ID_LENGTH),
      value: key,
    },
  };
}

/** The account key as `GET /v1/account` shows it: the prefix and the last four characters. */
export function maskAccountKey(accountKey: string): string {
  return `${ACCOUNT_KEY_PREFIX}${'*'.repeat(8)}${accountKey.slice(-4)}`;
}
