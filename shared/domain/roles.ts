/** Every role a user of an account can have (the console's roles). */
export const ROLES = ['owner', 'manager', 'member', 'viewer', 'logs-viewer', 'billing-admin'] as const;
export type Role = (typeof ROLES)[number];

/** Only these roles may hold API keys; a key whose user has any other role authenticates nobody. */
export const KEY_ROLES = ['owner', 'viewer', 'logs-viewer'] as const;
export type KeyRole = (typeof KEY_ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function canHoldKeys(role: string): role is KeyRole {
  return (KEY_ROLES as readonly string[]).includes(role);
}
