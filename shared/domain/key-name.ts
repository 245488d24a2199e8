import { ValidationError } from './errors.ts';

export const KEY_NAME_MIN = 10;
export const KEY_NAME_MAX = 50;
const KEY_NAME_RE = /^[A-Za-z0-9_-]+$/;

/** A user key's name: 10-50 characters of letters, digits, hyphens and underscores (no spaces). */
export function validateKeyName(value: unknown, field = 'name'): string {
  if (typeof value !== 'string') {
    throw new ValidationError(field, 'type', `${field} must be a string`);
  }
  if (value.length < KEY_NAME_MIN || value.length > KEY_NAME_MAX) {
    throw new ValidationError(field, 'length', `${field} must be between ${KEY_NAME_MIN} and ${KEY_NAME_MAX} characters long (got ${value.length})`);
  }
  if (!KEY_NAME_RE.test(value)) {
    throw new ValidationError(field, 'pattern', `${field} may contain only letters, digits, hyphens and underscores; spaces are not allowed`);
  }
  return value;
}
