import { ValidationError } from './errors.ts';

/**
 * Rules of a key's life: when it may be set to expire, and until when a secret replaced by a
 * roll keeps working. Pure; the clock is always passed in.
 */

/** The furthest a key's expiry may be set ahead (a year and a day, as GitHub's fine-grained tokens). */
export const MAX_KEY_LIFETIME_DAYS = 366;
const DAY_MS = 86_400_000;

/**
 * `expiresAt` as sent (RFC 3339, any offset, already checked for shape) normalised to UTC ISO
 * 8601, if it lies in the future and at most MAX_KEY_LIFETIME_DAYS ahead of `now`.
 */
export function validateKeyExpiry(expiresAt: string, now: Date, field = 'expiresAt'): string {
  const at = Date.parse(expiresAt);
  if (Number.isNaN(at)) throw new ValidationError(field, 'datetime', `${field} must be an RFC 3339 date-time`);
  if (at <= now.getTime()) throw new ValidationError(field, 'future', `${field} must be in the future`);
  if (at > now.getTime() + MAX_KEY_LIFETIME_DAYS * DAY_MS) {
    throw new ValidationError(field, 'maximum', `${field} must be at most ${MAX_KEY_LIFETIME_DAYS} days ahead`);
  }
  return new Date(at).toISOString();
}

/** Whether a key with this expiry (ISO 8601, null = never) has expired at `now`. */
export function hasExpired(expiresAt: string | null | undefined, now: Date): boolean {
  return expiresAt !== null && expiresAt !== undefined && Date.parse(expiresAt) <= now.getTime();
}

/**
 * Until when the secret a roll replaces keeps working: `gracePeriodSeconds` from `now`, but
 * never past the key's own expiry. Undefined for a grace of 0: it stops at once.
 */
export function graceDeadline(now: Date, gracePeriodSeconds: number, keyExpiresAt?: string | null): string | undefined {
  if (gracePeriodSeconds === 0) return undefined;
  const end = now.getTime() + gracePeriodSeconds * 1000;
  const expiry = keyExpiresAt === null || keyExpiresAt === undefined ? Number.POSITIVE_INFINITY : Date.parse(keyExpiresAt);
  return new Date(Math.min(end, expiry)).toISOString();
}
