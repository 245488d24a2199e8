import { describe, expect, it } from 'vitest';
import { PermissionNotGrantedError, ValidationError } from '#shared/domain/errors.ts';
import { assertRoleGrants, validateKeyPermissions } from '#shared/domain/key-permissions.ts';
import { MAX_KEY_PERMISSIONS } from '#shared/domain/permissions.ts';

/** A key's restriction as every entry point takes it (API, admin CLI): the rule broken and the value, named. */

const KNOWN = new Set(['logs:read', 'api-keys:read', 'api-keys:write', 'widgets:read']);

function refusal(list: readonly string[]): ValidationError {
  try {
    validateKeyPermissions(list, KNOWN);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('not refused');
}

describe('validateKeyPermissions', () => {
  it('keeps null (unrestricted) and a valid list as given', () => {
    expect(validateKeyPermissions(null, KNOWN)).toBeNull();
    expect(validateKeyPermissions(['widgets:read', 'logs:read'], KNOWN)).toEqual(['widgets:read', 'logs:read']);
  });

  it.each([
    ['empty', [], 'empty', 'at least one'],
    ['malformed', ['Logs:Read'], 'pattern', "'Logs:Read'"],
    ['a control character, quoted harmlessly', ['logs:\nread'], 'pattern', "'logs:?read'"],
    ['duplicate', ['logs:read', 'logs:read'], 'duplicate', "'logs:read'"],
    ['unknown', ['gadgets:read'], 'unknown', "'gadgets:read'"],
    ['too many', Array.from({ length: MAX_KEY_PERMISSIONS + 1 }, () => 'logs:read'), 'max-items', `${MAX_KEY_PERMISSIONS}`],
  ])('refuses %s, naming the rule and the value', (_case, list, rule, named) => {
    const error = refusal(list);
    expect(error).toMatchObject({ field: 'permissions', rule });
    expect(error.message).toContain(named);
  });
});

describe('assertRoleGrants', () => {
  it("refuses a permission the role does not grant, naming it; passes what it grants and null", () => {
    expect(() => { assertRoleGrants('viewer', ['logs:read', 'widgets:read']); }).not.toThrow();
    expect(() => { assertRoleGrants('viewer', null); }).not.toThrow();
    expect(() => { assertRoleGrants('viewer', ['logs:read', 'api-keys:write']); }).toThrow(PermissionNotGrantedError);
    expect(() => { assertRoleGrants('logs-viewer', ['widgets:read']); }).toThrow(/'widgets:read'/);
    expect(() => { assertRoleGrants('owner', ['api-keys:write', 'widgets:read']); }).not.toThrow();
  });
});
