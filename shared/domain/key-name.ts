import { ValidationError } from './errors.ts';

export const KEY_NAME_MIN = 10;
export const KEY_NAME_MAX = 50;
const KEY_NAME_RE = /^[A-Za-z0-9_-]+$/;

/** Which part of the name rule a name breaks, if any: the API and the console check the same rule. */
export function keyNameRuleBroken(value: string): 'length' | 'pattern' | undefined {
  if (value.length < KEY_NAME_MIN || value.length > KEY_NAME_MAX) return 'length';
  if (!KEY_NAME_RE.test(value)) return 'pattern';
  return undefined;
}

/** A user key's name: 10-50 characters of letters, digits, hyphens and underscores (no spaces). */
export function validateKeyName(value: unknown, field = 'name'): string {
  if (typeof value !== 'string') {
    throw new ValidationError(field, 'type', `${field} must be a string`);
  }
  const broken = keyNameRuleBroken(value);
  if (broken === 'length') {
    throw new ValidationError(field, 'length', `${field} must be between ${KEY_NAME_MIN} and ${KEY_NAME_MAX} characters long (got ${value.length})`);
  }
  if (broken === 'pattern') {
    throw new ValidationError(field, 'pattern', `${field} may contain only letters, digits, hyphens and underscores; spaces are not allowed`);
  }
  return value;
}
