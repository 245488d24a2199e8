import { describe, expect, it } from 'vitest';
import { canHoldKeys, isRole, KEY_ROLES, ROLES } from '#shared/domain/roles.ts';

describe('roles', () => {
  it('are the six console roles', () => {
    expect([...ROLES].sort()).toEqual(['billing-admin', 'logs-viewer', 'manager', 'member', 'owner', 'viewer']);
  });

  it.each([
    ['owner', true],
    ['viewer', true],
    ['logs-viewer', true],
    ['manager', false],
    ['member', false],
    ['billing-admin', false],
  ])('%s may hold keys: %s', (role, allowed) => {
    expect(isRole(role)).toBe(true);
    expect(canHoldKeys(role)).toBe(allowed);
  });

  it('only owner, viewer and logs-viewer may hold keys', () => {
    expect([...KEY_ROLES].sort()).toEqual(['logs-viewer', 'owner', 'viewer']);
    expect(ROLES.filter((role) => canHoldKeys(role)).sort()).toEqual(['logs-viewer', 'owner', 'viewer']);
  });

  it.each(['Owner', 'OWNER', ' owner', 'owner ', 'admin', '', 'toString', '__proto__'])('an unknown role %j is neither a role nor may hold keys', (value) => {
    expect(isRole(value)).toBe(false);
    expect(canHoldKeys(value)).toBe(false);
  });

  it.each([undefined, null, 1, {}, ['owner']])('a non-string %o is not a role', (value) => {
    expect(isRole(value)).toBe(false);
  });
});
