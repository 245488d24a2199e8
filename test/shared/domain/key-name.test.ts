import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '#shared/domain/errors.ts';
import { KEY_NAME_MAX, KEY_NAME_MIN, validateKeyName } from '#shared/domain/key-name.ts';

function refusal(action: () => unknown): ValidationError {
  try {
    action();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError, but the value was accepted');
}

describe('validateKeyName', () => {
  it.each(['a'.repeat(10), 'Z'.repeat(50), 'ci-deploy_2024', 'ABCdef0123-_', '0123456789'])('accepts %j', (name) => {
    expect(validateKeyName(name)).toBe(name);
  });

  it('has the documented bounds', () => {
    expect([KEY_NAME_MIN, KEY_NAME_MAX]).toEqual([10, 50]);
  });

  it.each([
    ['9 characters', 'a'.repeat(9)],
    ['51 characters', 'a'.repeat(51)],
    ['nothing', ''],
  ])('refuses %s with the length rule', (_label, name) => {
    const error = refusal(() => validateKeyName(name));
    expect(error.rule).toBe('length');
    expect(error.field).toBe('name');
    expect(error.message).toContain('name');
  });

  it.each([
    ['a space', 'deploy key 01'],
    ['a dot', 'deploy.key.01'],
    ['a slash', 'deploy/key/01'],
    ['an accented letter', 'déploiement-01'],
    ['an emoji', 'deploy-key-😀'],
    ['a trailing newline', 'deploy-key-01\n'],
    ['a NUL', 'deploy-key\u000001'],
    ['a non-ASCII digit', 'deploy-key-٠١'],
  ])('refuses %s with the pattern rule', (_label, name) => {
    const error = refusal(() => validateKeyName(name));
    expect(error.rule).toBe('pattern');
    expect(error.field).toBe('name');
  });

  it.each([undefined, null, 1234567890, ['a'.repeat(12)], { name: 'a'.repeat(12) }, true])('refuses the non-string %o with the type rule', (value) => {
    const error = refusal(() => validateKeyName(value));
    expect(error.rule).toBe('type');
    expect(error.field).toBe('name');
  });

  it('names the field it was given', () => {
    const error = refusal(() => validateKeyName('short', 'newName'));
    expect(error.field).toBe('newName');
    expect(error.message).toContain('newName');
  });

  it('accepts exactly the names of 10-50 characters from [A-Za-z0-9_-] (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 60 }), fc.stringMatching(/^[\w-]{8,52}$/)), (name) => {
        const valid = /^[A-Za-z0-9_-]{10,50}$/.test(name);
        if (valid) expect(validateKeyName(name)).toBe(name);
        else expect(refusal(() => validateKeyName(name)).field).toBe('name');
      }),
      { numRuns: 2000 },
    );
  });

  it('throws nothing but ValidationError for input of any type (property)', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        try {
          validateKeyName(value);
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
